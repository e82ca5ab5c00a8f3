"""The call pages through Django's test client: scoping, redaction, filters, jumps, events, queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sessions_app.calls import call_callback_record
from sessions_app.models import CallEventKind, CallLog, SessionShare

pytestmark = pytest.mark.django_db

CALL_SID = "CA1f7a3b3c2e9d4f6a8b0c1d2e3f4a5b6c"
STREAM_SID = "MZ8e1b2c3d4e5f60718293a4b5c6d7e8f9"
CALLER = "+14155550123"
CALLED = "+14155550100"


def html(response) -> str:
    return response.content.decode()


def sid(n: int) -> str:
    return f"CA{n:032x}"


def call_status(tenant, status: str, sequence: int, *, call_sid: str = CALL_SID, day: int = 24, **extra):
    """A voice status callback as Twilio sends it, stored through the real write path."""
    params = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef", "CallSid": call_sid, "CallStatus": status,
        "Direction": "inbound", "From": CALLER, "To": CALLED, "Caller": CALLER, "Called": CALLED,
        "SequenceNumber": str(sequence), "Timestamp": f"Tue, {day} Nov 2026 18:0{sequence}:00 +0000",
    }  # fmt: skip
    params.update(extra)
    return call_callback_record(tenant=tenant, kind=CallEventKind.CALL_STATUS, params=params).call_log


def stream_status(tenant, event: str = "stream-started", *, call_sid: str = CALL_SID, **extra):
    params = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef", "CallSid": call_sid, "StreamSid": STREAM_SID,
        "StreamEvent": event, "StreamError": "", "Timestamp": "2026-11-24T18:01:30Z",
    }  # fmt: skip
    params.update(extra)
    return call_callback_record(tenant=tenant, kind=CallEventKind.STREAM_STATUS, params=params).call_log


def rows(page: str) -> list[str]:
    """The CallSids of the list's rows, in order."""
    return re.findall(r'<td data-label="CallSid"><code>([^<]+)</code>', page)


# --- access --------------------------------------------------------------------------------------


def test_call_pages_need_a_login(tenant):
    call = call_status(tenant, "ringing", 0)
    for url in ["/review/calls/", f"/review/calls/{call.pk}/"]:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


def test_list_shows_only_the_working_tenants_calls(tenant, other_tenant, browser_for):
    call_status(tenant, "completed", 1, call_sid=sid(1))
    call_status(other_tenant, "completed", 1, call_sid=sid(2))
    response = browser_for(tenant, "viewer").get("/review/calls/")
    assert response.status_code == 200
    assert rows(html(response)) == [sid(1)]
    assert "1\u20131 of 1" in html(response)


def test_outsider_gets_404_for_a_call_by_id_by_call_sid_and_by_tenant(tenant, other_tenant, browser_for):
    call = call_status(tenant, "completed", 1)
    outsider = browser_for(other_tenant, "admin")
    assert outsider.get(f"/review/calls/{call.pk}/").status_code == 404
    assert outsider.get(f"/review/calls/{CALL_SID}/").status_code == 404
    assert outsider.get(f"/review/calls/?tenant={tenant.slug}").status_code == 404
    # Its own call log says nothing about the other tenant's call either, nor jumps to it.
    response = outsider.get("/review/calls/", {"call_sid": CALL_SID})
    assert response.status_code == 200 and rows(html(response)) == []


def test_a_member_with_only_shared_sessions_gets_404_on_the_call_pages(tenant, make_session, make_user):
    session = make_session(tenant, call_sid=CALL_SID)
    call = call_status(tenant, "completed", 1)
    user = make_user("outside-reviewer")
    SessionShare.objects.create(tenant=tenant, session=session, user=user)
    client = Client()
    client.force_login(user)
    assert client.get(f"/review/sessions/{session.pk}/").status_code == 200  # the share works
    assert client.get("/review/calls/").status_code == 404
    assert client.get(f"/review/calls/{call.pk}/").status_code == 404
    assert client.get(f"/review/calls/{CALL_SID}/").status_code == 404
    assert 'href="/review/calls/"' not in html(client.get(f"/review/sessions/{session.pk}/"))


def test_nav_links_to_calls_and_marks_it_current(tenant, browser_for):
    page = html(browser_for(tenant, "viewer").get("/review/calls/"))
    assert '<a href="/review/calls/" aria-current="page">Calls</a>' in page
    assert 'href="/review/audit/"' not in page  # a viewer has no view_audit


# --- redaction -----------------------------------------------------------------------------------


def test_numbers_are_redacted_for_an_analyst_on_both_pages(tenant, browser_for):
    call = call_status(tenant, "completed", 1)
    client = browser_for(tenant, "analyst")
    for url in ["/review/calls/", f"/review/calls/{call.pk}/"]:
        page = html(client.get(url))
        assert CALLER not in page and CALLED not in page
        assert "[PHONE]" in page
    detail = html(client.get(f"/review/calls/{call.pk}/"))
    assert "&quot;From&quot;: &quot;[PHONE]&quot;" in detail  # the stored redacted payload
    assert "redacted here" in detail


def test_numbers_stay_redacted_for_admins_too_since_reveals_are_audited_on_the_session(tenant, browser_for):
    call = call_status(tenant, "completed", 1)
    client = browser_for(tenant, "admin")
    for url in ["/review/calls/", f"/review/calls/{call.pk}/"]:
        page = html(client.get(url))
        assert CALLER not in page and CALLED not in page
        assert "[PHONE]" in page


# --- the list ------------------------------------------------------------------------------------


def test_list_columns_and_newest_first(tenant, browser_for):
    call_status(tenant, "completed", 1, call_sid=sid(1), day=20, CallDuration="95")
    call_status(tenant, "no-answer", 1, call_sid=sid(2), day=22, Direction="outbound-api")
    page = html(browser_for(tenant, "viewer").get("/review/calls/"))
    assert rows(page) == [sid(2), sid(1)]
    assert '<span class="badge badge-completed">completed</span>' in page
    assert '<span class="badge badge-no-answer">no-answer</span>' in page
    assert "1m 35s" in page and "outbound-api" in page


def test_session_link_or_no_session_yet(tenant, make_session, browser_for):
    session = make_session(tenant, call_sid=sid(1))
    call_status(tenant, "completed", 1, call_sid=sid(1), day=20)
    call_status(tenant, "completed", 1, call_sid=sid(2), day=22)
    page = html(browser_for(tenant, "viewer").get("/review/calls/"))
    with_session, without = page.split("<tr data-row")[2], page.split("<tr data-row")[1]
    assert f'href="/review/sessions/{session.pk}/"' in with_session and "no session yet" not in with_session
    assert "no session yet" in without and "/review/sessions/" not in without


def test_filters_narrow_the_rows(tenant, browser_for):
    call_status(tenant, "completed", 1, call_sid=sid(1), day=20)
    call_status(tenant, "busy", 1, call_sid=sid(2), day=22)
    call_status(tenant, "completed", 1, call_sid=sid(3), day=24, Direction="outbound-api")
    client = browser_for(tenant, "viewer")
    assert rows(html(client.get("/review/calls/"))) == [sid(3), sid(2), sid(1)]
    page = html(client.get("/review/calls/", {"status": "completed"}))
    assert rows(page) == [sid(3), sid(1)] and '<option value="completed" selected>' in page
    assert rows(html(client.get("/review/calls/", {"status": "busy"}))) == [sid(2)]
    assert rows(html(client.get("/review/calls/", {"direction": "outbound-api"}))) == [sid(3)]
    window = {"started_after": "2026-11-21", "started_before": "2026-11-23"}
    page = html(client.get("/review/calls/", window))
    assert rows(page) == [sid(2)]
    assert 'name="started_after" value="2026-11-21"' in page
    assert rows(html(client.get("/review/calls/", {"started_after": "2026-11-23"}))) == [sid(3)]
    # The API's "from" filter works too (exact number), and rides along as a hidden field.
    page = html(client.get("/review/calls/", {"from": "+15550000000"}))
    assert rows(page) == [] and 'type="hidden" name="from" value="+15550000000"' in page


def test_invalid_filter_is_a_400_with_the_error(tenant, browser_for):
    call_status(tenant, "completed", 1)
    response = browser_for(tenant, "viewer").get("/review/calls/", {"started_after": "not-a-date"})
    assert response.status_code == 400
    assert 'data-testid="filter-errors"' in html(response) and rows(html(response)) == []


def test_paging_keeps_the_filters(tenant, browser_for):
    for n in range(1, 6):
        call_status(tenant, "completed" if n % 2 else "failed", 1, call_sid=sid(n), day=10 + n)
    client = browser_for(tenant, "viewer")
    first = html(client.get("/review/calls/", {"status": "completed", "limit": 2}))
    assert rows(first) == [sid(5), sid(3)] and "1\u20132 of 3" in first
    (next_url,) = re.findall(r'href="([^"]+)" rel="next"', first)
    assert "status=completed" in next_url and "limit=2" in next_url and "offset=2" in next_url
    second = html(client.get("/review/calls/" + next_url.replace("&amp;", "&")))
    assert rows(second) == [sid(1)] and "3\u20133 of 3" in second and 'rel="prev"' in second


def test_a_pasted_call_sid_jumps_to_the_call(tenant, browser_for):
    call = call_status(tenant, "completed", 1)
    client = browser_for(tenant, "viewer")
    response = client.get("/review/calls/", {"call_sid": f"  {CALL_SID} "})
    assert response.status_code == 302 and response["Location"] == f"/review/calls/{call.pk}/"
    missing = client.get("/review/calls/", {"call_sid": sid(99)})
    assert missing.status_code == 200 and rows(html(missing)) == [] and "No calls match" in html(missing)


def test_list_query_count_is_constant(tenant, make_session, browser_for):
    client = browser_for(tenant, "viewer")
    for n in range(2):
        make_session(tenant, call_sid=sid(n))
        call_status(tenant, "completed", 1, call_sid=sid(n))
    client.get("/review/calls/")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/review/calls/").status_code == 200
        return len(captured)

    few = queries()
    for n in range(2, 32):
        make_session(tenant, call_sid=sid(n))
        call_status(tenant, "completed", 1, call_sid=sid(n))
    assert CallLog.objects.filter(tenant=tenant).count() == 32
    assert queries() == few
    assert few <= 10


# --- one call ------------------------------------------------------------------------------------


def test_detail_shows_the_header_and_events_in_order(tenant, browser_for):
    # Delivered out of order: the page shows them in the order they happened.
    call_status(tenant, "completed", 3, CallDuration="42")
    call_status(tenant, "ringing", 1)
    stream_status(tenant, "stream-started")
    call = call_status(tenant, "in-progress", 2)
    page = html(browser_for(tenant, "viewer").get(f"/review/calls/{call.pk}/"))
    assert re.findall(r'<tr data-event="([^"]+)"', page) == [
        "ringing",
        "stream-started",
        "in-progress",
        "completed",
    ]
    assert CALL_SID in page and 'data-testid="call-status">completed' in page and "42s" in page
    assert STREAM_SID in page and '<span class="chip">stream</span>' in page
    assert "2026-11-24 18:03:00 UTC" in page  # ended: the final callback's time


def test_detail_by_call_sid(tenant, browser_for):
    call_status(tenant, "ringing", 1, call_sid=sid(1))
    call = call_status(tenant, "completed", 2, call_sid=sid(1))
    client = browser_for(tenant, "viewer")
    by_sid = html(client.get(f"/review/calls/{sid(1)}/"))
    by_id = html(client.get(f"/review/calls/{call.pk}/"))
    events = re.findall(r'<tr data-event="([^"]+)"', by_sid)
    assert events == re.findall(r'<tr data-event="([^"]+)"', by_id) == ["ringing", "completed"]
    assert client.get(f"/review/calls/{sid(99)}/").status_code == 404
    assert client.get(f"/review/calls/{call.pk + 1000}/").status_code == 404


def test_detail_links_every_session_of_the_call(tenant, make_session, browser_for):
    first = make_session(tenant, call_sid=CALL_SID)
    second = make_session(tenant, call_sid=CALL_SID)
    other = make_session(tenant, call_sid=sid(5))
    call = call_status(tenant, "completed", 1)
    lonely = call_status(tenant, "completed", 1, call_sid=sid(6))
    client = browser_for(tenant, "viewer")
    page = html(client.get(f"/review/calls/{call.pk}/"))
    assert f'href="/review/sessions/{first.pk}/"' in page and f'href="/review/sessions/{second.pk}/"' in page
    assert str(other.pk) not in page and "no session yet" not in page
    assert "no session yet" in html(client.get(f"/review/calls/{lonely.pk}/"))


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_payload_and_stream_error_text_are_escaped(tenant, browser_for, role):
    attack = "<script>alert(1)</script>"
    call = stream_status(tenant, "stream-error", StreamError=attack, StreamName=attack)
    page = html(browser_for(tenant, role).get(f"/review/calls/{call.pk}/"))
    assert attack not in page
    assert '<p class="call-error">&lt;script&gt;alert(1)&lt;/script&gt;</p>' in page
    assert "&quot;StreamName&quot;: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in page


def test_a_foreign_call_404_reads_exactly_like_an_unknown_id(tenant, other_tenant, browser_for):
    foreign = call_status(other_tenant, "completed", 1)
    client = browser_for(tenant, "viewer")
    known = client.get(f"/review/calls/{foreign.pk}/")
    unknown = client.get(f"/review/calls/{foreign.pk + 1000}/")
    assert known.status_code == unknown.status_code == 404
    assert "No such call." in html(known) and "No such call." in html(unknown)
