"""Apply each tenant's retention policy. Safe to rerun; schedule it daily (see README)."""

from django.core.management.base import BaseCommand, CommandError

from sessions_app.models import Tenant
from sessions_app.retention import DEFAULT_BATCH_SIZE, tenant_purge_expired


class Command(BaseCommand):
    help = (
        "Remove the raw conversation (transcript text, tool payloads, numbers, summary) of sessions past "
        "their tenant's retention_days, keeping a stub with metadata, tags and evaluations; --hard deletes "
        "the sessions entirely."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be purged; change nothing."
        )
        parser.add_argument("--tenant", help="Only this tenant (slug).")
        parser.add_argument(
            "--hard", action="store_true", help="Delete expired sessions instead of stubbing them."
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args, dry_run, tenant, hard, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        tenants = Tenant.objects.order_by("slug")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {tenant!r}.")
        verb = "would purge" if dry_run else ("deleted" if hard else "purged")
        total = 0
        for found in tenants:
            result = tenant_purge_expired(tenant=found, hard=hard, dry_run=dry_run, batch_size=batch_size)
            if result is None:
                self.stdout.write(f"{found.slug}: keeps data forever (no retention_days); skipped.")
                continue
            total += result.sessions
            self.stdout.write(
                f"{found.slug}: {verb} {result.sessions} session(s), {result.turns} turn(s), "
                f"{result.function_calls} function call(s) started before {result.cutoff:%Y-%m-%d %H:%M} UTC"
                + (f" in {result.batches} batch(es)." if not dry_run else ".")
            )
        self.stdout.write(f"Total: {verb} {total} session(s).")
