"""Tenant settings in the review app: members and roles, API keys shown once, retention and redaction."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from qa_app.models import TenantInvitation
from sessions_app.access import access_for_user
from sessions_app.models import ApiKey, AuditEvent
from sessions_app.services import api_key_authenticate, api_key_create, member_role

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_settings_are_for_admins(tenant, browser_for, role):
    client = browser_for(tenant, role)
    assert client.get("/review/settings/").status_code == 403
    assert "Settings" not in html(client.get("/review/"))
    assert (
        client.post("/review/settings/keys/", {"name": "x", "scopes": ["sessions:read"]}).status_code == 403
    )
    assert not ApiKey.objects.exists()


def test_admin_sees_members_keys_and_policy(tenant, browser_for, make_user):
    admin = browser_for(tenant, "admin")
    make_user("vera", tenant, "viewer")
    api_key_create(tenant=tenant, name="runtime writer", scopes=["sessions:write"])
    page = html(admin.get("/review/settings/"))
    for text in [
        "Members and roles",
        "vera",
        "API keys",
        "runtime writer",
        "sessions:write",
        "Retention (days)",
    ]:
        assert text in page, text
    assert ">Settings</a>" in html(admin.get("/review/"))


def test_creating_a_key_shows_it_once_and_it_works(tenant, browser_for):
    admin = browser_for(tenant, "admin")
    response = admin.post(
        "/review/settings/keys/",
        {"name": "CRM export", "scopes": ["sessions:read", "audit:read"], "expires_in_days": "30"},
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = html(response)
    start = page.index('id="new-api-key">') + len('id="new-api-key">')
    raw_key = page[start : page.index("<", start)]
    assert raw_key.startswith("vsk_")
    key = api_key_authenticate(raw_key=raw_key)
    assert key is not None and key.tenant == tenant and key.scopes == ["sessions:read", "audit:read"]
    assert key.created_by == admin.user and key.expires_at is not None
    assert raw_key not in html(admin.get("/review/settings/"))  # never again
    assert AuditEvent.objects.filter(action="api_key.created", actor_label=admin.user.username).exists()


def test_a_key_without_scopes_is_refused(tenant, browser_for):
    response = browser_for(tenant, "admin").post("/review/settings/keys/", {"name": "empty"})
    assert response.status_code == 400 and "Scopes" in html(response)
    assert not ApiKey.objects.exists()


def test_revoking_a_key(tenant, other_tenant, browser_for):
    key, raw_key = api_key_create(tenant=tenant, name="old", scopes=["sessions:read"])
    foreign, _ = api_key_create(tenant=other_tenant, name="theirs", scopes=["sessions:read"])
    admin = browser_for(tenant, "admin")
    assert admin.post(f"/review/settings/keys/{foreign.pk}/revoke/").status_code == 404
    assert admin.post(f"/review/settings/keys/{key.pk}/revoke/").status_code == 302
    assert api_key_authenticate(raw_key=raw_key) is None
    foreign.refresh_from_db()
    assert foreign.revoked_at is None
    assert "revoked" in html(admin.get("/review/settings/"))


def test_adding_members_existing_and_new(tenant, browser_for, make_user):
    admin = browser_for(tenant, "admin")
    existing = make_user("existing")
    # An existing user isn't pulled in: they're invited and join when they accept.
    assert (
        admin.post("/review/settings/members/", {"username": "existing", "role": "analyst"}).status_code
        == 302
    )
    assert member_role(tenant=tenant, user=existing) is None
    invitation = TenantInvitation.objects.get(tenant=tenant, user=existing)
    member = Client()
    member.force_login(existing)
    member.post(f"/review/invitations/{invitation.pk}/accept/")
    assert member_role(tenant=tenant, user=existing) == "analyst"
    refused = admin.post("/review/settings/members/", {"username": "newbie", "role": "viewer"})
    assert refused.status_code == 400 and "give a password" in html(refused)
    assert not get_user_model().objects.filter(username="newbie").exists()
    admin.post(
        "/review/settings/members/", {"username": "newbie", "role": "viewer", "password": "s3cret-pass"}
    )
    newbie = get_user_model().objects.get(username="newbie")
    assert newbie.check_password("s3cret-pass") and member_role(tenant=tenant, user=newbie) == "viewer"


def test_changing_a_role_and_granting_raw_access_alone(tenant, browser_for, make_user):
    admin = browser_for(tenant, "admin")
    ana = make_user("ana", tenant, "viewer")
    admin.post(f"/review/settings/members/{ana.pk}/role/", {"role": "analyst"})
    assert member_role(tenant=tenant, user=ana) == "analyst"
    admin.post(f"/review/settings/members/{ana.pk}/raw/", {"granted": "1"})
    access = access_for_user(ana, tenant)
    assert access.can_view_raw and not access.has("manage_api_keys")
    admin.post(f"/review/settings/members/{ana.pk}/raw/", {"granted": "0"})
    assert not access_for_user(ana, tenant).can_view_raw
    actions = list(AuditEvent.objects.filter(target_id="ana").values_list("action", flat=True))
    assert actions.count("member.permission_changed") == 2 and "member.role_changed" in actions


def test_removing_a_member_takes_everything(tenant, browser_for, make_user):
    admin = browser_for(tenant, "admin")
    ana = make_user("ana", tenant, "analyst")
    admin.post(f"/review/settings/members/{ana.pk}/raw/", {"granted": "1"})
    admin.post(f"/review/settings/members/{ana.pk}/remove/")
    assert access_for_user(ana, tenant) is None
    assert AuditEvent.objects.filter(action="member.removed", target_id="ana").exists()
    assert 'data-testid="member-ana"' not in html(admin.get("/review/settings/"))


def test_the_last_admin_cannot_leave_or_be_demoted(tenant, browser_for):
    admin = browser_for(tenant, "admin")
    response = admin.post(f"/review/settings/members/{admin.user.pk}/role/", {"role": "viewer"}, follow=True)
    assert "last admin" in html(response)
    admin.post(f"/review/settings/members/{admin.user.pk}/remove/")
    assert member_role(tenant=tenant, user=admin.user) == "admin"


def test_members_of_another_tenant_are_not_listed(tenant, other_tenant, browser_for, make_user):
    make_user("stranger", other_tenant, "admin")
    assert "stranger" not in html(browser_for(tenant, "admin").get("/review/settings/"))


def test_policy_changes_are_saved_and_audited(tenant, browser_for):
    admin = browser_for(tenant, "admin")
    assert (
        admin.post("/review/settings/policy/", {"retention_days": "90", "redact_on_ingest": "on"}).status_code
        == 302
    )
    tenant.refresh_from_db()
    assert tenant.retention_days == 90 and tenant.redact_on_ingest
    bad = admin.post("/review/settings/policy/", {"retention_days": "0"})
    assert bad.status_code == 400
    tenant.refresh_from_db()
    assert tenant.retention_days == 90
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"redaction_policy.changed"} <= actions


def test_admin_edits_the_failure_taxonomy(tenant, browser_for):
    from qa_app.models import FailureCategory

    admin = browser_for(tenant, "admin")
    assert 'data-testid="category-hallucination"' in html(admin.get("/review/settings/"))
    admin.post(
        "/review/settings/taxonomy/",
        {"name": "wrong_price", "label": "Quoted a wrong price", "severity": "critical"},
    )
    admin.post("/review/settings/taxonomy/", {"name": "asr_error", "label": "Misheard", "severity": "major"})
    admin.post("/review/settings/taxonomy/other/retire/", {"retired": "1"})
    categories = {c.name: c for c in FailureCategory.objects.filter(tenant=tenant)}
    assert categories["wrong_price"].severity == "critical"
    assert categories["asr_error"].label == "Misheard" and categories["other"].retired_at is not None
    bad = admin.post("/review/settings/taxonomy/", {"name": "Not OK", "severity": "minor"})
    assert bad.status_code == 400 and "lowercase" in html(bad)
    assert (
        browser_for(tenant, "analyst", "ana")
        .post("/review/settings/taxonomy/other/retire/", {"retired": "0"})
        .status_code
        == 403
    )
