from django.core.management.base import BaseCommand, CommandError

from sessions_app.errors import ServiceError
from sessions_app.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="")
        parser.add_argument("--retention-days", type=int, default=None)
        parser.add_argument("--redact-on-ingest", action="store_true")
        parser.add_argument(
            "--twilio-auth-token", default="", help="Used to verify Twilio webhook signatures."
        )

    def handle(self, *args, slug, name, retention_days, redact_on_ingest, twilio_auth_token, **options):
        if retention_days is not None and retention_days < 1:
            raise CommandError("--retention-days must be at least 1.")
        try:
            tenant = tenant_create(
                slug=slug,
                name=name,
                retention_days=retention_days,
                redact_on_ingest=redact_on_ingest,
                twilio_auth_token=twilio_auth_token,
            )
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.name}).")
