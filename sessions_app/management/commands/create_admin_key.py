from django.core.management.base import BaseCommand

from sessions_app.services import admin_key_create


class Command(BaseCommand):
    help = "Create a platform admin key for x-admin-key. The key alone goes to stdout; the rest to stderr."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="What the key is for, e.g. 'provisioning'.")

    def handle(self, *args, name, **options):
        admin_key, raw = admin_key_create(name=name)
        self.stderr.write(
            f"Created platform admin key {admin_key.prefix} ({name}). It is accepted only under "
            "/api/v1/admin/ in the x-admin-key header, and shown once: store it now."
        )
        self.stdout.write(raw)
