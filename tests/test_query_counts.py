"""Query-count baselines for every list: the API's, the review pages' and the Django admin's.

Each list is read at two sizes of data, and must run the same number of queries at both (no query
per row) and exactly its baseline below. A change that adds a query to a list fails here, and the
baseline is raised only on purpose, in the same commit, with the reason.
"""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from qa_app.invitations import invitation_create
from qa_app.services import evaluation_record, session_tag_add
from sessions_app.actors import SYSTEM
from sessions_app.calls import call_callback_record
from sessions_app.models import CallEventKind
from sessions_app.services import admin_key_create, api_key_create, tenant_create
from tests.conftest import ALL_SCOPES

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def grow(tenant, make_session, make_user, rows: int) -> None:
    """``rows`` more of everything a list shows: sessions with a tag and an evaluation (and their
    audit events), call logs with their session, API keys, tenants, members and invitations."""
    for _ in range(rows):
        n = next(_numbers)
        call_sid = f"CA{n:032x}"
        session = make_session(tenant, call_sid=call_sid)
        session_tag_add(session=session, name=f"tag-{n}", actor=SYSTEM)
        evaluation_record(session=session, actor=SYSTEM, verdict="fail", score=2, notes="")
        params = {
            "AccountSid": "AC" + "0" * 32, "CallSid": call_sid, "CallStatus": "completed",
            "Direction": "inbound", "From": "+14155550123", "To": "+14155550100",
            "SequenceNumber": "1", "Timestamp": "Tue, 24 Nov 2026 18:01:00 +0000",
        }  # fmt: skip
        call_callback_record(tenant=tenant, kind=CallEventKind.CALL_STATUS, params=params)
        api_key_create(tenant=tenant, name=f"key {n}", scopes=["sessions:read"])
        other = tenant_create(slug=f"tenant-{n}")
        make_user(f"member-{n}", tenant, "viewer")
        invitation_create(tenant=other, user=make_user(f"invitee-{n}"), role="viewer", actor=SYSTEM)


# (list, its queries: the same on SQLite and PostgreSQL, at any number of rows)
API_LISTS = [
    ("/api/v1/voice-sessions", 8),
    ("/api/v1/voice-sessions/export?format=jsonl", 10),
    ("/api/v1/call-logs", 3),
    ("/api/v1/audit-events", 2),
]
ADMIN_API_LISTS = [
    ("/api/v1/admin/tenants", 2),
    ("/api/v1/admin/tenants/acme/api-keys", 3),
]
PAGE_LISTS = [
    ("/review/", 8),
    ("/review/calls/", 7),
    ("/review/audit/", 6),
    ("/review/settings/", 10),  # + the LLM judge endpoint
]
DJANGO_ADMIN_LISTS = [
    ("/admin/sessions_app/voicesession/", 9),
    ("/admin/sessions_app/tenant/", 5),
    ("/admin/sessions_app/apikey/", 6),
    ("/admin/sessions_app/auditevent/", 9),
    ("/admin/qa_app/evaluation/", 6),
    ("/admin/qa_app/tag/", 6),
]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    return len(captured.captured_queries)


def _check(client, url, expected, tenant, make_session, make_user):
    grow(tenant, make_session, make_user, 2)
    client.get(url)  # warm per-process caches (agent lists, planner estimates), as a server has them
    small = _queries(client, url)
    grow(tenant, make_session, make_user, 4)
    client.get(url)
    large = _queries(client, url)
    assert (small, large) == (expected, expected), url


@pytest.mark.parametrize(("url", "expected"), API_LISTS)
def test_api_lists(url, expected, tenant, make_session, make_user):
    client = APIClient()
    _, raw = api_key_create(tenant=tenant, name="reader", scopes=ALL_SCOPES)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    _check(client, url, expected, tenant, make_session, make_user)


@pytest.mark.parametrize(("url", "expected"), ADMIN_API_LISTS)
def test_admin_api_lists(url, expected, tenant, make_session, make_user):
    client = APIClient()
    client.credentials(HTTP_X_ADMIN_KEY=admin_key_create(name="ops")[1])
    _check(client, url, expected, tenant, make_session, make_user)


@pytest.mark.parametrize(("url", "expected"), PAGE_LISTS)
def test_review_page_lists(url, expected, tenant, make_session, make_user):
    client = Client()
    client.force_login(make_user("ada", tenant, "admin"))
    _check(client, url, expected, tenant, make_session, make_user)


@pytest.mark.parametrize(("url", "expected"), DJANGO_ADMIN_LISTS)
def test_django_admin_lists(url, expected, tenant, make_session, make_user):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456"))
    _check(client, url, expected, tenant, make_session, make_user)
