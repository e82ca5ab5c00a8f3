"""Re-encrypt every secret at rest with the first of ENCRYPTION_KEYS.

Rotation: put the new key first in ENCRYPTION_KEYS (keeping the old one after it), restart, run
this, then drop the old key. ``--from-secret-key`` also opens values written while
ENCRYPTION_KEYS was unset (encrypted with the key derived from SECRET_KEY), for the first switch
to configured keys. A value no key opens is reported by row and left as it is; the command then
exits non-zero so a rotation script stops before the old key is removed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sessions_app.encryption import PREFIX, Ciphertext, UndecryptableSecret, encrypted_fields, rotate


class Command(BaseCommand):
    help = "Re-encrypt stored secrets (tenants' Twilio auth tokens) with the first ENCRYPTION_KEYS key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--from-secret-key",
            action="store_true",
            help="Also decrypt values encrypted with the SECRET_KEY-derived key (before ENCRYPTION_KEYS).",
        )

    def handle(self, *args, from_secret_key: bool, **options):
        if from_secret_key and not settings.ENCRYPTION_KEYS:
            raise CommandError("--from-secret-key needs ENCRYPTION_KEYS set: there is nothing to move to.")
        rotated, unreadable = 0, []
        for field in encrypted_fields():
            model = field.model
            with transaction.atomic():
                rows = (
                    model._base_manager.select_for_update()
                    .exclude(**{field.name: ""})
                    .exclude(**{f"{field.name}__isnull": True})
                    .values_list("pk", field.name)
                )
                for pk, value in rows:
                    label = f"{model._meta.label}.{field.name} of row {pk}"
                    try:
                        if not value.stored.startswith(PREFIX):
                            raise UndecryptableSecret(label)  # a plaintext is never trusted
                        token = rotate(value.stored, with_derived_key=from_secret_key)
                    except UndecryptableSecret:
                        unreadable.append(label)
                        continue
                    model._base_manager.filter(pk=pk).update(**{field.name: Ciphertext(token)})
                    rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} secret(s) with the first ENCRYPTION_KEYS key.")
        if unreadable:
            for label in unreadable:
                self.stderr.write(f"  can't be decrypted, left as is: {label}")
            raise CommandError(
                f"{len(unreadable)} secret(s) can't be decrypted with the configured keys; "
                "keep the old key until they are fixed."
            )
