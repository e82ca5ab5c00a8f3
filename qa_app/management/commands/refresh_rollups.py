"""Recompute the dashboard rollups' stale days ahead of the next read; --rebuild starts from nothing."""

import time

from django.core.management.base import BaseCommand, CommandError

from qa_app import rollups
from sessions_app.models import Tenant


class Command(BaseCommand):
    help = (
        "Recompute the stale days of the dashboard rollups for every tenant (or one), so the next "
        "dashboard read finds nothing to do. Writes mark days stale and the dashboard recomputes them "
        "on read, so this is optional: run it after a large import or on a schedule. --rebuild drops a "
        "tenant's rollups and recomputes every day from the sessions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Only this tenant (slug).")
        parser.add_argument("--rebuild", action="store_true", help="Recompute every day.")

    def handle(self, *args, tenant, rebuild, **options):
        tenants = Tenant.objects.order_by("slug")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {tenant!r}.")
        total = 0
        for found in tenants:
            began = time.perf_counter()
            days = rollups.rebuild(found.pk) if rebuild else rollups.refresh(found.pk)
            total += days
            self.stdout.write(
                f"{found.slug}: {'rebuilt' if rebuild else 'refreshed'} {days} day(s) "
                f"in {time.perf_counter() - began:.1f} s."
            )
        self.stdout.write(f"Total: {total} day(s).")
