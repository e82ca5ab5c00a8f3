"""The review pages through Django's test client: scoping, filters, reviewing, the queue, reveals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from qa_app.models import Evaluation, ReviewClaim, SessionTag
from sessions_app.models import AuditEvent, QaState
from sessions_app.services import member_set_role

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def html(response) -> str:
    return response.content.decode()


# --- access -------------------------------------------------------------------------------------


def test_pages_need_a_login(tenant, make_session):
    session = make_session(tenant)
    for url in ["/review/", f"/review/sessions/{session.pk}/", "/review/queue/"]:
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_login_page_signs_in_and_lands_on_the_list(tenant, make_user):
    make_user("ana", tenant, "analyst")
    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "ana", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/review/"
    assert client.get("/review/").status_code == 200


def test_list_shows_only_the_members_tenant(tenant, other_tenant, make_session, browser_for):
    mine = make_session(tenant, summary="Our caller")
    theirs = make_session(other_tenant, summary="Their caller")
    page = html(browser_for(tenant, "viewer").get("/review/"))
    assert f"/review/sessions/{mine.pk}/" in page
    assert f"/review/sessions/{theirs.pk}/" not in page
    assert "tenant-switcher" not in page  # one tenant: no switcher


def test_outsider_gets_404_for_a_session_and_a_foreign_tenant(
    tenant, other_tenant, make_session, browser_for
):
    session = make_session(tenant)
    outsider = browser_for(other_tenant, "admin")
    assert outsider.get(f"/review/sessions/{session.pk}/").status_code == 404
    assert outsider.post(f"/review/sessions/{session.pk}/tags/", {"name": "x"}).status_code == 404
    assert outsider.get(f"/review/?tenant={tenant.slug}").status_code == 404
    assert not SessionTag.objects.exists()


def test_user_without_any_tenant_gets_a_clear_404(make_user):
    client = Client()
    client.force_login(make_user("nobody"))
    response = client.get("/review/")
    assert response.status_code == 404
    assert "not a member of any tenant" in html(response)


def test_tenant_switcher_lists_only_the_users_tenants(tenant, other_tenant, make_session, browser_for):
    from tests.factories import TenantFactory

    third = TenantFactory(slug="initech")
    client = browser_for(tenant, "viewer")
    member_set_role(tenant=other_tenant, user=client.user, role="viewer")
    theirs = make_session(other_tenant)
    make_session(third)
    page = html(client.get("/review/"))
    assert 'name="tenant"' in page and other_tenant.slug in page and "initech" not in page
    switched = html(client.get(f"/review/?tenant={other_tenant.slug}"))
    assert f"/review/sessions/{theirs.pk}/" in switched
    # The choice sticks for the next page without the parameter.
    assert f"/review/sessions/{theirs.pk}/" in html(client.get("/review/"))
    assert client.get("/review/?tenant=initech").status_code == 404


def test_pages_are_never_cached_and_carry_a_content_security_policy(tenant, make_session, browser_for):
    session = make_session(tenant)
    response = browser_for(tenant, "viewer").get(f"/review/sessions/{session.pk}/")
    assert "no-store" in response["Cache-Control"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


# --- the list ------------------------------------------------------------------------------------


def test_list_columns(tenant, make_session, browser_for):
    from tests.factories import session_payload

    failed_call = {**session_payload()["function_calls"][0], "seq": 1, "status": "failed", "error": "504"}
    make_session(
        tenant,
        agent_key="refund-agent",
        summary="Caller wanted a refund for the broken kettle",
        function_calls=[session_payload()["function_calls"][0], failed_call],
        escalation={"escalated": True, "reason": "caller asked for a human", "at_ms": 9000},
        tags=["refund"],
    )
    page = html(browser_for(tenant, "viewer").get("/review/"))
    for text in ["refund-agent", "completed", "unreviewed", "1m 35s", "Escalated", "refund", "broken kettle"]:
        assert text in page
    assert 'class="fail-count"' in page and "1 of 2 tool calls failed" in page
    for header in [
        "Started",
        "Agent",
        "Status",
        "QA state",
        "Duration",
        "Turns",
        "Failed tools",
        "Escalation",
    ]:
        assert f">{header}</th>" in page


def test_list_uses_the_api_filters_and_keeps_them_in_links(tenant, make_session, browser_for):
    keep = make_session(tenant, agent_key="billing-agent", status="failed", started_at=at(5))
    make_session(tenant, agent_key="billing-agent", status="completed", started_at=at(6))
    make_session(tenant, agent_key="support-agent", status="failed", started_at=at(7))
    page = html(browser_for(tenant, "viewer").get("/review/?status=failed&agent_key=billing-agent"))
    assert page.count("data-row ") == 1
    assert f"/review/sessions/{keep.pk}/?status=failed&amp;agent_key=billing-agent" in page
    assert '<option value="failed" selected>' in page


def test_date_inputs_send_plain_dates(tenant, make_session, browser_for):
    make_session(tenant, started_at=dt.datetime(2026, 10, 31, 23, 0, tzinfo=dt.UTC))
    inside = make_session(tenant, started_at=dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC))
    page = html(
        browser_for(tenant, "viewer").get("/review/?started_after=2026-11-01&started_before=2026-11-02")
    )
    assert page.count("data-row ") == 1 and str(inside.pk) in page
    assert 'value="2026-11-01"' in page


def test_a_bad_filter_says_which_and_lists_nothing(tenant, make_session, browser_for):
    make_session(tenant)
    response = browser_for(tenant, "viewer").get("/review/?status=exploded")
    assert response.status_code == 400
    page = html(response)
    assert "status" in page and "must be one of" in page and "data-row " not in page


def test_tag_filter_and_free_text(tenant, make_session, browser_for):
    tagged = make_session(tenant, tags=["angry-caller"], summary="Caller furious about the late parcel")
    make_session(tenant, summary="A calm chat about the weather")
    client = browser_for(tenant, "viewer")
    assert html(client.get("/review/?tag=angry-caller")).count("data-row ") == 1
    page = html(client.get("/review/?q=parcel"))
    assert page.count("data-row ") == 1 and str(tagged.pk) in page


def test_pasting_a_call_sid_or_stream_id_jumps_to_the_session(tenant, make_session, browser_for):
    session = make_session(tenant)
    client = browser_for(tenant, "viewer")
    for value in [session.call_sid, session.stream_id, f"  {session.call_sid} "]:
        response = client.get("/review/", {"q": value})
        assert response.status_code == 302
        assert response["Location"] == f"/review/sessions/{session.pk}/"


def test_a_call_sid_shared_by_two_sessions_lists_both(tenant, make_session, browser_for):
    first = make_session(tenant, call_sid="CA" + "7" * 32)
    make_session(tenant, call_sid=first.call_sid)
    response = browser_for(tenant, "viewer").get("/review/", {"q": first.call_sid})
    assert response.status_code == 302 and response["Location"] == f"/review/?call_sid={first.call_sid}"


def test_list_pages_with_offset(tenant, make_session, browser_for):
    for minute in range(7):
        make_session(tenant, started_at=at(minute))
    client = browser_for(tenant, "viewer")
    first = html(client.get("/review/?limit=3"))
    assert first.count("data-row ") == 3 and "1\u20133 of 7" in first and 'rel="next"' in first
    last = html(client.get("/review/?limit=3&offset=6"))
    assert last.count("data-row ") == 1 and "7\u20137 of 7" in last and 'rel="prev"' in last


def test_list_query_count_is_constant(tenant, make_session, browser_for):
    client = browser_for(tenant, "viewer")
    make_session(tenant, tags=["a"])
    client.get("/review/")  # warm caches (agent list, session)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/review/?limit=50").status_code == 200
        return len(captured)

    few = queries()
    for minute in range(30):
        make_session(tenant, started_at=at(minute), tags=["a", f"t{minute}"])
    assert queries() == few
    assert few <= 12


# --- one session ---------------------------------------------------------------------------------


def test_session_page_shows_header_context_timeline_and_redacts(tenant, make_session, browser_for):
    session = make_session(
        tenant,
        escalation={"escalated": True, "reason": "caller asked for a human", "at_ms": 6000},
    )
    response = browser_for(tenant, "analyst").get(f"/review/sessions/{session.pk}/")
    page = html(response)
    for text in [
        session.call_sid,
        session.stream_id,
        "billing-agent",
        "gpt-4o-realtime",
        "v12",
        "elevenlabs",
        "deepgram-nova-3",
        "en-US",
        "lookup_order",
        "310 ms",
        "caller asked for a human",
        "Add tag",
        "Save evaluation",
        "Failure categories",
    ]:
        assert text in page, text
    assert "+14155550123" not in page  # redacted for analysts
    assert page.count('data-testid="turn"') == 4 and page.count('data-testid="tool-call"') == 1
    # The escalation is marked at its moment: after the turn at 3.1 s, before the one at 6.2 s.
    assert page.index("I was charged twice") < page.index('data-testid="escalation-mark"')
    assert page.index('data-testid="escalation-mark"') < page.index("Let me look that up")
    assert "Reveal" not in page  # analysts may not see raw data


def test_agent_response_latency_is_shown_and_slow_ones_stand_out(tenant, make_session, browser_for):
    from tests.factories import session_payload

    turns = session_payload()["transcript"]
    turns[2] = {**turns[2], "start_ms": 9100, "end_ms": 10000}  # caller ended at 5.6 s: 3.5 s of silence
    turns[3] = {**turns[3], "start_ms": 10500, "end_ms": 12000}
    session = make_session(tenant, transcript=turns)
    page = html(browser_for(tenant, "viewer").get(f"/review/sessions/{session.pk}/"))
    assert "responded after 3.5 s" in page and "gap-slow" in page


def test_failed_tool_calls_stand_out_and_payloads_are_escaped_json(tenant, make_session, browser_for):
    session = make_session(
        tenant,
        function_calls=[
            {
                "seq": 0,
                "turn_seq": 1,
                "name": "issue_refund",
                "arguments": {"order_id": "58213", "note": "<script>alert(1)</script>"},
                "result": None,
                "status": "failed",
                "error": "upstream 504 from payments",
                "latency_ms": 5000,
            }
        ],
    )
    page = html(browser_for(tenant, "viewer").get(f"/review/sessions/{session.pk}/"))
    assert "call-failed" in page and "upstream 504 from payments" in page and "5.0 s" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;order_id&quot;: &quot;58213&quot;" in page  # pretty-printed JSON, escaped


def test_transcript_text_is_escaped(tenant, make_session, browser_for):
    from tests.factories import session_payload

    turns = session_payload()["transcript"]
    turns[1] = {**turns[1], "text": "<img src=x onerror=alert(1)>"}
    session = make_session(tenant, transcript=turns)
    page = html(browser_for(tenant, "viewer").get(f"/review/sessions/{session.pk}/"))
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_previous_and_next_follow_the_filtered_list(tenant, make_session, browser_for):
    newest = make_session(tenant, status="failed", started_at=at(30))
    make_session(tenant, status="completed", started_at=at(20))  # filtered out
    middle = make_session(tenant, status="failed", started_at=at(10))
    oldest = make_session(tenant, status="failed", started_at=at(0))
    client = browser_for(tenant, "viewer")
    page = html(client.get(f"/review/sessions/{middle.pk}/?status=failed"))
    assert f'href="/review/sessions/{newest.pk}/?status=failed" rel="prev"' in page
    assert f'href="/review/sessions/{oldest.pk}/?status=failed" rel="next"' in page
    edge = html(client.get(f"/review/sessions/{oldest.pk}/?status=failed"))
    assert 'rel="next"' not in edge and f"/review/sessions/{middle.pk}/?status=failed" in edge


def test_session_page_query_count_does_not_grow_with_the_transcript(tenant, make_session, browser_for):
    from tests.factories import session_payload

    client = browser_for(tenant, "analyst")
    small = make_session(tenant)
    turns = [
        {
            "seq": n,
            "role": "caller" if n % 2 else "agent",
            "text": f"turn {n}",
            "start_ms": n * 1000,
            "end_ms": n * 1000 + 500,
        }
        for n in range(40)
    ]
    calls = [{**session_payload()["function_calls"][0], "seq": n, "turn_seq": n} for n in range(6)]
    large = make_session(tenant, transcript=turns, function_calls=calls, tags=["a", "b", "c"])

    def queries(session) -> int:
        client.get(f"/review/sessions/{session.pk}/")
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/review/sessions/{session.pk}/").status_code == 200
        return len(captured)

    # 19 since the document reads its automatic evaluations too; 20 since blind review asks whether
    # this reviewer has submitted.
    assert queries(small) == queries(large) <= 20


# --- reviewing -----------------------------------------------------------------------------------


def test_analyst_tags_and_untags(tenant, make_session, browser_for):
    session = make_session(tenant)
    client = browser_for(tenant, "analyst")
    response = client.post(
        f"/review/sessions/{session.pk}/tags/", {"name": "Wrong Refund", "list_query": "status=completed"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/review/sessions/{session.pk}/?status=completed#tags"
    assert list(SessionTag.objects.values_list("tag__name", flat=True)) == ["wrong-refund"]
    assert 'aria-label="Remove tag wrong-refund"' in html(client.get(f"/review/sessions/{session.pk}/"))
    client.post(f"/review/sessions/{session.pk}/tags/wrong-refund/remove/")
    assert not SessionTag.objects.exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["tag.added", "tag.removed"]


def test_a_bad_tag_is_refused_with_the_reason(tenant, make_session, browser_for):
    session = make_session(tenant)
    response = browser_for(tenant, "analyst").post(f"/review/sessions/{session.pk}/tags/", {"name": "!!"})
    assert response.status_code == 400 and "A tag is 1-64 characters" in html(response)
    assert not SessionTag.objects.exists()


def test_analyst_records_an_evaluation(tenant, make_session, browser_for):
    session = make_session(tenant)
    client = browser_for(tenant, "analyst")
    response = client.post(
        f"/review/sessions/{session.pk}/evaluations/",
        {
            "verdict": "fail",
            "score": "2",
            "failure_categories": ["wrong_tool", "hallucination"],
            "notes": "Refunded the wrong order",
        },
    )
    assert response.status_code == 302
    evaluation = Evaluation.objects.get()
    assert (evaluation.verdict, evaluation.score, evaluation.reviewer_label) == (
        "fail",
        2,
        client.user.username,
    )
    assert evaluation.failure_categories == ["wrong_tool", "hallucination"]
    session.refresh_from_db()
    assert session.qa_state == QaState.REVIEWED and session.verdict == "fail"
    page = html(client.get(f"/review/sessions/{session.pk}/"))
    assert "Refunded the wrong order" in page and "2/5" in page and "Wrong tool" in page


def test_an_invalid_evaluation_is_refused_and_stores_nothing(tenant, make_session, browser_for):
    session = make_session(tenant)
    client = browser_for(tenant, "analyst")
    missing = client.post(f"/review/sessions/{session.pk}/evaluations/", {"notes": "keep me"})
    assert missing.status_code == 400
    assert "Pick a verdict" in html(missing) and "keep me" in html(missing)  # the typed note survives
    unknown = client.post(
        f"/review/sessions/{session.pk}/evaluations/", {"verdict": "fail", "failure_categories": ["made_up"]}
    )
    assert unknown.status_code == 400
    assert not Evaluation.objects.exists()
    session.refresh_from_db()
    assert session.qa_state == QaState.UNREVIEWED


@pytest.mark.parametrize(
    "path, data",
    [
        ("tags/", {"name": "sneaky"}),
        ("tags/refund/remove/", {}),
        ("evaluations/", {"verdict": "pass"}),
    ],
)
def test_viewer_writes_are_refused_with_403_and_change_nothing(tenant, make_session, browser_for, path, data):
    session = make_session(tenant, tags=["refund"])
    client = browser_for(tenant, "viewer")
    page = html(client.get(f"/review/sessions/{session.pk}/"))
    assert "Save evaluation" not in page and "Add tag" not in page
    before = AuditEvent.objects.count()
    response = client.post(f"/review/sessions/{session.pk}/{path}", data)
    assert response.status_code == 403
    assert list(SessionTag.objects.values_list("tag__name", flat=True)) == ["refund"]
    assert not Evaluation.objects.exists() and AuditEvent.objects.count() == before


def test_pages_refuse_get_for_writes(tenant, make_session, browser_for):
    session = make_session(tenant)
    assert (
        browser_for(tenant, "analyst").get(f"/review/sessions/{session.pk}/evaluations/").status_code == 405
    )


# --- raw reveal ----------------------------------------------------------------------------------


def test_admin_reveal_is_audited_and_not_cached(tenant, make_session, browser_for):
    session = make_session(tenant)
    client = browser_for(tenant, "admin")
    page = html(client.get(f"/review/sessions/{session.pk}/"))
    assert "+14155550123" not in page and 'data-testid="reveal"' in page
    response = client.post(f"/review/sessions/{session.pk}/reveal/")
    assert response.status_code == 200
    assert "+14155550123" in html(response) and 'data-testid="raw-banner"' in html(response)
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="session.raw_revealed")
    assert event.actor_label == client.user.username and event.target_id == str(session.pk)


def test_reveal_is_refused_without_raw_permission(tenant, make_session, browser_for):
    session = make_session(tenant)
    response = browser_for(tenant, "analyst").post(f"/review/sessions/{session.pk}/reveal/")
    assert response.status_code == 403 and "+14155550123" not in html(response)
    assert not AuditEvent.objects.filter(action="session.raw_revealed").exists()


def test_raw_permission_alone_grants_reveal(tenant, make_session, browser_for):
    from guardian.shortcuts import assign_perm

    session = make_session(tenant)
    client = browser_for(tenant, "analyst")
    assign_perm("sessions_app.view_raw_transcripts", client.user, tenant)
    assert client.post(f"/review/sessions/{session.pk}/reveal/").status_code == 200


# --- shared sessions -----------------------------------------------------------------------------


def test_a_shared_session_is_all_an_outside_reviewer_sees(tenant, make_session, make_user):
    from sessions_app.models import SessionShare

    shared = make_session(tenant)
    hidden = make_session(tenant)
    user = make_user("outside-reviewer")
    SessionShare.objects.create(tenant=tenant, session=shared, user=user)
    client = Client()
    client.force_login(user)
    page = html(client.get("/review/"))
    assert str(shared.pk) in page and str(hidden.pk) not in page and "1\u20131 of 1" in page
    assert client.get(f"/review/sessions/{shared.pk}/").status_code == 200
    assert client.get(f"/review/sessions/{hidden.pk}/").status_code == 404


# --- the queue -----------------------------------------------------------------------------------


def test_queue_hands_two_analysts_different_sessions(tenant, make_session, browser_for):
    for minute in range(3):
        make_session(tenant, started_at=at(minute))
    alice, bob = browser_for(tenant, "analyst", "alice"), browser_for(tenant, "analyst", "bob")
    first, second = alice.get("/review/queue/"), bob.get("/review/queue/")
    assert first.status_code == second.status_code == 302
    assert first["Location"] != second["Location"]
    assert first["Location"].endswith("?queue=1")
    held = {claim.user.username for claim in ReviewClaim.objects.select_related("user")}
    assert held == {"alice", "bob"}
    # Bob sees that Alice holds hers.
    alice_session = first["Location"].split("/")[3]
    assert "alice is reviewing this session" in html(bob.get(f"/review/sessions/{alice_session}/"))


def test_save_and_next_records_and_moves_on_under_the_filter(tenant, make_session, browser_for):
    first = make_session(tenant, agent_key="billing-agent", started_at=at(3))
    make_session(tenant, agent_key="support-agent", started_at=at(2))
    second = make_session(tenant, agent_key="billing-agent", started_at=at(1))
    client = browser_for(tenant, "analyst")
    response = client.get("/review/queue/?agent_key=billing-agent")
    assert response["Location"] == f"/review/sessions/{first.pk}/?agent_key=billing-agent&queue=1"
    assert "Save and next" in html(client.get(response["Location"]))
    saved = client.post(
        f"/review/sessions/{first.pk}/evaluations/",
        {"verdict": "pass", "score": "5", "then": "next", "list_query": "agent_key=billing-agent"},
    )
    assert saved["Location"] == "/review/queue/?agent_key=billing-agent"
    assert client.get(saved["Location"])["Location"].startswith(f"/review/sessions/{second.pk}/")
    assert not ReviewClaim.objects.filter(session=first).exists()  # reviewed: released
    client.post(f"/review/sessions/{second.pk}/evaluations/", {"verdict": "pass"})
    empty = client.get("/review/queue/?agent_key=billing-agent")
    assert empty.status_code == 200 and 'data-testid="queue-empty"' in html(empty)


def test_skip_moves_past_a_session(tenant, make_session, browser_for):
    first = make_session(tenant, started_at=at(2))
    second = make_session(tenant, started_at=at(1))
    client = browser_for(tenant, "analyst")
    assert str(first.pk) in client.get("/review/queue/")["Location"]
    assert str(second.pk) in client.get(f"/review/queue/?skip={first.pk}")["Location"]


def test_an_expired_claim_is_handed_out_again(tenant, make_session, browser_for):
    from django.utils import timezone

    session = make_session(tenant)
    alice, bob = browser_for(tenant, "analyst", "alice"), browser_for(tenant, "analyst", "bob")
    alice.get("/review/queue/")
    assert bob.get("/review/queue/").status_code == 200  # nothing left for bob
    ReviewClaim.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert str(session.pk) in bob.get("/review/queue/")["Location"]


def test_viewers_have_no_queue(tenant, browser_for):
    assert browser_for(tenant, "viewer").get("/review/queue/").status_code == 403


def test_a_foreign_session_404_reads_exactly_like_an_unknown_id(
    tenant, other_tenant, make_session, browser_for
):
    import uuid

    foreign = make_session(other_tenant)
    client = browser_for(tenant, "viewer")
    known = client.get(f"/review/sessions/{foreign.pk}/")
    unknown = client.get(f"/review/sessions/{uuid.uuid4()}/")
    assert known.status_code == unknown.status_code == 404
    assert "No such session." in html(known) and "No such session." in html(unknown)


def test_admin_exports_the_filtered_list_redacted_and_audited(tenant, make_session, browser_for):
    failed = make_session(tenant, status="failed")
    make_session(tenant, status="completed")
    admin = browser_for(tenant, "admin")
    assert "Export 2" in html(admin.get("/review/"))
    response = admin.post("/review/export/", {"format": "csv", "list_query": "status=failed"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["id"] for row in rows] == [str(failed.pk)]
    assert "+14155550123" not in body and "[PHONE]" in body
    event = AuditEvent.objects.get(action="sessions.exported")
    assert event.details["filters"] == {"status": ["failed"]} and event.details["raw"] is False


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_export_needs_the_export_permission(tenant, make_session, browser_for, role):
    make_session(tenant)
    client = browser_for(tenant, role)
    assert "Export" not in html(client.get("/review/")).split('<form class="filter-bar"')[0]
    assert client.post("/review/export/", {"format": "csv"}).status_code == 403
    assert not AuditEvent.objects.filter(action="sessions.exported").exists()
    assert client.get("/review/export/").status_code == 405
