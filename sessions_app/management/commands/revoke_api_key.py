from django.core.management.base import BaseCommand, CommandError

from sessions_app.models import ApiKey
from sessions_app.services import api_key_revoke


class Command(BaseCommand):
    help = "Revoke an API key by its prefix (the part after 'vsk_'); the whole key is accepted too."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix, **options):
        if prefix.startswith("vsk_"):
            prefix = prefix.split("_")[1] if prefix.count("_") >= 2 else prefix[4:]
        api_key = ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()
        if api_key is None:
            raise CommandError(f"No API key with prefix {prefix!r}.")
        already = api_key.revoked_at is not None
        api_key_revoke(api_key=api_key)
        state = "was already revoked" if already else "revoked"
        self.stdout.write(f"Key {api_key.prefix} ({api_key.name}, tenant {api_key.tenant.slug}) {state}.")
