"""The operators' Django admin: secrets stay hidden, keys are shown once, policy changes audited."""

import re

import pytest
from django.contrib.auth import get_user_model

from sessions_app import keys
from sessions_app.models import ApiKey, AuditEvent, Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser("ops", password="pw-123456")
    client.force_login(user)
    return client


def test_twilio_token_is_never_shown_in_full(operator, tenant):
    tenant.twilio_auth_token = "abcdefabcdefabcdefabcdef12345678"
    tenant.save()
    page = operator.get(f"/admin/sessions_app/tenant/{tenant.pk}/change/").content.decode()
    assert "abcdefabcdefabcdefabcdef12345678" not in page and "••••5678" in page
    listing = operator.get("/admin/sessions_app/tenant/").content.decode()
    assert "abcdefabcdef" not in listing


def test_saving_without_a_new_token_keeps_the_old_one_and_audits_policy(operator, tenant):
    tenant.twilio_auth_token = "keep-me-keep-me-keep-me-keep-me1"
    tenant.save()
    response = operator.post(
        f"/admin/sessions_app/tenant/{tenant.pk}/change/",
        {
            "slug": "acme",
            "name": "Acme",
            "retention_days": "30",
            "redact_on_ingest": "on",
            "twilio_auth_token": "",
            "failure_categories-TOTAL_FORMS": "0",
            "failure_categories-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.twilio_auth_token == "keep-me-keep-me-keep-me-keep-me1"
    assert (tenant.retention_days, tenant.redact_on_ingest) == (30, True)
    event = AuditEvent.objects.get(action="redaction_policy.changed")
    assert event.details == {"before": {"retention_days": None, "redact_on_ingest": False},
                             "after": {"retention_days": 30, "redact_on_ingest": True}}  # fmt: skip
    assert event.actor_label == "ops"


def test_new_api_key_is_shown_once(operator, tenant):
    response = operator.post(
        "/admin/sessions_app/apikey/add/",
        {"tenant": tenant.pk, "name": "crm", "scopes": ["sessions:read"]},
        follow=True,
    )
    page = response.content.decode()
    raw = re.search(r"vsk_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}", page).group(0)
    assert keys.parse_key(raw) is not None
    api_key = ApiKey.objects.get()
    assert api_key.digest == keys.digest_key(raw) and api_key.created_by.username == "ops"
    again = operator.get(f"/admin/sessions_app/apikey/{api_key.pk}/change/").content.decode()
    assert raw not in again and api_key.prefix in again
    assert raw not in operator.get("/admin/sessions_app/apikey/").content.decode()


def test_revoke_action_and_no_delete(operator, tenant, make_key):
    make_key(tenant)
    api_key = ApiKey.objects.get()
    operator.post(
        "/admin/sessions_app/apikey/", {"action": "revoke_selected", "_selected_action": [api_key.pk]}
    )
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert operator.get(f"/admin/sessions_app/apikey/{api_key.pk}/delete/").status_code == 403


def test_sessions_evaluations_and_audit_are_read_only(operator, tenant, make_session):
    session = make_session(tenant)
    assert operator.get(f"/admin/sessions_app/voicesession/{session.pk}/change/").status_code == 200
    response = operator.post(f"/admin/sessions_app/voicesession/{session.pk}/change/", {"agent_key": "x"})
    assert response.status_code == 403
    assert operator.get("/admin/sessions_app/auditevent/add/").status_code == 403
    assert Tenant.objects.get().slug == "acme"


def test_the_audit_trail_admin_moved_with_its_model_and_old_links_follow(operator, tenant):
    AuditEvent.objects.create(tenant=tenant, actor_label="system", action="key.created")
    response = operator.get("/admin/qa_app/auditevent/?action=key.created")
    assert response.status_code == 301
    assert response["Location"] == "/admin/sessions_app/auditevent/?action=key.created"
    listing = operator.get(response["Location"])
    assert listing.status_code == 200
    assert b"key.created" in listing.content
