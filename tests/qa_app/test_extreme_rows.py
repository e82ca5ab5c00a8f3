"""Rows stored before call times were bounded (year 9999, year 2000's first second) never break a read.

New writes can't store such times any more (tests/sessions_app/test_input_bounds.py); these rows
are put in place with an UPDATE, as an old deployment may hold them.
"""

import datetime as dt
import importlib

import pytest
from django.db import connection

from qa_app import rollups
from qa_app.models import SessionDayStats
from sessions_app import changes
from sessions_app.models import CallEvent, CallLog, ChangedDay, VoiceSession

pytestmark = pytest.mark.django_db

# The latest instant both databases and Python can represent in every time zone we render.
FAR_FUTURE = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
FAR_PAST = dt.datetime(1, 1, 1, 0, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def extreme_sessions(tenant, make_session):
    late, early = make_session(tenant), make_session(tenant)
    VoiceSession.objects.filter(pk=late.pk).update(started_at=FAR_FUTURE, ended_at=None)
    VoiceSession.objects.filter(pk=early.pk).update(started_at=FAR_PAST, ended_at=None)
    changes.mark_changed(tenant.pk, [FAR_FUTURE, FAR_PAST])  # as their writes did
    make_session(tenant)  # and an ordinary one
    return late, early


PAGES = [
    "/review/",
    "/review/dashboard/",
    "/review/dashboard/?started_after=&started_before=",
    "/review/dashboard/?started_after=2000-01-01",
    "/review/dashboard/?started_before=9999-12-31",
    "/review/agents/billing-agent/",
    "/review/agents/billing-agent/readiness/",
    "/review/agents/billing-agent/contract/",
    "/review/queue/",
    "/review/calls/",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_read_extreme_sessions(extreme_sessions, tenant, browser_for, path):
    client = browser_for(tenant, "admin")
    response = client.get(path, follow=True)
    assert response.status_code == 200, path


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/voice-sessions",
        "/api/v1/voice-sessions?started_after=2000-01-01",
        "/api/v1/voice-sessions/export?format=csv",
        "/api/v1/voice-sessions/export?format=jsonl",
        "/api/v1/agents/billing-agent/readiness",
        "/api/v1/agents/billing-agent/readiness?format=markdown",
        "/api/v1/call-logs",
    ],
)
def test_api_reads_extreme_sessions(extreme_sessions, api, path):
    response = api.get(path)
    assert response.status_code == 200, path
    if "export" in path:
        b"".join(response.streaming_content)


def test_detail_of_an_extreme_session(extreme_sessions, api, tenant, browser_for):
    late, early = extreme_sessions
    for session in (late, early):
        assert api.get(f"/api/v1/voice-sessions/{session.pk}").status_code == 200
        assert (
            browser_for(tenant, "viewer", f"v{session.pk.hex[:6]}")
            .get(f"/review/sessions/{session.pk}/")
            .status_code
            == 200
        )


def test_call_logs_with_extreme_event_times(tenant, api, browser_for):
    call = CallLog.objects.create(
        tenant=tenant, call_sid="CA" + "f" * 32, started_at=FAR_PAST, last_event_at=FAR_FUTURE
    )
    CallEvent.objects.create(
        tenant=tenant, call_log=call, kind="call_status", call_sid=call.call_sid, event="completed",
        occurred_at=FAR_FUTURE, payload={}, payload_redacted={},
    )  # fmt: skip
    assert api.get("/api/v1/call-logs").status_code == 200
    assert api.get(f"/api/v1/call-logs/{call.call_sid}").status_code == 200
    client = browser_for(tenant, "analyst")
    assert client.get("/review/calls/").status_code == 200
    assert client.get(f"/review/calls/{call.call_sid}/").status_code == 200


def _repair():
    from django.db.migrations.loader import MigrationLoader

    node = ("qa_app", "0008_repair_call_times")
    migration = importlib.import_module(f"qa_app.migrations.{node[1]}")
    migration.repair_call_times(MigrationLoader(connection).project_state(node).apps, None)


def _store_raw_time(table: str, column: str, pk, literal: str) -> None:
    """Write a time the way an old deployment stored it: PostgreSQL turns -12:00 into year 10000."""
    with connection.cursor() as cursor:
        cast = "::timestamptz" if connection.vendor == "postgresql" else ""
        cursor.execute(f"UPDATE {table} SET {column} = %s{cast} WHERE id = %s", [literal, pk])


def test_migration_repairs_times_no_read_could_load(tenant, make_session, api, browser_for):
    session = make_session(tenant)
    ordinary = make_session(tenant)
    far = "9999-12-31T23:59:59-12:00" if connection.vendor == "postgresql" else "9999-12-31 23:59:59"
    _store_raw_time("sessions_app_voicesession", "started_at", session.pk.hex, far)
    _store_raw_time("sessions_app_voicesession", "ended_at", session.pk.hex, far)
    call = CallLog.objects.create(
        tenant=tenant,
        call_sid="CA" + "e" * 32,
        started_at=ordinary.started_at,
        last_event_at=ordinary.started_at,
    )
    event = CallEvent.objects.create(
        tenant=tenant, call_log=call, kind="call_status", call_sid=call.call_sid, event="completed",
        occurred_at=ordinary.started_at, payload={}, payload_redacted={},
    )  # fmt: skip
    _store_raw_time("sessions_app_callevent", "occurred_at", event.pk, far)
    _store_raw_time("sessions_app_calllog", "last_event_at", call.pk, far)
    changes.mark_days_changed(tenant.pk, [dt.date(9999, 12, 31)])
    SessionDayStats.objects.create(
        tenant=tenant, day=dt.date(9999, 12, 31), agent_key="billing-agent", prompt_version="v12",
        model_name="gpt-4o-realtime", status="completed", qa_state="unreviewed", verdict="",
        escalated=False, sessions=1,
    )  # fmt: skip

    _repair()

    repaired = VoiceSession.objects.get(pk=session.pk)
    assert repaired.started_at == repaired.created_at and repaired.ended_at is None
    assert VoiceSession.objects.get(pk=ordinary.pk).started_at == ordinary.started_at  # untouched
    event.refresh_from_db()
    call.refresh_from_db()
    assert event.occurred_at == event.received_at
    assert call.last_event_at == event.received_at and call.started_at == ordinary.started_at
    assert not SessionDayStats.objects.filter(day__gt=dt.date(3000, 1, 1)).exists()
    assert rollups.utc_day(repaired.created_at) in set(
        ChangedDay.objects.filter(tenant=tenant).values_list("day", flat=True)
    )
    for path in ["/api/v1/voice-sessions", "/api/v1/call-logs", f"/api/v1/call-logs/{call.call_sid}"]:
        assert api.get(path).status_code == 200, path
    client = browser_for(tenant, "admin")
    for path in ["/review/calls/", "/review/dashboard/?started_after=&started_before=", "/review/"]:
        assert client.get(path).status_code == 200, path
    # and the dashboard counts the repaired session on the day it was received
    page = client.get("/review/dashboard/?started_after=&started_before=")
    assert page.context["summary"].total == 2
