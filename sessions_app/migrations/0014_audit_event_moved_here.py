"""The audit trail belongs to the record, so its model moved from qa_app to sessions_app.

Only Django's state moves: the table keeps its name (``qa_app_auditevent``), its
rows, its indexes and the append-only triggers from 0009. The content type is
renamed in place so permissions granted on audit events keep pointing at them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, *, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label=target, model="auditevent").exists():
        return
    ContentType.objects.using(db).filter(app_label=source, model="auditevent").update(app_label=target)


def forwards(apps, schema_editor):
    move_content_type(apps, schema_editor, source="qa_app", target="sessions_app")


def backwards(apps, schema_editor):
    move_content_type(apps, schema_editor, source="sessions_app", target="qa_app")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("sessions_app", "0013_twilio_token_encrypted"),
        ("qa_app", "0009_tenant_invitation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("actor_label", models.CharField(max_length=150)),
                        ("action", models.CharField(max_length=64)),
                        ("target_type", models.CharField(blank=True, default="", max_length=64)),
                        ("target_id", models.CharField(blank=True, default="", max_length=128)),
                        ("details", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "actor_user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "tenant",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="sessions_app.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "qa_app_auditevent",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(fields=["tenant", "-created_at", "-id"], name="audit_tenant_created"),
                            models.Index(fields=["tenant", "action", "-created_at"], name="audit_tenant_action"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
