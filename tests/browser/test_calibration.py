"""Calibrated review in the browser with three analysts and an admin: a call the rules give two
reviewers is handed to two analysts and not the third; each reviews blind; they disagree; the
admin adjudicates from the Calibration page, and the ruling is the session's verdict."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from qa_app.calibration import demands_create, gold_set, review_rule_save
from qa_app.evaluators import evaluator_save, sessions_evaluate
from sessions_app.actors import SYSTEM
from sessions_app.models import QaState, VoiceSession
from tests.browser.test_review_pages import assert_clean, session_id_of

QUEUED = re.compile(r"/review/sessions/[0-9a-f-]{36}/\?queue=1$")


@pytest.mark.browser
def test_two_of_three_analysts_review_blind_and_the_admin_settles_their_disagreement(
    live_server, new_page, login, browser_log, screenshot, tenant, make_user, make_session
):
    evaluator_save(tenant=tenant, name="disclosure", agent_key="billing-agent", kind="required_phrase",
                   config={"phrase": "this call is recorded"})  # fmt: skip
    review_rule_save(tenant=tenant, sample_percent=0, every_failed=True, reviewers=2)
    picked = make_session(tenant, status="failed")
    make_session(tenant)  # completed, and not sampled: no one is handed it
    ids = list(VoiceSession.objects.values_list("pk", flat=True))
    sessions_evaluate(tenant_id=tenant.pk, session_ids=ids)
    demands_create(tenant.pk, ids)
    for name in ("ana", "ben", "cy"):
        make_user(name, tenant, "analyst")
    make_user("ada", tenant, "admin")
    ana, ben, cy = (login(new_page(), name) for name in ("ana", "ben", "cy"))

    # Two slots: Ana and Ben are both handed the call; Cy finds everything left being reviewed.
    for page in (ana, ben):
        page.goto(f"{live_server.url}/review/queue/")
        page.wait_for_url(QUEUED)
        assert session_id_of(page) == str(picked.pk)
    cy.goto(f"{live_server.url}/review/queue/")
    expect(cy.get_by_test_id("queue-empty")).to_contain_text("being reviewed")

    # Blind: neither sees the evaluator's verdict (or, later, the other's review) before their own.
    expect(ana.get_by_test_id("blind-note")).to_be_visible()
    expect(ana.get_by_test_id("automatic-evaluations")).to_have_count(0)
    expect(ana.get_by_test_id("auto-evidence")).to_have_count(0)
    screenshot(ana, "review-blind")
    ana.locator("#verdict-pass").check()
    ana.get_by_role("button", name="Save and next").click()
    ana.wait_for_url(re.compile(r"/review/queue/$"))
    expect(ana.get_by_test_id("queue-empty")).to_contain_text("Queue is clear")

    ben.reload()
    expect(ben.get_by_test_id("blind-note")).to_contain_text("1 evaluation by others")
    expect(ben.locator(".history")).not_to_contain_text("ana")
    ben.locator("#verdict-fail").check()
    ben.get_by_role("button", name="Save and next").click()
    ben.wait_for_url(re.compile(r"/review/queue/$"))
    ben.goto(f"{live_server.url}/review/sessions/{picked.pk}/")
    expect(ben.locator(".history")).to_contain_text("ana")  # submitted: now he sees
    expect(ben.get_by_test_id("automatic-evaluations")).to_contain_text("disclosure")
    picked.refresh_from_db()
    assert (picked.qa_state, picked.verdict) == (QaState.IN_REVIEW, "")

    # The admin's adjudication queue has it; the ruling becomes the session's verdict.
    admin = login(new_page(), "ada")
    admin.get_by_role("link", name="Calibration").click()
    disputes = admin.get_by_test_id("disputes")
    expect(disputes.locator(f'tr[data-session="{picked.pk}"]')).to_be_visible()
    expect(admin.get_by_test_id("reviewer-agreement")).to_contain_text("ana and ben")
    screenshot(admin, "calibration", full_page=True)
    disputes.get_by_role("link", name="Adjudicate").click()
    card = admin.get_by_test_id("calibration")
    expect(card.get_by_test_id("disputed")).to_be_visible()
    card.get_by_test_id("adjudicate-form").get_by_label("Fail").check()
    card.get_by_role("button", name="Rule and back to disputes").click()
    admin.wait_for_url(re.compile(r"/review/calibration/#disputes$"))
    expect(admin.get_by_test_id("disputes")).to_contain_text("No disagreement waiting")
    picked.refresh_from_db()
    assert (picked.qa_state, picked.verdict) == (QaState.REVIEWED, "fail")
    for page in (ana, ben, cy, admin):
        assert_clean(page, browser_log)


@pytest.mark.browser
def test_a_gold_session_reaches_an_analyst_unannounced_on_phone(
    live_server, new_page, login, browser_log, screenshot, tenant, make_user, make_session
):
    from qa_app.calibration import GOLD_EVERY
    from qa_app.services import evaluation_record
    from sessions_app.actors import Actor

    analyst = make_user("gus", tenant, "analyst")
    gold = make_session(tenant)
    gold_set(session=gold, verdict="fail", actor=SYSTEM)
    for _ in range(GOLD_EVERY - 1):  # four sessions reviewed: the fifth handed out is gold
        evaluation_record(session=make_session(tenant), actor=Actor(user=analyst), verdict="pass")
    make_session(tenant)  # an ordinary one waiting too
    page = login(new_page("phone"), "gus")
    page.goto(f"{live_server.url}/review/queue/")
    page.wait_for_url(QUEUED)
    assert session_id_of(page) == str(gold.pk)
    expect(page.locator("main")).not_to_contain_text("gold", ignore_case=True)
    expect(page.get_by_test_id("blind-badge")).to_be_visible()
    screenshot(page, "review-gold-unannounced")
    assert_clean(page, browser_log)
