"""qa_app's StaleRollupDay is sessions_app's ChangedDay now (its migration 0015); state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("qa_app", "0010_audit_event_moved_to_sessions_app"),
        ("sessions_app", "0015_changed_day_moved_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="StaleRollupDay")],
            database_operations=[],
        ),
    ]
