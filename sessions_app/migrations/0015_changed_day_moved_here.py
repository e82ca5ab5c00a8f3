"""The marks of changed days are the record's promise, so the model moved here from qa_app.

qa_app's ``StaleRollupDay`` is sessions_app's ``ChangedDay`` now; only Django's state moves (the
table ``qa_app_stalerollupday``, its rows and its constraint stay), and the content type is
renamed in place.
"""

import django.db.models.deletion
from django.db import migrations, models


def move_content_type(apps, schema_editor, *, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label=target[0], model=target[1]).exists():
        return
    ContentType.objects.using(db).filter(app_label=source[0], model=source[1]).update(
        app_label=target[0], model=target[1]
    )


def forwards(apps, schema_editor):
    move_content_type(apps, schema_editor, source=("qa_app", "stalerollupday"), target=("sessions_app", "changedday"))


def backwards(apps, schema_editor):
    move_content_type(apps, schema_editor, source=("sessions_app", "changedday"), target=("qa_app", "stalerollupday"))


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("sessions_app", "0014_audit_event_moved_here"),
        ("qa_app", "0010_audit_event_moved_to_sessions_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ChangedDay",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("day", models.DateField()),
                        ("marked_at", models.DateTimeField()),
                        (
                            "tenant",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="sessions_app.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "qa_app_stalerollupday",
                        "constraints": [
                            models.UniqueConstraint(fields=("tenant", "day"), name="stale_rollup_day_once")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
