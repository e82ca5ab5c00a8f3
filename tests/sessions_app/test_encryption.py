"""Tenants' Twilio auth tokens are encrypted at rest, read back for signatures, and rotatable."""

from __future__ import annotations

import importlib
import io
import json

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from sessions_app import encryption
from sessions_app.encryption import UndecryptableSecret, check_encryption_keys, check_encryption_keys_set
from sessions_app.models import CallEvent, CallLog, Tenant
from sessions_app.services import admin_key_create
from tests.sessions_app.test_webhooks import CALL_SID, call_status_params

pytestmark = pytest.mark.django_db
TOKEN = "0123456789abcdef0123456789abcdef"
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def stored_token(tenant: Tenant) -> str:
    """The column as the database holds it, read around the ORM."""
    table = connection.ops.quote_name(Tenant._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT twilio_auth_token FROM {table} WHERE id = %s", [tenant.pk])
        return cursor.fetchone()[0]


def write_column(tenant: Tenant, value: str) -> None:
    table = connection.ops.quote_name(Tenant._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET twilio_auth_token = %s WHERE id = %s", [value, tenant.pk])


def signed_call_status(token: str = TOKEN):
    path = "/webhooks/twilio/acme/call-status"
    params = call_status_params("ringing", 0)
    signature = RequestValidator(token).compute_signature(f"http://testserver{path}", params)
    return Client().post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def twilio_tenant(tenant):
    tenant.twilio_auth_token = TOKEN
    tenant.save()
    return tenant


def test_the_column_holds_a_fernet_token_never_the_plaintext(twilio_tenant):
    raw = stored_token(twilio_tenant)
    assert raw.startswith("fernet:") and TOKEN not in raw
    assert Tenant.objects.get(pk=twilio_tenant.pk).twilio_auth_token == TOKEN
    # Each encryption is randomised: saving again changes the stored form, not the value.
    twilio_tenant.twilio_auth_token = TOKEN
    twilio_tenant.save()
    assert stored_token(twilio_tenant) != raw
    assert Tenant.objects.get(pk=twilio_tenant.pk).twilio_auth_token == TOKEN


def test_an_empty_token_stays_empty_and_is_searchable_as_such(tenant):
    assert stored_token(tenant) == ""
    assert list(Tenant.objects.filter(twilio_auth_token="")) == [tenant]
    assert Tenant.objects.get(pk=tenant.pk).twilio_auth_token == ""


def test_saving_a_loaded_row_writes_the_token_back_unchanged(twilio_tenant):
    raw = stored_token(twilio_tenant)
    tenant = Tenant.objects.get(pk=twilio_tenant.pk)
    tenant.name = "Acme Inc"
    tenant.save()
    assert stored_token(tenant) == raw  # not decrypted and re-encrypted, not encrypted twice


def test_values_never_decrypt_and_never_show_the_plaintext(twilio_tenant):
    (value,) = Tenant.objects.values_list("twilio_auth_token", flat=True)
    assert isinstance(value, encryption.Ciphertext) and TOKEN not in repr(value)
    assert value.reveal() == TOKEN


def test_only_empty_and_null_lookups_are_allowed(twilio_tenant):
    with pytest.raises(FieldError, match="only be compared with ''"):
        list(Tenant.objects.filter(twilio_auth_token=TOKEN))
    with pytest.raises(FieldError, match="'icontains'"):
        list(Tenant.objects.filter(twilio_auth_token__icontains="0123"))
    assert Tenant.objects.exclude(twilio_auth_token="").count() == 1
    assert Tenant.objects.filter(twilio_auth_token__isnull=True).count() == 0


def test_a_signed_webhook_verifies_with_the_decrypted_token(twilio_tenant):
    assert signed_call_status().status_code == 204
    assert CallLog.objects.get().call_sid == CALL_SID
    assert signed_call_status("some-other-token").status_code == 403


def test_dumpdata_writes_the_stored_form_and_loaddata_keeps_it(twilio_tenant, tmp_path):
    out = io.StringIO()
    call_command("dumpdata", "sessions_app.tenant", stdout=out)
    assert TOKEN not in out.getvalue()
    (row,) = json.loads(out.getvalue())
    assert row["fields"]["twilio_auth_token"] == stored_token(twilio_tenant)
    fixture = tmp_path / "tenants.json"
    fixture.write_text(out.getvalue())
    Tenant.objects.filter(pk=twilio_tenant.pk).update(twilio_auth_token="")
    call_command("loaddata", str(fixture), verbosity=0)
    # Loaded as the stored form (raw saves re-encrypt it with the current key), never encrypted twice.
    assert encryption.decrypt(stored_token(twilio_tenant)) == TOKEN


# --- keys ----------------------------------------------------------------------------------------


def test_the_first_configured_key_encrypts_and_any_key_decrypts(settings, tenant):
    settings.ENCRYPTION_KEYS = [OLD_KEY]
    tenant.twilio_auth_token = TOKEN
    tenant.save()
    raw = stored_token(tenant)
    assert Fernet(OLD_KEY).decrypt(raw.removeprefix("fernet:").encode()).decode() == TOKEN
    settings.ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert Tenant.objects.get(pk=tenant.pk).twilio_auth_token == TOKEN


def test_a_token_no_key_opens_loads_saves_and_refuses_webhooks(settings, twilio_tenant, caplog):
    raw = stored_token(twilio_tenant)
    settings.ENCRYPTION_KEYS = [NEW_KEY]  # the key it was written with is gone

    tenant = Tenant.objects.get(pk=twilio_tenant.pk)  # the row still loads
    with pytest.raises(UndecryptableSecret, match=r"Tenant\.twilio_auth_token"):
        tenant.twilio_auth_token  # noqa: B018 - the read is what raises
    tenant.name = "Acme renamed"
    tenant.save()
    assert stored_token(tenant) == raw  # written back untouched, so the right key restores it

    response = signed_call_status()
    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_signature"
    assert CallLog.objects.count() == 0 and CallEvent.objects.count() == 0
    assert "can't be decrypted" in caplog.text and TOKEN not in caplog.text

    settings.ENCRYPTION_KEYS = []  # back to the key it was written with
    assert Tenant.objects.get(pk=tenant.pk).twilio_auth_token == TOKEN
    assert signed_call_status().status_code == 204


def test_a_plaintext_written_around_the_orm_is_never_used(twilio_tenant):
    write_column(twilio_tenant, "attacker-chosen-token")
    with pytest.raises(UndecryptableSecret):
        Tenant.objects.get(pk=twilio_tenant.pk).twilio_auth_token  # noqa: B018
    assert signed_call_status("attacker-chosen-token").status_code == 403
    assert CallLog.objects.count() == 0


def test_the_admin_and_the_platform_api_say_an_undecryptable_token_is_set(settings, twilio_tenant, client):
    settings.ENCRYPTION_KEYS = [NEW_KEY]
    client.force_login(get_user_model().objects.create_superuser("ops", password="pw-123456"))
    listing = client.get("/admin/sessions_app/tenant/")
    assert listing.status_code == 200
    assert "ENCRYPTION_KEYS can&#x27;t decrypt it" in listing.content.decode()
    change = client.get(f"/admin/sessions_app/tenant/{twilio_tenant.pk}/change/")
    assert change.status_code == 200
    api = APIClient()
    api.credentials(HTTP_X_ADMIN_KEY=admin_key_create(name="ops")[1])
    body = api.get("/api/v1/admin/tenants").json()
    assert body["data"][0]["twilio_auth_token_set"] is True


def test_malformed_keys_are_a_check_error_that_never_echoes_the_key(settings):
    settings.ENCRYPTION_KEYS = [NEW_KEY, "not-a-fernet-key-but-a-secret"]
    (error,) = check_encryption_keys()
    assert error.id == "sessions_app.E001" and "entry 2" in error.msg
    assert "not-a-fernet-key" not in error.msg
    settings.ENCRYPTION_KEYS = [NEW_KEY]
    assert check_encryption_keys() == []


def test_deploy_check_warns_while_secrets_depend_on_secret_key(settings):
    settings.ENCRYPTION_KEYS = []
    (warning,) = check_encryption_keys_set()
    assert warning.id == "sessions_app.W001"
    settings.ENCRYPTION_KEYS = [NEW_KEY]
    assert check_encryption_keys_set() == []


# --- rotation ------------------------------------------------------------------------------------


def rotate(*args) -> str:
    out = io.StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_rotation_re_encrypts_with_the_new_key_so_the_old_one_can_go(settings, tenant, other_tenant):
    settings.ENCRYPTION_KEYS = [OLD_KEY]
    for item, token in ((tenant, TOKEN), (other_tenant, "globex-token-globex-token-globex")):
        item.twilio_auth_token = token
        item.save()
    settings.ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert "Re-encrypted 2 secret(s)" in rotate()
    settings.ENCRYPTION_KEYS = [NEW_KEY]  # the old key removed
    assert Tenant.objects.get(pk=tenant.pk).twilio_auth_token == TOKEN
    assert Tenant.objects.get(pk=other_tenant.pk).twilio_auth_token == "globex-token-globex-token-globex"
    assert Fernet(NEW_KEY).decrypt(stored_token(tenant).removeprefix("fernet:").encode()).decode() == TOKEN


def test_the_first_switch_to_configured_keys_moves_secret_key_values(settings, twilio_tenant):
    settings.ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(CommandError, match="1 secret"):
        rotate()  # without the flag, the derived key isn't tried
    assert "Re-encrypted 1 secret(s)" in rotate("--from-secret-key")
    assert Tenant.objects.get(pk=twilio_tenant.pk).twilio_auth_token == TOKEN
    settings.SECRET_KEY = "a-new-secret-key-" + "z" * 40  # SECRET_KEY no longer matters
    assert Tenant.objects.get(pk=twilio_tenant.pk).twilio_auth_token == TOKEN


def test_from_secret_key_needs_configured_keys(settings):
    settings.ENCRYPTION_KEYS = []
    with pytest.raises(CommandError, match="needs ENCRYPTION_KEYS"):
        rotate("--from-secret-key")


def test_rotation_reports_what_it_cannot_open_and_leaves_it(settings, tenant, other_tenant):
    tenant.twilio_auth_token = TOKEN
    tenant.save()
    write_column(other_tenant, "plaintext-written-around-the-orm")
    settings.ENCRYPTION_KEYS = [NEW_KEY]
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 secret"):
        call_command("rotate_encryption_keys", stdout=io.StringIO(), stderr=err)
    assert f"row {other_tenant.pk}" in err.getvalue() and "plaintext-written" not in err.getvalue()
    assert stored_token(other_tenant) == "plaintext-written-around-the-orm"


# --- the migration -------------------------------------------------------------------------------


def _migration():
    return importlib.import_module("sessions_app.migrations.0013_twilio_token_encrypted")


def test_the_migration_encrypts_plaintext_tokens_and_reverses(tenant, other_tenant):
    write_column(tenant, TOKEN)  # as the CharField stored it before
    other_tenant.twilio_auth_token = "already-encrypted-already-encryp"
    other_tenant.save()
    already = stored_token(other_tenant)

    _migration().encrypt_tokens(apps, connection.schema_editor())
    assert stored_token(tenant).startswith("fernet:") and TOKEN not in stored_token(tenant)
    assert Tenant.objects.get(pk=tenant.pk).twilio_auth_token == TOKEN
    assert stored_token(other_tenant) == already  # never encrypted twice

    _migration().decrypt_tokens(apps, connection.schema_editor())
    assert stored_token(tenant) == TOKEN
    assert stored_token(other_tenant) == "already-encrypted-already-encryp"
