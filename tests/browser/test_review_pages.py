"""End-to-end checks of the /review/ pages in headless Chromium, against a live server.

Each test flushes the database (live_server needs transactional_db), so there are few tests and
each one walks a whole story. Run: .venv/bin/pytest -q tests/browser -p no:cacheprovider
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from qa_app.models import Evaluation
from qa_app.services import evaluation_record, session_tag_add
from sessions_app.actors import Actor
from sessions_app.models import AuditEvent, VoiceSession

SESSION_PATH = re.compile(r"/review/sessions/([0-9a-f-]{36})/")
RAW_NUMBER = "+14155550123"
# The innermost elements sticking out past the right edge of the viewport, for overflow reports.
WIDER_THAN_VIEWPORT = """width => {
  const sticksOut = el => el.getBoundingClientRect().right > width + 0.5;
  const describe = el => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`
    + ` "${el.textContent.trim().slice(0, 40)}"`;
  return [...document.querySelectorAll("body *")]
    .filter(el => sticksOut(el) && ![...el.children].some(sticksOut)).slice(0, 5).map(describe);
}"""
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def session_id_of(page: Page) -> str:
    match = SESSION_PATH.search(page.url)
    assert match, f"not on a session page: {page.url}"
    return match.group(1)


def row_ids(page: Page) -> list[str]:
    hrefs = page.locator("table.sessions tr[data-row]").evaluate_all(
        "rows => rows.map(row => row.getAttribute('data-href'))"
    )
    return [SESSION_PATH.search(href).group(1) for href in hrefs]


def assert_clean(page: Page, browser_log) -> None:
    log = browser_log(page)
    assert log.csp_problems() == [], log.csp_problems()
    assert log.page_errors == [], log.page_errors


@pytest.mark.browser
def test_list_is_tenant_scoped_filters_by_status_and_jumps_to_a_pasted_call_sid(
    live_server, page, login, browser_log, tenant, other_tenant, make_user, make_session
):
    completed = make_session(tenant, status="completed", summary="Refund issued for order 58213.")
    failed = make_session(tenant, status="failed", summary="Call dropped while looking up the order.")
    foreign = make_session(other_tenant, status="failed", summary="Globex-only conversation.")
    make_user("ana", tenant, "analyst")

    login(page, "ana")
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    assert sorted(row_ids(page)) == sorted([str(completed.pk), str(failed.pk)])
    expect(page.locator("table.sessions")).not_to_contain_text("Globex-only")
    expect(page.get_by_test_id("result-count")).to_contain_text("of 2")

    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"[?&]status=failed(&|$)"))
    assert row_ids(page) == [str(failed.pk)]
    expect(page.get_by_label("Status")).to_have_value("failed")
    # The row links carry the filter, so prev/next on the session page stay inside it.
    assert "status=failed" in page.locator("tr[data-row] a.row-link").first.get_attribute("href")

    # Another tenant's call_sid is not a jump target: the list simply has no match.
    search = page.get_by_placeholder("Search, or paste a call_sid / stream_id")
    search.fill(foreign.call_sid)
    search.press("Enter")
    page.wait_for_url(re.compile(rf"/review/\?(.*&)?q={foreign.call_sid}(&|$)"))  # no redirect to it
    expect(page.locator("tr[data-row]")).to_have_count(0)

    search = page.get_by_placeholder("Search, or paste a call_sid / stream_id")
    search.fill(completed.call_sid)
    search.press("Enter")
    page.wait_for_url(SESSION_PATH)
    assert session_id_of(page) == str(completed.pk)
    expect(page.locator(".session-head")).to_contain_text(completed.call_sid)
    assert_clean(page, browser_log)


@pytest.mark.browser
def test_keyboard_only_review_tags_evaluates_and_navigates(
    live_server, page, login, browser_log, tenant, make_user, make_session
):
    for _ in range(3):
        make_session(tenant)
    make_user("ana", tenant, "analyst")
    login(page, "ana", submit_with_enter=True)
    ids = row_ids(page)
    assert len(ids) == 3

    page.keyboard.press("j")
    expect(page.locator("tr[data-row]").nth(0)).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("j")
    expect(page.locator("tr[data-row]").nth(1)).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("tr[data-row].selected")).to_have_count(1)
    page.keyboard.press("Enter")
    page.wait_for_url(SESSION_PATH)
    assert session_id_of(page) == ids[1]

    page.keyboard.press("t")
    expect(page.get_by_label("Add tag")).to_be_focused()
    page.keyboard.type("double-charge")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#tags$"))  # back on the session once it has loaded (and app.js ran)
    expect(page.locator("#tags .tag-list")).to_contain_text("double-charge")
    expect(page.get_by_role("button", name="Remove tag double-charge")).to_be_visible()

    page.keyboard.press("e")
    expect(page.locator("#verdict-pass")).to_be_focused()
    page.keyboard.press("2")
    expect(page.locator("#verdict-fail")).to_be_checked()
    page.keyboard.press("Tab")  # leaves the radio group: the Score select
    expect(page.get_by_label("Score")).to_be_focused()
    page.keyboard.press("Tab")  # the first failure category
    first_category = page.locator("fieldset.categories input[type=checkbox]").first
    expect(first_category).to_be_focused()
    page.keyboard.press("Space")
    expect(first_category).to_be_checked()
    category_label = page.locator("fieldset.categories label").first.inner_text().strip()
    notes = page.get_by_label("Notes")
    for _ in range(20):
        if notes.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(notes).to_be_focused()
    page.keyboard.type("Agent refunded the wrong order; just keep judging.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"#evaluate$"))

    latest = page.locator("ol.history > li").first
    expect(latest.locator(".badge")).to_have_text(re.compile(r"^\s*fail\s*$", re.IGNORECASE))
    expect(latest).to_contain_text("Agent refunded the wrong order; just keep judging.")
    expect(latest.locator(".history-cats")).to_contain_text(category_label, ignore_case=True)
    evaluation = Evaluation.objects.get(session_id=ids[1])
    assert evaluation.verdict == "fail"
    assert evaluation.notes == "Agent refunded the wrong order; just keep judging."

    page.keyboard.press("k")
    page.wait_for_url(lambda url: ids[0] in url)
    page.keyboard.press("j")
    page.wait_for_url(lambda url: ids[1] in url)
    page.keyboard.press("j")
    page.wait_for_url(lambda url: ids[2] in url)
    expect(page.locator("[data-nav=next]")).to_have_count(0)  # the oldest has nothing older
    assert_clean(page, browser_log)


@pytest.mark.browser
def test_queue_hands_two_analysts_different_sessions_and_save_and_next_moves_on(
    live_server, new_page, login, browser_log, tenant, make_user, make_session
):
    all_ids = {str(make_session(tenant).pk) for _ in range(3)}
    make_user("alice", tenant, "analyst")
    make_user("bob", tenant, "analyst")
    alice, bob = login(new_page(), "alice"), login(new_page(), "bob")

    alice.goto(f"{live_server.url}/review/queue/")
    alice.wait_for_url(re.compile(r"/review/sessions/[0-9a-f-]{36}/\?queue=1$"))
    bob.goto(f"{live_server.url}/review/queue/")
    bob.wait_for_url(re.compile(r"/review/sessions/[0-9a-f-]{36}/\?queue=1$"))
    first, held_by_bob = session_id_of(alice), session_id_of(bob)
    assert first != held_by_bob
    assert {first, held_by_bob} <= all_ids

    alice.locator("#verdict-pass").check()
    alice.get_by_role("button", name="Save and next").click()
    alice.wait_for_url(lambda url: "queue=1" in url and first not in url)
    third = session_id_of(alice)
    assert third not in {first, held_by_bob}
    expect(alice.locator(".flash-stack")).to_contain_text("Saved: pass.")
    assert Evaluation.objects.filter(session_id=first, verdict="pass").exists()

    # Bob's session is shown to Alice as held by him, and the queue never hands it to her.
    alice.locator("#verdict-needs_work").check()
    alice.get_by_role("button", name="Save and next").click()
    alice.wait_for_url(re.compile(r"/review/queue/$"))
    expect(alice.get_by_test_id("queue-empty")).to_contain_text("being reviewed")
    expect(alice.get_by_test_id("queue-empty")).to_contain_text("1 unreviewed session")
    alice.goto(f"{live_server.url}/review/sessions/{held_by_bob}/")
    expect(alice.get_by_test_id("claim-banner")).to_contain_text("bob is reviewing")
    assert_clean(alice, browser_log)
    assert_clean(bob, browser_log)


@pytest.mark.browser
def test_admin_reveal_is_audited_and_a_viewer_can_only_read(
    live_server, new_page, login, browser_log, tenant, make_user, make_session
):
    session = make_session(tenant, from_number=RAW_NUMBER, tags=["vip"])
    admin = make_user("ada", tenant, "admin")
    make_user("vic", tenant, "viewer")
    session_url = f"{live_server.url}/review/sessions/{session.pk}/"

    # Admin: redacted until Reveal, raw (with the banner) after it, and the reveal is audited.
    page = login(new_page(), "ada")
    page.goto(session_url)
    from_number = page.get_by_test_id("from-number")
    expect(from_number).not_to_be_empty()
    expect(from_number).not_to_contain_text("5550123")
    expect(page.locator(".session-head")).not_to_contain_text("5550123")
    expect(page.get_by_test_id("raw-banner")).to_have_count(0)
    assert not AuditEvent.objects.filter(action="session.raw_revealed").exists()

    page.get_by_test_id("reveal").click()
    expect(page.get_by_test_id("raw-banner")).to_be_visible()
    expect(from_number).to_have_text(RAW_NUMBER)
    event = AuditEvent.objects.get(action="session.raw_revealed")
    assert (event.target_id, event.actor_user_id, event.tenant_id) == (str(session.pk), admin.pk, tenant.pk)

    page.get_by_role("link", name="Hide raw").click()
    expect(page.get_by_test_id("raw-banner")).to_have_count(0)
    expect(from_number).not_to_contain_text("5550123")
    assert_clean(page, browser_log)

    # Viewer: the same session, read-only.
    viewer = login(new_page(), "vic")
    expect(viewer.get_by_role("link", name="Review queue →")).to_have_count(0)
    viewer.goto(session_url)
    expect(viewer.locator("#session-title")).to_be_visible()
    expect(viewer.get_by_test_id("turn")).to_have_count(4)
    expect(viewer.locator("#tags .tag-list")).to_contain_text("vip")
    expect(viewer.locator("form[data-evaluation-form]")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Save evaluation")).to_have_count(0)
    expect(viewer.get_by_label("Add tag")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Remove tag vip")).to_have_count(0)
    expect(viewer.get_by_test_id("reveal")).to_have_count(0)
    expect(viewer.get_by_test_id("from-number")).not_to_contain_text("5550123")

    # The server refuses too, not just the template: a forged POST with a valid CSRF token is a 403.
    token = next(c["value"] for c in viewer.context.cookies() if c["name"] == "csrftoken")
    response = viewer.request.post(
        f"{session_url}evaluations/",
        form={"csrfmiddlewaretoken": token, "verdict": "pass"},
        headers={"Referer": viewer.url},
    )
    assert response.status == 403
    assert not Evaluation.objects.filter(session=session).exists()
    assert_clean(viewer, browser_log)


@pytest.mark.browser
def test_transcript_and_tool_payloads_are_shown_as_text_never_run(
    live_server, page, login, browser_log, tenant, make_user, make_session
):
    payload_turn = {"seq": 0, "role": "caller", "text": XSS, "start_ms": 0, "end_ms": 2000}
    call = {
        "seq": 0,
        "turn_seq": 0,
        "name": "lookup_order",
        "arguments": {"order_id": XSS},
        "result": {"note": XSS},
        "status": "failed",
        "error": XSS,
        "latency_ms": 120,
    }
    session = make_session(tenant, transcript=[payload_turn], function_calls=[call], summary=XSS)
    make_user("ada", tenant, "admin")
    login(page, "ada")

    expect(page.locator("td.summary-cell").first).to_contain_text("<script>window.__xss=1</script>")
    assert page.evaluate("typeof window.__xss") == "undefined"

    page.goto(f"{live_server.url}/review/sessions/{session.pk}/")
    for view in ("redacted", "raw"):
        caller_turn = page.get_by_test_id("turn").first
        expect(caller_turn.locator(".turn-text")).to_have_text(XSS)
        tool_call = page.get_by_test_id("tool-call").first
        expect(tool_call).to_have_class(re.compile(r"\bcall-failed\b"))
        expect(tool_call.locator(".call-error")).to_have_text(XSS)
        page.get_by_role("button", name="Expand all (x)").click()
        result = tool_call.locator("details", has_text="Result")
        expect(result).to_have_attribute("open", "")
        expect(result.locator("code")).to_contain_text("<script>window.__xss=1</script>")
        expect(result.locator("code")).to_contain_text("<img src=x onerror=")
        expect(page.locator("main img, main script")).to_have_count(0)
        assert page.evaluate("typeof window.__xss") == "undefined", view
        if view == "redacted":
            page.get_by_test_id("reveal").click()
            expect(page.get_by_test_id("raw-banner")).to_be_visible()
    assert_clean(page, browser_log)


@pytest.mark.browser
def test_screenshots_and_no_horizontal_overflow_on_a_phone(
    live_server, page, phone_page, login, screenshot, browser_log, tenant, make_user, make_session
):
    analyst = make_user("ana", tenant, "analyst")
    make_session(tenant)
    make_session(tenant, status="failed", summary="Caller hung up after the lookup tool timed out. " * 3)
    busy = make_session(
        tenant,
        agent_key="appointments-scheduler-long-agent-name",
        tags=["needs-followup", "double-charge", "vip-customer"],
        escalation={"escalated": True, "reason": "Caller asked for a human supervisor", "at_ms": 11000},
        function_calls=[
            {
                "seq": 0,
                "turn_seq": 1,
                "name": "lookup_order_with_a_rather_long_function_name",
                "arguments": {"order_id": "58213", "include": ["payments", "refunds", "shipping_events"]},
                "result": None,
                "status": "failed",
                "error": "TimeoutError: upstream billing service did not answer within 3000 ms",
                "latency_ms": 3000,
            }
        ],
    )
    evaluation_record(
        session=busy,
        actor=Actor(user=analyst),
        verdict="needs_work",
        score=3,
        notes="Should have apologised and escalated before the second retry.",
    )
    session_tag_add(session=busy, name="reviewed-by-ana", actor=Actor(user=analyst))

    overflow: dict[str, tuple[int, list[str]]] = {}

    def check(target: Page, name: str) -> None:
        screenshot(target, name)
        if target.viewport_size["width"] == 390:
            width = target.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                overflow[name] = (width, target.evaluate(WIDER_THAN_VIEWPORT, 390))

    for target in (page, phone_page):
        target.goto(f"{live_server.url}/accounts/login/")
        expect(target.get_by_role("button", name="Sign in")).to_be_visible()
        check(target, "login")
        login(target, "ana")
        expect(target.locator("tr[data-row]")).to_have_count(3)
        check(target, "list")
        target.goto(f"{live_server.url}/review/sessions/{busy.pk}/")
        expect(target.get_by_test_id("tool-call")).to_have_class(re.compile(r"\bcall-failed\b"))
        check(target, "session-detail")

    for session in VoiceSession.objects.filter(tenant=tenant, qa_state="unreviewed"):
        evaluation_record(session=session, actor=Actor(user=analyst), verdict="pass")
    for target in (page, phone_page):
        target.goto(f"{live_server.url}/review/queue/")
        expect(target.get_by_test_id("queue-empty")).to_contain_text("Queue is clear")
        check(target, "queue-empty")
        assert_clean(target, browser_log)

    assert overflow == {}, f"pages wider than a 390 px phone: {overflow}"
