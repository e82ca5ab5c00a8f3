"""The platform admin API: x-admin-key only, under /api/v1/admin/ only, and never the other way round."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from sessions_app import keys
from sessions_app.models import AdminKey, ApiKey, AuditEvent, Tenant
from sessions_app.services import admin_key_create, admin_key_revoke

pytestmark = pytest.mark.django_db
TENANTS = "/api/v1/admin/tenants"


@pytest.fixture
def admin_raw(db):
    return admin_key_create(name="provisioning")[1]


@pytest.fixture
def admin(admin_raw):
    client = APIClient()
    client.credentials(HTTP_X_ADMIN_KEY=admin_raw)
    return client


def test_create_admin_key_prints_it_alone_and_stores_a_digest():
    out, err = io.StringIO(), io.StringIO()
    call_command("create_admin_key", "--name", "ops", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("vsa_") and keys.parse_key(raw, keys.ADMIN_KEY_TYPE)
    assert AdminKey.objects.get().digest == keys.digest_key(raw)
    assert raw not in err.getvalue()


def test_create_and_list_tenants(admin):
    response = admin.post(
        TENANTS, {"slug": "acme", "name": "Acme", "twilio_auth_token": "secret-token"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "acme" and body["twilio_auth_token_set"] is True
    assert "secret-token" not in response.content.decode()
    listed = admin.get(TENANTS).json()
    assert [t["slug"] for t in listed["data"]] == ["acme"]
    assert set(listed) >= {"data", "limit", "offset"}
    event = AuditEvent.objects.get(action="tenant.created")
    assert event.actor_label.startswith("admin-key:")


def test_duplicate_slug_is_a_409_naming_slug(admin):
    admin.post(TENANTS, {"slug": "acme"}, format="json")
    response = admin.post(TENANTS, {"slug": "acme"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["param"] == "slug"


def test_bad_tenant_payload_names_field(admin):
    response = admin.post(TENANTS, {"slug": "not a slug"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["param"] == "slug"
    assert not Tenant.objects.exists()


def test_api_key_lifecycle_shows_key_once(admin, tenant):
    url = f"{TENANTS}/acme/api-keys"
    created = admin.post(url, {"name": "runtime", "scopes": ["sessions:write"]}, format="json")
    assert created.status_code == 201
    raw = created.json()["key"]
    assert keys.parse_key(raw) and created["Cache-Control"] == "no-store"
    listing = admin.get(url)
    assert raw not in listing.content.decode()
    assert listing.json()["data"][0]["prefix"] == raw.split("_")[1]
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert writer.get("/api/v1/voice-sessions").status_code == 403  # write-only key, but authenticated
    key_id = created.json()["id"]
    assert admin.delete(f"{url}/{key_id}").status_code == 204
    assert ApiKey.objects.get().revoked_at is not None
    assert writer.get("/api/v1/voice-sessions").status_code == 401
    assert admin.delete(f"{url}/{raw.split('_')[1]}").status_code == 204  # by prefix, again: harmless


def test_bad_scope_names_scopes(admin, tenant):
    response = admin.post(f"{TENANTS}/acme/api-keys", {"name": "x", "scopes": ["root"]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["param"].startswith("scopes")


def test_unknown_tenant_or_key_is_404(admin, tenant):
    assert admin.get(f"{TENANTS}/nope/api-keys").status_code == 404
    assert admin.delete(f"{TENANTS}/acme/api-keys/999999").status_code == 404


def test_key_of_another_tenant_cannot_be_revoked_through_this_tenant(admin, tenant, other_tenant, make_key):
    raw = make_key(other_tenant)
    assert admin.delete(f"{TENANTS}/acme/api-keys/{raw.split('_')[1]}").status_code == 404
    assert ApiKey.objects.get().revoked_at is None


def test_tenant_bearer_key_is_refused_on_admin_endpoints(tenant, make_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(tenant)}")
    for method, path in [("get", TENANTS), ("post", TENANTS), ("get", f"{TENANTS}/acme/api-keys")]:
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
    assert Tenant.objects.count() == 1


def test_tenant_key_in_admin_header_is_refused(tenant, make_key):
    client = APIClient()
    client.credentials(HTTP_X_ADMIN_KEY=make_key(tenant))
    assert client.get(TENANTS).status_code == 401


def test_admin_key_is_refused_on_tenant_endpoints(admin_raw, tenant):
    for headers in ({"HTTP_X_ADMIN_KEY": admin_raw}, {"HTTP_AUTHORIZATION": f"Bearer {admin_raw}"}):
        client = APIClient()
        client.credentials(**headers)
        response = client.get("/api/v1/voice-sessions")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"


def test_revoked_admin_key_is_refused(admin, admin_raw):
    admin_key_revoke(admin_key=AdminKey.objects.get())
    response = admin.get(TENANTS)
    assert response.status_code == 401
    assert "x-admin-key" in response.json()["error"]["message"]
