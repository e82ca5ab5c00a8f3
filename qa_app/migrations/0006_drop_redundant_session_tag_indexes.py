import django.db.models.deletion
from django.db import migrations, models

# Covered by the composite indexes that lead with the same column: session_tag_once
# (session_id, tag_id) and session_tag_tenant_tag (tenant_id, tag_id, session_id). With both
# present the planner sometimes chose the single-column one for the tag filter.
DROPPED = [
    ("qa_app_sessiontag_session_id_f5bd3252", "qa_app_sessiontag", "session_id"),
    ("qa_app_sessiontag_tenant_id_85117e93", "qa_app_sessiontag", "tenant_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("qa_app", "0005_contracts_and_readiness"),
        ("sessions_app", "0012_covering_tool_index"),
    ]

    # Only the indexes go; the foreign key constraints stay (see sessions_app 0011).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="sessiontag",
                    name="session",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="session_tags",
                        to="sessions_app.voicesession",
                    ),
                ),
                migrations.AlterField(
                    model_name="sessiontag",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="sessions_app.tenant",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}", reverse_sql=f"CREATE INDEX {name} ON {table} ({column})"
                )
                for name, table, column in DROPPED
            ],
        ),
    ]
