from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from sessions_app.errors import ServiceError
from sessions_app.models import Scope, Tenant
from sessions_app.services import api_key_create


class Command(BaseCommand):
    help = "Create a tenant API key. The key alone goes to stdout (for scripts); the rest to stderr."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Tenant slug.")
        parser.add_argument("--name", required=True, help="What the key is for, e.g. 'crm-sync'.")
        parser.add_argument(
            "--scopes",
            default=Scope.SESSIONS_READ.value,
            help=f"Comma-separated; any of: {', '.join(Scope.values)}.",
        )
        parser.add_argument(
            "--expires-at", default=None, help="ISO 8601 date-time; the key stops working then."
        )

    def handle(self, *args, tenant, name, scopes, expires_at, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        expires = None
        if expires_at:
            expires = parse_datetime(expires_at)
            if expires is None:
                raise CommandError("--expires-at must be an ISO 8601 date-time.")
        try:
            api_key, raw = api_key_create(
                tenant=found,
                name=name,
                scopes=[scope.strip() for scope in scopes.split(",") if scope.strip()],
                expires_at=expires,
            )
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stderr.write(
            f"Created key {api_key.prefix} for {found.slug} with scopes {','.join(api_key.scopes)}. "
            "It is shown once; store it now."
        )
        self.stdout.write(raw)
