"""Bearer API keys: uniform 401s, scopes, expiry, revocation and last_used_at."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sessions_app import keys
from sessions_app.models import ApiKey
from sessions_app.services import api_key_revoke

URL = "/api/v1/voice-sessions"
pytestmark = pytest.mark.django_db


def call(header):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client.get(URL)


def assert_uniform_401(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "error": {
            "code": "unauthenticated",
            "message": "Missing, invalid, expired or revoked API key.",
            "param": None,
        }
    }


def test_key_format_and_only_digest_stored(tenant, make_key):
    raw = make_key(tenant)
    assert keys.KEY_PATTERN.match(raw)
    stored = ApiKey.objects.get()
    assert raw.split("_")[1] == stored.prefix
    assert stored.digest == keys.digest_key(raw)
    assert raw not in {str(value) for value in ApiKey.objects.values().get().values()}


def test_checksum_recognises_a_mistyped_key(tenant, make_key):
    raw = make_key(tenant)
    assert keys.parse_key(raw) is not None
    flipped = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert keys.parse_key(flipped) is None


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Token abc", "Bearer a b", "Bearer vsk_short_key", "Basic dXNlcjpwYXNz", "Bearer ü"],
)
def test_missing_or_malformed_credentials_get_uniform_401(tenant, header):
    assert_uniform_401(call(header))


def test_unknown_prefix_and_wrong_secret_look_the_same(tenant, make_key):
    raw = make_key(tenant)
    generated = keys.generate_key()  # well-formed, valid checksum, unknown prefix
    unknown_prefix = call(f"Bearer {generated.raw}")
    prefix = raw.split("_")[1]
    wrong_secret = call(f"Bearer vsk_{prefix}_{generated.raw.split('_')[2]}")
    assert_uniform_401(unknown_prefix)
    assert_uniform_401(wrong_secret)
    assert unknown_prefix.content == wrong_secret.content


def test_revoked_key_gets_401(tenant, make_key):
    raw = make_key(tenant)
    assert call(f"Bearer {raw}").status_code == 200
    api_key_revoke(api_key=ApiKey.objects.get())
    assert_uniform_401(call(f"Bearer {raw}"))


def test_expired_key_gets_401(tenant, make_key):
    raw = make_key(tenant, expires_at=timezone.now() + dt.timedelta(hours=1))
    ApiKey.objects.filter(prefix=raw.split("_")[1]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert_uniform_401(call(f"Bearer {raw}"))
    live = make_key(tenant, expires_at=timezone.now() + dt.timedelta(days=1))
    assert call(f"Bearer {live}").status_code == 200


def test_valid_key_without_scope_gets_403(tenant, make_key):
    raw = make_key(tenant, ["qa:write"])
    response = call(f"Bearer {raw}")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert "sessions:read" in response.json()["error"]["message"]


def test_last_used_at_is_written_at_most_once_a_minute(tenant, make_key):
    raw = make_key(tenant)
    call(f"Bearer {raw}")
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    call(f"Bearer {raw}")
    assert ApiKey.objects.get().last_used_at == first
    ApiKey.objects.update(last_used_at=first - dt.timedelta(seconds=61))
    call(f"Bearer {raw}")
    assert ApiKey.objects.get().last_used_at > first


def test_unknown_scope_is_refused_at_creation(tenant, make_key):
    from sessions_app.errors import ServiceError

    with pytest.raises(ServiceError) as error:
        make_key(tenant, ["sessions:everything"])
    assert error.value.param == "scopes"


def test_authenticate_loads_the_key_and_its_tenant_in_one_query(tenant, make_key, django_assert_num_queries):
    from sessions_app.services import admin_key_authenticate, admin_key_create, api_key_authenticate

    raw = make_key(tenant, ["sessions:read", "sessions:write"])
    expected = ApiKey.objects.select_related("tenant").get()
    expected.expires_at = timezone.now() + dt.timedelta(days=3)
    expected.last_used_at = timezone.now()  # recent: no last_used_at write below
    expected.save(update_fields=["expires_at", "last_used_at"])
    with django_assert_num_queries(1):
        loaded = api_key_authenticate(raw_key=raw)
        assert loaded.tenant.slug == tenant.slug  # joined, not a second query
    for field in ApiKey._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    for field in type(tenant)._meta.concrete_fields:
        assert getattr(loaded.tenant, field.attname) == getattr(expected.tenant, field.attname), field.name
    assert loaded.scopes == ["sessions:read", "sessions:write"]  # JSON decoded on either database
    assert loaded._state.adding is False and loaded._state.db == "default"

    admin, admin_raw = admin_key_create(name="ops")
    with django_assert_num_queries(2):  # the lookup, then the first last_used_at write
        assert admin_key_authenticate(raw_key=admin_raw).pk == admin.pk
    assert api_key_authenticate(raw_key=admin_raw) is None
