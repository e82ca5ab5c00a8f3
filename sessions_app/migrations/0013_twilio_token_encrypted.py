"""Tenants' Twilio auth tokens are encrypted at rest (sessions_app/encryption.py).

The column widens to text (a Fernet token is longer than the 128 characters allowed before) and
every plaintext token in it is encrypted with the configured key. Reversing decrypts them back;
one that can't be decrypted stops the reversal rather than being lost.
"""

from django.db import migrations

import sessions_app.encryption
from sessions_app.encryption import PREFIX, Ciphertext, decrypt, encrypt


def encrypt_tokens(apps, schema_editor):
    Tenant = apps.get_model("sessions_app", "Tenant")
    stored = Tenant.objects.exclude(twilio_auth_token="").values_list("pk", "twilio_auth_token")
    for pk, value in stored:
        if not value.stored.startswith(PREFIX):
            # Written as a Ciphertext so the field stores exactly this, encrypted once.
            Tenant.objects.filter(pk=pk).update(twilio_auth_token=Ciphertext(encrypt(value.stored)))


def decrypt_tokens(apps, schema_editor):
    Tenant = apps.get_model("sessions_app", "Tenant")
    stored = Tenant.objects.exclude(twilio_auth_token="").values_list("pk", "twilio_auth_token")
    for pk, value in stored:
        if value.stored.startswith(PREFIX):
            plaintext = decrypt(value.stored, label=f"The Twilio auth token of tenant {pk}")
            Tenant.objects.filter(pk=pk).update(twilio_auth_token=Ciphertext(plaintext))


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0012_covering_tool_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="tenant",
            name="twilio_auth_token",
            field=sessions_app.encryption.EncryptedTextField(
                blank=True, default="", help_text="Used to verify X-Twilio-Signature; never displayed in full."
            ),
        ),
        migrations.RunPython(encrypt_tokens, decrypt_tokens, elidable=False),
    ]
