"""Make the audit trail append-only in the database itself, not only in the ORM.

Raw SQL, the admin, a shell: nothing can edit or delete an audit event. The one change allowed
is what foreign keys need when a user or tenant is deleted: the reference may become NULL
(the event keeps its actor label, action, target and details).
"""

from django.db import migrations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit events are append-only';
    END IF;
    IF (NEW.id, NEW.actor_label, NEW.action, NEW.target_type, NEW.target_id, NEW.details::text, NEW.created_at)
        IS DISTINCT FROM
       (OLD.id, OLD.actor_label, OLD.action, OLD.target_type, OLD.target_id, OLD.details::text, OLD.created_at)
       OR (NEW.tenant_id IS DISTINCT FROM OLD.tenant_id AND NEW.tenant_id IS NOT NULL)
       OR (NEW.actor_user_id IS DISTINCT FROM OLD.actor_user_id AND NEW.actor_user_id IS NOT NULL) THEN
        RAISE EXCEPTION 'audit events are append-only';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
PG_TRIGGER = """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON qa_app_auditevent
FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""
SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON qa_app_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    """,
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON qa_app_auditevent
    WHEN NEW.id IS NOT OLD.id OR NEW.actor_label IS NOT OLD.actor_label OR NEW.action IS NOT OLD.action
      OR NEW.target_type IS NOT OLD.target_type OR NEW.target_id IS NOT OLD.target_id
      OR NEW.details IS NOT OLD.details OR NEW.created_at IS NOT OLD.created_at
      OR (NEW.tenant_id IS NOT OLD.tenant_id AND NEW.tenant_id IS NOT NULL)
      OR (NEW.actor_user_id IS NOT OLD.actor_user_id AND NEW.actor_user_id IS NOT NULL)
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    """,
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        schema_editor.execute(PG_TRIGGER)
    elif vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON qa_app_auditevent")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0008_verdict"),
        ("qa_app", "0002_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
