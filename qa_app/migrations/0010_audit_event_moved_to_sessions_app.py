"""The audit trail moved to sessions_app (its migration 0014); only qa_app's state lets go of it.

The table, its rows, indexes and triggers stay exactly where they are.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("qa_app", "0009_tenant_invitation"),
        ("sessions_app", "0014_audit_event_moved_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
            database_operations=[],
        ),
    ]
