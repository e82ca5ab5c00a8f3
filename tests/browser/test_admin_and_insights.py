"""Browser stories for tags and evaluations by mouse, tenant isolation, tenant settings (API keys,
members) and the insight pages (calls, audit, dashboard, agent compare, readiness, contract).

Each live_server test flushes the database, so there are few tests and each one walks a story.
Run: .venv/bin/pytest -q tests/browser -p no:cacheprovider
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from qa_app.contracts import contract_save
from qa_app.readiness import attestation_record
from qa_app.services import evaluation_record
from sessions_app.access import access_for_user
from sessions_app.actors import Actor
from sessions_app.calls import call_callback_record
from sessions_app.services import api_key_create

SESSION_PATH = re.compile(r"/review/sessions/([0-9a-f-]{36})/")
AGENT = "billing-agent"
OF_COUNT = re.compile(r"of\s+(?:about\s+)?([\d,]+)")
# The innermost elements sticking out past the viewport's right edge, ignoring those inside a
# horizontal scroller (the phone nav and tab bars scroll on purpose), for overflow reports.
WIDER_THAN_VIEWPORT = """width => {
  const scrolled = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) return true; } return false; };
  const sticksOut = el => el.getBoundingClientRect().right > width + 0.5 && !scrolled(el);
  const describe = el => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`
    + ` "${el.textContent.trim().slice(0, 40)}" right=${Math.round(el.getBoundingClientRect().right)}`;
  return [...document.querySelectorAll("body *")]
    .filter(el => sticksOut(el) && ![...el.children].some(sticksOut)).slice(0, 6).map(describe);
}"""


def assert_clean(page: Page, browser_log, *, allow: tuple[str, ...] = ()) -> None:
    """No CSP violation, uncaught exception or console error (bar messages matching ``allow``)."""
    log = browser_log(page)
    assert log.csp_problems() == [], log.csp_problems()
    assert log.page_errors == [], log.page_errors
    errors = [text for text in log.console_errors if not any(part in text for part in allow)]
    assert errors == [], errors


def api_get(page: Page, url: str, key: str):
    return page.request.get(url, headers={"Authorization": f"Bearer {key}"})


def listed_count(page: Page) -> int:
    """The total the session list says it shows ("1-7 of 7 matching these filters")."""
    text = page.get_by_test_id("result-count").inner_text()
    match = OF_COUNT.search(text)
    return int(match.group(1).replace(",", "")) if match else 0


@pytest.mark.browser
def test_tags_and_an_evaluation_by_mouse_reach_the_api(
    live_server, page, login, browser_log, tenant, make_user, make_session
):
    session = make_session(tenant, summary="Caller disputed a late fee on invoice 7731.")
    make_user("ana", tenant, "analyst")
    _, key = api_key_create(tenant=tenant, name="browser test reader", scopes=["sessions:read"])
    login(page, "ana")
    page.locator(f'tr[data-row] a.row-link[href*="{session.pk}"]').click()
    page.wait_for_url(SESSION_PATH)

    tags = page.locator("#tags .tag-list")
    expect(tags).to_contain_text("No tags yet.")
    page.get_by_label("Add tag").click()
    page.get_by_label("Add tag").fill("late-fee")
    page.get_by_label("Add tag").press("Enter")
    page.wait_for_url(re.compile(r"#tags$"))
    expect(tags.locator("li.chip")).to_have_count(1)
    expect(tags.locator("li.chip")).to_contain_text("late-fee")
    page.get_by_role("button", name="Remove tag late-fee").click()
    expect(page.get_by_role("button", name="Remove tag late-fee")).to_have_count(0)
    page.reload()
    expect(tags.locator("li.chip")).to_have_count(0)
    expect(tags).to_contain_text("No tags yet.")

    page.locator("label.verdict-fail").click()
    expect(page.locator("#verdict-fail")).to_be_checked()
    page.get_by_role("checkbox", name=re.compile(r"^Hallucination")).check()
    page.get_by_role("checkbox", name="Wrong tool arguments").check()
    page.get_by_label("Notes").fill("Invented a fee waiver that billing never offered.")
    page.get_by_role("button", name="Save evaluation").click()
    page.wait_for_url(re.compile(r"#evaluate$"))
    latest = page.locator("ol.history > li").first
    expect(latest.locator(".badge")).to_have_text(re.compile(r"^\s*fail\s*$", re.IGNORECASE))
    expect(latest.locator(".history-cats .chip")).to_have_count(2)

    response = api_get(page, f"{live_server.url}/api/v1/voice-sessions/{session.pk}", key)
    assert response.status == 200, response.text()
    document = response.json()
    assert document["tags"] == []
    (evaluation,) = document["evaluations"]
    assert evaluation["verdict"] == "fail"
    assert sorted(evaluation["failure_categories"]) == ["hallucination", "wrong_tool_args"]
    assert evaluation["notes"] == "Invented a fee waiver that billing never offered."
    assert evaluation["reviewer"] == "ana"
    assert document["qa_state"] == "reviewed"
    assert_clean(page, browser_log)


@pytest.mark.browser
def test_another_tenants_session_is_a_404_that_shows_none_of_it(
    live_server, page, login, tenant, other_tenant, make_user, make_session
):
    make_session(tenant)
    foreign = make_session(
        other_tenant, agent_key="globex-secret-agent", summary="Globex merger call: codename BLUEJAY."
    )
    make_user("ana", tenant, "admin")
    login(page, "ana")

    response = page.goto(f"{live_server.url}/review/sessions/{foreign.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    body = page.locator("body")
    for secret in ("BLUEJAY", "globex-secret-agent", foreign.call_sid, foreign.stream_id, "Globex"):
        expect(body).not_to_contain_text(secret)
    # The reveal endpoint is no way in either.
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    reveal = page.request.post(
        f"{live_server.url}/review/sessions/{foreign.pk}/reveal/",
        form={"csrfmiddlewaretoken": token},
        headers={"Referer": page.url},
    )
    assert reveal.status == 404
    assert "BLUEJAY" not in reveal.text()


@pytest.mark.browser
def test_another_tenants_session_404_reads_like_an_unknown_session(
    live_server, page, login, tenant, other_tenant, make_user, make_session
):
    foreign = make_session(other_tenant)
    make_user("ana", tenant, "analyst")
    login(page, "ana")
    page.goto(f"{live_server.url}/review/sessions/{foreign.pk}/")
    foreign_text = page.locator("main").inner_text()
    page.goto(f"{live_server.url}/review/sessions/00000000-0000-4000-8000-000000000000/")
    assert page.locator("main").inner_text() == foreign_text


@pytest.mark.browser
def test_admin_creates_uses_and_revokes_a_key_and_manages_members(
    live_server, page, phone_page, new_page, login, screenshot, browser_log, tenant, make_user, make_session
):
    make_session(tenant)
    make_user("ada", tenant, "admin")
    nina = make_user("nina")  # exists, but not a member yet
    settings_url = f"{live_server.url}/review/settings/"
    list_url = f"{live_server.url}/api/v1/voice-sessions"
    overflow: dict[str, tuple[int, list[str]]] = {}

    def create_key(target: Page, name: str) -> str:
        target.goto(settings_url)
        target.get_by_label("Name", exact=True).fill(name)
        target.get_by_role("checkbox", name=re.compile(r"^sessions:read —")).check()
        target.get_by_role("button", name="Create key").click()
        new_key = target.locator("#new-api-key")
        expect(new_key).to_be_visible()
        raw = new_key.inner_text().strip()
        assert re.fullmatch(r"vsk_[A-Za-z0-9]+_[A-Za-z0-9]+", raw), raw
        return raw

    login(page, "ada")
    raw = create_key(page, "nightly export")
    prefix = raw.split("_")[1]
    expect(page.get_by_test_id(f"key-{prefix}")).to_contain_text("nightly export")
    screenshot(page, "settings-new-key")

    assert api_get(page, list_url, raw).status == 200
    page.goto(settings_url)
    expect(page.locator("#new-api-key")).to_have_count(0)
    assert raw not in page.content()
    assert raw[-12:] not in page.content()
    row = page.get_by_test_id(f"key-{prefix}")
    expect(row).to_contain_text("active")

    page.get_by_role("button", name=f"Revoke vsk_{prefix}").click()
    page.wait_for_url(re.compile(r"/review/settings/#keys$"))
    expect(row).to_contain_text("revoked")
    expect(page.get_by_role("button", name=f"Revoke vsk_{prefix}")).to_have_count(0)
    revoked = api_get(page, list_url, raw)
    assert revoked.status == 401, revoked.text()

    # Members: an existing user is invited, not added; she accepts on her own Invitations page.
    page.get_by_label("Username").fill("nina")
    page.locator("form.add-member select[name=role]").select_option("analyst")
    page.get_by_role("button", name="Add member").click()
    page.wait_for_url(re.compile(r"/review/settings/#members$"))
    expect(page.locator(".flash-stack")).to_contain_text("Invitation sent: nina joins as analyst")
    expect(page.get_by_test_id("invitation-nina")).to_contain_text("Analyst")
    expect(page.get_by_label("Role of nina")).to_have_count(0)
    assert access_for_user(nina, tenant) is None
    screenshot(page, "settings-invitation")

    invited = new_page("desktop")
    login(invited, "nina")  # no tenant yet: she lands on her invitations
    expect(invited).to_have_url(re.compile(r"/review/invitations/$"))
    expect(invited.get_by_test_id("nav-invitations")).to_contain_text("1")
    expect(invited.get_by_test_id("invitation")).to_contain_text(tenant.name)
    screenshot(invited, "invitations")
    invited.get_by_role("button", name="Accept").click()
    invited.wait_for_url(re.compile(rf"/review/\?tenant={tenant.slug}$"))
    expect(invited.locator(".flash-stack")).to_contain_text(f"You joined {tenant.name} as analyst")
    expect(invited.get_by_test_id("nav-invitations")).to_have_count(0)
    assert_clean(invited, browser_log)

    # Then demote her through the auto-submitting select.
    page.goto(settings_url)
    expect(page.get_by_test_id("invitation-nina")).to_have_count(0)
    role = page.get_by_label("Role of nina")
    expect(role).to_have_value("analyst")
    with page.expect_navigation():
        role.select_option("viewer")
    page.wait_for_url(re.compile(r"#members$"))
    expect(page.locator(".flash-stack")).to_contain_text("nina is now viewer.")
    expect(page.get_by_label("Role of nina")).to_have_value("viewer")
    access = access_for_user(nina, tenant)
    assert access is not None and access.can_view and not access.can_review
    assert_clean(page, browser_log)

    # The same flow on a phone, for the screenshots (a key is only ever shown once).
    make_user("omar")  # exists, belongs to nobody
    login(phone_page, "ada")
    phone_page.goto(settings_url)
    phone_page.get_by_label("Username").fill("omar")
    phone_page.get_by_role("button", name="Add member").click()
    expect(phone_page.get_by_test_id("invitation-omar")).to_be_visible()
    screenshot(phone_page, "settings-invitation")
    for name in ("settings-invitation",):
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            overflow[name] = (width, phone_page.evaluate(WIDER_THAN_VIEWPORT, 390))
    omar_phone = new_page("phone")
    login(omar_phone, "omar")
    expect(omar_phone.get_by_test_id("invitation")).to_contain_text(tenant.name)
    screenshot(omar_phone, "invitations")
    width = omar_phone.evaluate("document.documentElement.scrollWidth")
    if width > 390:
        overflow["invitations"] = (width, omar_phone.evaluate(WIDER_THAN_VIEWPORT, 390))
    assert_clean(omar_phone, browser_log)
    phone_raw = create_key(phone_page, "phone key")
    screenshot(phone_page, "settings-new-key")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    if width > 390:
        overflow["settings-new-key"] = (width, phone_page.evaluate(WIDER_THAN_VIEWPORT, 390))
    assert api_get(phone_page, list_url, phone_raw).status == 200
    assert_clean(phone_page, browser_log)
    assert overflow == {}, f"pages wider than a 390 px phone: {overflow}"


# --- insights -----------------------------------------------------------------------------------


def _call_params(call_sid: str, status: str, sequence: int, **extra) -> dict:
    """A Twilio voice status callback (see tests/sessions_app/test_webhooks.py)."""
    stamp = (timezone.now() - dt.timedelta(hours=3, minutes=-sequence)).strftime(
        "%a, %d %b %Y %H:%M:%S +0000"
    )
    params = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef", "ApiVersion": "2010-04-01", "CallSid": call_sid,
        "CallStatus": status, "Called": "+14155550100", "Caller": "+14155550123", "Direction": "inbound",
        "From": "+14155550123", "To": "+14155550100", "FromCity": "SAN FRANCISCO", "FromState": "CA",
        "FromCountry": "US", "CallbackSource": "call-progress-events", "SequenceNumber": str(sequence),
        "Timestamp": stamp,
    }  # fmt: skip
    params.update(extra)
    return params


def _failed_lookup(latency_ms: int = 3000) -> list[dict]:
    return [
        {
            "seq": 0,
            "turn_seq": 1,
            "name": "lookup_order",
            "arguments": {"order_id": "58213"},
            "result": None,
            "status": "failed",
            "error": "TimeoutError: billing did not answer",
            "latency_ms": latency_ms,
        }
    ]


def seed_insights(tenant, make_session, admin) -> dict:
    """Two prompt versions of one agent, ten sessions each over three weeks, most of them reviewed.

    v11 mostly passes; v12 fails more (hallucination, failed lookups). Returns the expected counts.
    """
    actor = Actor(user=admin)
    now = timezone.now()
    fails = 0
    sessions = []
    for version in ("v11", "v12"):
        for n in range(10):
            days = (n * 2) % 20 + (6 if version == "v11" else 0)  # v12 is the newer prompt
            started = now - dt.timedelta(days=days, hours=2 + n)
            bad = (version == "v12" and n % 2 == 0) or (version == "v11" and n == 3)
            overrides = {
                "agent_key": AGENT,
                "started_at": started,
                "ended_at": started + dt.timedelta(seconds=90 + n),
                "model": {
                    "provider": "openai",
                    "name": "gpt-4o-realtime",
                    "prompt_version": version,
                    "params": {},
                },
                "status": "failed" if bad and n % 4 == 0 else "completed",
            }
            if bad:
                overrides["function_calls"] = _failed_lookup(2500 + n * 100)
            if version == "v12" and n in (1, 7):
                overrides["escalation"] = {"escalated": True, "reason": "Asked for a human", "at_ms": 9000}
            session = make_session(tenant, **overrides)
            sessions.append(session)
            if n == 9:
                continue  # one unreviewed per version
            if bad:
                fails += 1
                evaluation_record(
                    session=session,
                    actor=actor,
                    verdict="fail",
                    score=2,
                    failure_categories=["hallucination", "wrong_tool_args"]
                    if n % 4 == 0
                    else ["wrong_tool_args"],
                    notes="Promised a refund the lookup never confirmed.",
                )
            elif n == 5:
                evaluation_record(
                    session=session, actor=actor, verdict="needs_work", failure_categories=["tts_or_latency"]
                )
            else:
                evaluation_record(session=session, actor=actor, verdict="pass", score=5)
    return {"fails": fails, "sessions": sessions}


@pytest.mark.browser
def test_insight_pages_render_on_desktop_and_phone_and_dashboard_numbers_match_the_list(
    live_server, page, phone_page, login, screenshot, browser_log, tenant, make_user, make_session
):
    admin = make_user("ada", tenant, "admin")
    seeded = seed_insights(tenant, make_session, admin)
    first = seeded["sessions"][-1]
    for status, sequence, extra in (
        ("ringing", 0, {}),
        ("in-progress", 1, {}),
        ("completed", 2, {"CallDuration": "95"}),
    ):
        call_callback_record(
            tenant=tenant, kind="call_status", params=_call_params(first.call_sid, status, sequence, **extra)
        )
    call_callback_record(
        tenant=tenant,
        kind="call_status",
        params=_call_params("CA" + "f" * 32, "no-answer", 0, CallDuration="0"),
    )
    contract_save(
        tenant=tenant,
        agent_key=AGENT,
        prompt_version="v12",
        purpose="Answer billing questions and refund duplicate charges.",
        allowed_intents=["billing_question", "refund_duplicate_charge"],
        allowed_tools=[
            {"name": "refund_charge"}
        ],  # lookup_order is not allowed: every v12 session is a finding
        escalation_rules="Escalate disputes over $500.",
        actor=Actor(user=admin),
    )
    attestation_record(
        tenant=tenant,
        agent_key=AGENT,
        prompt_version="v12",
        gate="security_review",
        status="passed",
        owner="secops",
        evidence="SEC-1042: scopes, webhook signatures and redaction reviewed.",
        actor=Actor(user=admin),
    )

    pages = [
        ("calls", "/review/calls/", "Calls"),
        ("audit", "/review/audit/", "Audit trail"),
        ("dashboard", "/review/dashboard/", "Dashboard"),
        ("agent-compare", f"/review/agents/{AGENT}/", f"{AGENT}: compare prompt versions"),
        ("agent-readiness", f"/review/agents/{AGENT}/readiness/", AGENT),
        ("agent-contract", f"/review/agents/{AGENT}/contract/", AGENT),
    ]
    overflow: dict[str, tuple[int, list[str]]] = {}
    for target in (page, phone_page):
        login(target, "ada")
        for name, path, heading in pages:
            response = target.goto(f"{live_server.url}{path}")
            assert response.status == 200, (path, response.status)
            expect(target.locator("h1")).to_contain_text(heading)
            screenshot(target, name)
            if target.viewport_size["width"] == 390:
                width = target.evaluate("document.documentElement.scrollWidth")
                if width > 390:
                    overflow[name] = (width, target.evaluate(WIDER_THAN_VIEWPORT, 390))
        assert_clean(target, browser_log)

    # What the pages show, checked once on the desktop.
    page.goto(f"{live_server.url}/review/calls/")
    expect(page.locator("tr[data-row]")).to_have_count(2)
    expect(page.get_by_test_id("session-link")).to_have_count(1)
    expect(page.locator("table.calls")).not_to_contain_text("5550123")  # numbers stay redacted

    page.goto(f"{live_server.url}/review/agents/{AGENT}/readiness/")
    expect(page.locator("h1 .chip")).to_have_text("v12")
    expect(page.get_by_test_id("gate-security_review")).to_contain_text("passed")
    expect(page.get_by_test_id("gate-security_review")).to_contain_text("secops")
    page.goto(f"{live_server.url}/review/agents/{AGENT}/contract/")
    expect(page.get_by_test_id("contract-v12")).to_contain_text("refund_charge")
    expect(page.get_by_test_id("finding").first).to_contain_text("lookup_order")

    page.goto(f"{live_server.url}/review/agents/{AGENT}/")
    expect(page.get_by_test_id("side-a")).to_contain_text("v11")
    expect(page.get_by_test_id("side-b")).to_contain_text("v12")

    # Dashboard: a number is a link to exactly the sessions it counts.
    page.goto(f"{live_server.url}/review/dashboard/")
    fail_link = page.locator('a.hbar-num[href*="verdict=fail"]')
    shown = int(fail_link.inner_text().replace(",", ""))
    assert shown == seeded["fails"]
    fail_link.click()
    page.wait_for_url(re.compile(r"/review/\?.*verdict=fail"))
    expect(page.get_by_test_id("result-count")).to_contain_text(f"of {shown}")
    assert listed_count(page) == shown == page.locator("tr[data-row]").count()

    page.goto(f"{live_server.url}/review/dashboard/")
    category = page.locator('tr[data-category="wrong_tool_args"] td[data-label="Sessions"] a')
    shown = int(category.inner_text().replace(",", ""))
    category.click()
    page.wait_for_url(re.compile(r"failure_category=wrong_tool_args"))
    assert listed_count(page) == shown == page.locator("tr[data-row]").count()
    assert shown == seeded["fails"]  # every fail carries wrong_tool_args

    assert overflow == {}, f"pages wider than a 390 px phone: {overflow}"


@pytest.mark.browser
def test_from_the_call_log_a_pasted_call_sid_reaches_the_session(
    live_server, page, login, browser_log, tenant, make_user, make_session
):
    """The QA workflow of issue 6: start from the call, end on what the agent did."""
    make_user("ana", tenant, "analyst")
    session = make_session(tenant, summary="Caller disputed a charge on order 58213")
    make_session(tenant, summary="Some other call")
    for status, sequence in (("ringing", 0), ("completed", 1)):
        call_callback_record(
            tenant=tenant, kind="call_status", params=_call_params(session.call_sid, status, sequence)
        )
    call_callback_record(
        tenant=tenant, kind="call_status", params=_call_params("CA" + "e" * 32, "no-answer", 0)
    )
    login(page, "ana")
    page.goto(f"{live_server.url}/review/calls/")
    assert page.locator("table.calls tbody tr").count() == 2
    search = page.get_by_placeholder("Paste a CallSid (CA…) to open that call")
    search.fill(session.call_sid)
    search.press("Enter")
    page.wait_for_url(re.compile(r".*/review/calls/[^/]+/$"))
    assert session.call_sid in page.locator("main").inner_text()
    events = page.get_by_test_id("call-events").locator("tbody tr")
    assert events.count() == 2
    page.get_by_test_id("call-sessions").get_by_role("link").first.click()
    page.wait_for_url(f"**/review/sessions/{session.pk}/**")
    assert "Caller disputed a charge on order 58213" in page.locator("main").inner_text()
    assert session.call_sid in page.locator("main").inner_text()
    assert_clean(page, browser_log)
