"""The command-line contract: create_tenant, create_api_key, revoke_api_key, add_member."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from sessions_app import keys
from sessions_app.models import ApiKey, AuditEvent, Tenant
from sessions_app.services import member_role

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_tenant_with_options():
    run("create_tenant", "acme", "--name", "Acme Inc", "--retention-days", "30", "--twilio-auth-token", "tok")
    tenant = Tenant.objects.get(slug="acme")
    assert (tenant.name, tenant.retention_days, tenant.twilio_auth_token) == ("Acme Inc", 30, "tok")
    assert AuditEvent.objects.filter(action="tenant.created", tenant=tenant).exists()


def test_create_tenant_twice_fails_clearly():
    run("create_tenant", "acme")
    with pytest.raises(CommandError, match="already exists"):
        run("create_tenant", "acme")


def test_create_api_key_prints_the_key_alone_on_stdout(tenant):
    out, err = run(
        "create_api_key", "--tenant", "acme", "--name", "crm", "--scopes", "sessions:read,sessions:write"
    )
    raw = out.strip()
    assert out == raw + "\n"
    assert keys.parse_key(raw) is not None
    api_key = ApiKey.objects.get()
    assert api_key.scopes == ["sessions:read", "sessions:write"]
    assert api_key.prefix in err and raw not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "nope", "--name", "x"], "No tenant"),
        (["--tenant", "acme", "--name", "x", "--scopes", "sessions:all"], "Unknown scope"),
        (["--tenant", "acme", "--name", "x", "--expires-at", "soon"], "ISO 8601"),
    ],
)
def test_create_api_key_refuses_bad_input(tenant, args, message):
    with pytest.raises(CommandError, match=message):
        run("create_api_key", *args)
    assert not ApiKey.objects.exists()


def test_revoke_api_key_by_prefix_or_whole_key(tenant, make_key):
    raw = make_key(tenant)
    out, _ = run("revoke_api_key", raw)
    assert "revoked" in out
    assert ApiKey.objects.get().revoked_at is not None
    again, _ = run("revoke_api_key", raw.split("_")[1])
    assert "already revoked" in again
    with pytest.raises(CommandError):
        run("revoke_api_key", "unknownprefix")


def test_add_member_creates_user_and_changes_role(tenant):
    run("add_member", "--tenant", "acme", "--role", "viewer", "dana", "--password", "s3cret-pass")
    user = get_user_model().objects.get(username="dana")
    assert user.check_password("s3cret-pass")
    assert member_role(tenant=tenant, user=user) == "viewer"
    assert user.has_perm("sessions_app.view_sessions", tenant)
    assert not user.has_perm("sessions_app.review_sessions", tenant)
    run("add_member", "--tenant", "acme", "--role", "analyst", "dana")
    user = get_user_model().objects.get(username="dana")
    assert member_role(tenant=tenant, user=user) == "analyst"
    assert user.has_perm("sessions_app.review_sessions", tenant)
    assert AuditEvent.objects.filter(action="member.role_changed").count() == 2


def test_role_in_one_tenant_grants_nothing_in_another(tenant, other_tenant):
    run("add_member", "--tenant", "acme", "--role", "admin", "erin")
    user = get_user_model().objects.get(username="erin")
    assert user.has_perm("sessions_app.view_raw_transcripts", tenant)
    assert not user.has_perm("sessions_app.view_sessions", other_tenant)
