"""Sign-in lockout: wrong passwords lock a username and a client address for a while, with a clear
page, an audit event in the user's tenants, and a way for an admin to unlock."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from sessions_app.models import AuditEvent

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def sign_in(username, password, address="203.0.113.7", **headers):
    return Client(REMOTE_ADDR=address).post(LOGIN, {"username": username, "password": password}, **headers)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/review/"


@pytest.fixture
def alice(make_user, tenant):
    return make_user("alice", tenant, "analyst")


def test_five_wrong_passwords_lock_the_username_even_with_the_right_one(settings, alice, tenant):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in("alice", "wrong").status_code == 200  # the form again, with its error
    locked = sign_in("alice", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Sign-in paused" in page and "alice" in page and "15 minutes" in page
    assert "tenant admin or platform operator to unlock" in page
    retry = sign_in("alice", "pw")
    assert retry.status_code == 429 and not signed_in(retry)
    assert sign_in("alice", "pw", address="198.51.100.20").status_code == 429  # by username, anywhere
    events = AuditEvent.objects.filter(action="login.locked_out")
    # Once in the user's tenant and once for the operator; attempts while locked add nothing.
    assert sorted(events.values_list("tenant_id", flat=True), key=str) == sorted([tenant.pk, None], key=str)
    event = events.get(tenant=tenant)
    assert event.target_id == str(alice.pk) and event.details["username"] == "alice"
    assert event.details["ip_address"] == "203.0.113.7"


def test_wrong_passwords_from_one_address_lock_that_address(settings, make_user, tenant):
    make_user("bob", tenant, "analyst")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(f"guess{n}", "wrong")
    assert sign_in("bob", "pw").status_code == 429  # the address is locked, whoever signs in
    assert signed_in(sign_in("bob", "pw", address="198.51.100.20"))  # bob elsewhere is not
    # A client can't choose another address by sending X-Forwarded-For (no proxy is trusted).
    assert sign_in("bob", "pw", HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 429


def test_a_success_resets_the_count(settings, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in("alice", "wrong")
    assert signed_in(sign_in("alice", "pw"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in("alice", "wrong")
    assert signed_in(sign_in("alice", "pw"))


def test_the_lock_lifts_after_the_cool_off(settings, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", "wrong")
    assert sign_in("alice", "pw").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert signed_in(sign_in("alice", "pw"))


def test_an_operator_unlocks_a_username(settings, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", "wrong")
    assert sign_in("alice", "pw").status_code == 429
    call_command("axes_reset_username", "alice")
    assert signed_in(sign_in("alice", "pw"))


def test_the_admin_lists_access_attempts(settings, alice, make_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", "wrong")
    operator = make_user("operator", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(operator)
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and "alice" in page.content.decode()
