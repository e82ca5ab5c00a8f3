"""Tenants created since 0004 got the default failure taxonomy on their first read; reads no longer
write (issue 14), so any tenant still without one gets it here, as new tenants do on creation."""

from django.db import migrations


def seed_missing(apps, schema_editor):
    from qa_app.models import DEFAULT_FAILURE_CATEGORIES

    Tenant = apps.get_model("sessions_app", "Tenant")
    FailureCategory = apps.get_model("qa_app", "FailureCategory")
    bare = Tenant.objects.exclude(pk__in=FailureCategory.objects.values("tenant_id"))
    FailureCategory.objects.bulk_create(
        [
            FailureCategory(
                tenant=tenant, name=name, label=label, severity=severity, description=text, position=position
            )
            for tenant in bare
            for position, (name, label, severity, text) in enumerate(DEFAULT_FAILURE_CATEGORIES)
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("qa_app", "0011_stale_rollup_day_moved_to_sessions_app")]

    operations = [migrations.RunPython(seed_missing, migrations.RunPython.noop)]
