"""Calibrated human review: kappa, accuracy and the reviews-needed figure on hand-built data with
known answers; queue rules; two and three analysts sharing a queue; blind first; adjudication;
gold sessions; the calibration page."""

from __future__ import annotations

import pytest

from qa_app.calibration import (
    GOLD_EVERY,
    adjudicate,
    demands_create,
    disputed_sessions,
    evaluator_agreement,
    gold_accuracy,
    gold_set,
    review_rule_save,
    reviewer_agreement,
    reviews_needed_by_version,
    rule_for,
)
from qa_app.evaluators import evaluator_save, sessions_evaluate
from qa_app.models import ReviewDemand, ReviewRule
from qa_app.services import evaluation_record, queue_claim_next
from qa_app.statistics import cohen_kappa, reviews_needed
from sessions_app.actors import Actor
from sessions_app.errors import ServiceError
from sessions_app.models import AuditEvent, QaState, VoiceSession
from tests.factories import as_json, session_payload

# --- the statistics, by hand ------------------------------------------------------------------------


def test_kappa_of_the_textbook_example():
    # 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15. Observed agreement 0.7;
    # A says yes half the time, B 60 %: chance agreement 0.5 x 0.6 + 0.5 x 0.4 = 0.5; kappa 0.4.
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    found = cohen_kappa(pairs, ("yes", "no"))
    assert found.n == 50 and found.matrix == ((20, 5), (10, 15))
    assert found.observed == pytest.approx(0.7) and found.expected == pytest.approx(0.5)
    assert found.kappa == pytest.approx(0.4) and found.band == "fair"


def test_kappa_over_three_verdicts():
    # Diagonal 5, 3, 2 of 12, one confusion each way between pass and fail. Margins (6, 4, 2) on
    # both sides: chance 56/144; kappa (120 - 56) / (144 - 56) = 64/88.
    pairs = (
        [("pass", "pass")] * 5 + [("pass", "fail"), ("fail", "pass")] + [("fail", "fail")] * 3
        + [("needs_work", "needs_work")] * 2
    )  # fmt: skip
    found = cohen_kappa(pairs, ("pass", "fail", "needs_work"))
    assert found.kappa == pytest.approx(64 / 88) and found.band == "substantial"
    assert found.matrix == ((5, 1, 0), (1, 3, 0), (0, 0, 2))


def test_kappa_edges():
    assert cohen_kappa([], ("pass", "fail")).kappa is None
    assert cohen_kappa([("pass", "pass")] * 4, ("pass", "fail")).kappa is None  # chance is certain
    assert cohen_kappa([("pass", "fail"), ("fail", "pass")], ("pass", "fail")).kappa == pytest.approx(-1)
    assert cohen_kappa([("pass", "pass"), ("fail", "fail")], ("pass", "fail")).kappa == 1


def test_reviews_needed_for_five_points():
    # At 50 %, the Wilson half-width is z / (2 sqrt(n + z^2)): at most 0.05 from n = 100 z^2 - z^2,
    # 380.3, so 381. At 0 % or 100 % it is z^2 / (2 (n + z^2)): n >= 9 z^2 = 34.6, so 35.
    assert reviews_needed(0, 0).more == 381 and reviews_needed(0, 0).margin is None
    assert reviews_needed(50, 100).more == 281
    assert reviews_needed(50, 100).margin == pytest.approx(0.0962, abs=1e-4)
    assert reviews_needed(20, 20).target == 35 and reviews_needed(20, 20).more == 15
    assert reviews_needed(0, 40).more == 0


# --- rules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, param",
    [
        ({"sample_percent": 101}, "sample_percent"),
        ({"sample_percent": True}, "sample_percent"),
        ({"reviewers": 4}, "reviewers"),
        ({"reviewers": 3, "extra_review_percent": 10}, "extra_review_percent"),
        ({"prompt_version": "v1"}, "agent_key"),
    ],
)
def test_rules_are_refused_by_name(tenant, values, param):
    with pytest.raises(ServiceError) as refused:
        review_rule_save(tenant=tenant, **values)
    assert refused.value.param == param
    assert not ReviewRule.objects.exists()


def test_the_most_specific_rule_decides_and_saving_again_changes_nothing(tenant):
    broad, _ = review_rule_save(tenant=tenant, sample_percent=5)
    agent, _ = review_rule_save(tenant=tenant, agent_key="billing-agent", sample_percent=10)
    version, _ = review_rule_save(tenant=tenant, agent_key="billing-agent", prompt_version="v12")
    rules = list(ReviewRule.objects.all())
    assert rule_for(rules, "billing-agent", "v12") == version
    assert rule_for(rules, "billing-agent", "v11") == agent
    assert rule_for(rules, "support-agent", "v1") == broad
    _, created = review_rule_save(tenant=tenant, sample_percent=5)
    assert not created
    assert AuditEvent.objects.filter(action="review_rule.changed").count() == 3


def test_rules_pick_failures_escalations_and_a_stable_sample(tenant, make_session):
    review_rule_save(tenant=tenant, sample_percent=0, every_failed=True, every_escalated=True)
    failed = make_session(tenant, status="failed")
    escalated = make_session(tenant, escalation={"escalated": True, "reason": "asked", "at_ms": 1000})
    plain = make_session(tenant)
    active = make_session(tenant, status="active", ended_at=None)
    ids = [failed.pk, escalated.pk, plain.pk, active.pk]
    assert demands_create(tenant.pk, ids) == 2
    reasons = dict(ReviewDemand.objects.values_list("session_id", "reason"))
    assert reasons == {failed.pk: "failed", escalated.pk: "escalated"}
    # Half of 300 calls, by a hash of each: the same calls whenever they are judged again.
    review_rule_save(tenant=tenant, sample_percent=50, every_failed=False, every_escalated=False)
    many = [make_session(tenant).pk for _ in range(300)]
    picked = demands_create(tenant.pk, many)
    assert 110 < picked < 190
    assert demands_create(tenant.pk, many) == 0  # already there


def test_every_automatic_failure_and_the_share_reviewed_twice(tenant, make_session):
    evaluator_save(tenant=tenant, name="disclosure", agent_key="billing-agent", kind="required_phrase",
                   config={"phrase": "this call is recorded"})  # fmt: skip
    review_rule_save(tenant=tenant, sample_percent=0, every_evaluator_failure=True, extra_review_percent=100)
    session = make_session(tenant)  # the factory's agent never says it
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[session.pk])
    demands_create(tenant.pk, [session.pk])
    demand = ReviewDemand.objects.get()
    assert (demand.reason, demand.reviewers_needed, demand.remaining) == ("evaluator", 2, 2)


def test_a_written_call_is_picked_after_its_commit(api, tenant, django_capture_on_commit_callbacks):
    review_rule_save(tenant=tenant, sample_percent=0)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/voice-sessions", as_json(session_payload(status="failed")), format="json"
        )
    assert response.status_code == 201
    assert ReviewDemand.objects.get().session_id == VoiceSession.objects.get().pk


# --- two and three analysts ------------------------------------------------------------------------------


@pytest.fixture
def analysts(tenant, make_user):
    return [make_user(name, tenant, "analyst") for name in ("ana", "ben", "cy")]


def _queue(tenant):
    return VoiceSession.objects.filter(tenant=tenant).order_by("started_at", "pk")


def test_a_call_needing_two_reviewers_goes_to_two_analysts_not_three(tenant, make_session, analysts):
    ana, ben, cy = analysts
    review_rule_save(tenant=tenant, sample_percent=0, reviewers=2)
    session = make_session(tenant, status="failed")
    make_session(tenant)  # not picked: never handed out while rules decide
    demands_create(tenant.pk, list(VoiceSession.objects.values_list("pk", flat=True)))
    assert queue_claim_next(tenant=tenant, queryset=_queue(tenant), user=ana) == session
    assert queue_claim_next(tenant=tenant, queryset=_queue(tenant), user=ben) == session
    assert queue_claim_next(tenant=tenant, queryset=_queue(tenant), user=cy) is None  # both slots held
    evaluation_record(session=session, actor=Actor(user=ana), verdict="pass")
    session.refresh_from_db()
    assert (session.qa_state, session.verdict) == (QaState.IN_REVIEW, "pass")  # one of two
    assert queue_claim_next(tenant=tenant, queryset=_queue(tenant), user=ana) is None  # reviewed it
    evaluation_record(session=session, actor=Actor(user=ben), verdict="pass")
    session.refresh_from_db()
    assert (session.qa_state, session.verdict) == (QaState.REVIEWED, "pass")
    assert queue_claim_next(tenant=tenant, queryset=_queue(tenant), user=cy) is None


def test_disagreement_goes_to_adjudication_and_the_ruling_is_the_verdict(
    tenant, make_session, analysts, make_user
):
    ana, ben, _ = analysts
    admin = make_user("boss", tenant, "admin")
    review_rule_save(tenant=tenant, sample_percent=100, reviewers=2)
    session = make_session(tenant)
    demands_create(tenant.pk, [session.pk])
    evaluation_record(session=session, actor=Actor(user=ana), verdict="pass")
    evaluation_record(session=session, actor=Actor(user=ben), verdict="fail")
    session.refresh_from_db()
    assert (session.qa_state, session.verdict) == (QaState.IN_REVIEW, "")
    assert list(disputed_sessions(tenant)) == [session]
    # Ana changing her mind to agree settles it without a ruling.
    evaluation_record(session=session, actor=Actor(user=ana), verdict="fail")
    session.refresh_from_db()
    assert (session.qa_state, session.verdict) == (QaState.REVIEWED, "fail") and not disputed_sessions(tenant)
    evaluation_record(session=session, actor=Actor(user=ben), verdict="needs_work")
    assert list(disputed_sessions(tenant)) == [session]
    adjudicate(
        session=session, verdict="needs_work", notes="Refund was right, tone wasn't.", actor=Actor(user=admin)
    )
    session.refresh_from_db()
    assert (session.qa_state, session.verdict) == (QaState.REVIEWED, "needs_work")
    assert not disputed_sessions(tenant)
    assert AuditEvent.objects.filter(action="session.adjudicated").count() == 1
    with pytest.raises(ServiceError) as refused:
        adjudicate(session=make_session(tenant), verdict="pass", actor=Actor(user=admin))
    assert refused.value.param == "verdict"  # nobody reviewed it


def test_gold_sessions_come_every_fifth_and_measure_each_reviewer(tenant, make_session, analysts, make_user):
    ana, ben, _ = analysts
    admin = make_user("boss", tenant, "admin")
    gold = make_session(
        tenant, started_at=session_payload()["started_at"].replace(year=2030)
    )  # last in order
    gold_set(session=gold, verdict="fail", actor=Actor(user=admin))
    gold.refresh_from_db()
    assert (gold.qa_state, gold.verdict) == (QaState.REVIEWED, "fail")
    ordinary = [make_session(tenant) for _ in range(GOLD_EVERY)]
    handed = []
    for _ in range(GOLD_EVERY):
        session = queue_claim_next(tenant=tenant, queryset=_queue(tenant), user=ana)
        handed.append(session)
        evaluation_record(session=session, actor=Actor(user=ana), verdict="pass")
    assert handed[:GOLD_EVERY - 1] == ordinary[:GOLD_EVERY - 1] and handed[-1] == gold  # fmt: skip
    evaluation_record(session=gold, actor=Actor(user=ben), verdict="fail")
    evaluation_record(session=gold, actor=Actor(user=ben), verdict="pass")  # only the first counts
    accuracy = {row.reviewer: (row.correct, row.judged) for row in gold_accuracy(tenant)}
    assert accuracy == {"ana": (0, 1), "ben": (1, 1)}
    gold.refresh_from_db()
    assert gold.verdict == "fail" and not disputed_sessions(tenant)  # gold is never in dispute


def test_agreement_between_reviewers_and_evaluators(tenant, make_session, analysts):
    ana, ben, cy = analysts
    evaluator_save(tenant=tenant, name="disclosure", agent_key="billing-agent", kind="required_phrase",
                   config={"phrase": "thanks for calling"})  # fmt: skip
    # Four sessions both Ana and Ben review: they agree on three. The evaluator passes all four.
    sessions = [make_session(tenant) for _ in range(4)]
    verdicts = [("pass", "pass"), ("fail", "fail"), ("pass", "pass"), ("pass", "fail")]
    for session, (a, b) in zip(sessions, verdicts, strict=True):
        evaluation_record(session=session, actor=Actor(user=ana), verdict=a)
        evaluation_record(session=session, actor=Actor(user=ben), verdict=b)
    evaluation_record(session=sessions[0], actor=Actor(user=cy), verdict="pass")
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[s.pk for s in sessions])
    pairs = {(p.first, p.second): p.agreement for p in reviewer_agreement(tenant)}
    both = pairs[("ana", "ben")]
    # Ana: pass 3, fail 1; Ben: pass 2, fail 2. Observed 3/4; chance 3/4 x 2/4 + 1/4 x 2/4 = 1/2.
    assert both.n == 4 and both.kappa == pytest.approx(0.5)
    assert pairs[("ana", "cy")].n == 1
    (row,) = evaluator_agreement(tenant)
    # The human verdicts: pass, fail, pass, and the fourth is disputed (no verdict): three sessions.
    assert row.agreement.n == 3 and row.agreement.matrix == ((2, 1), (0, 0))
    (version,) = reviews_needed_by_version(tenant)
    assert (version.needed.trials, version.needed.successes) == (3, 2)


# --- blind first, and the pages -----------------------------------------------------------------------------


def test_a_reviewer_sees_others_and_the_evaluators_only_after_submitting(browser_for, tenant, make_session):
    evaluator_save(tenant=tenant, name="promise", agent_key="billing-agent", kind="forbidden_phrase",
                   config={"phrase": "how can i help"})  # fmt: skip
    session = make_session(tenant)
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[session.pk])
    first = browser_for(tenant, "analyst", "first")
    first.post(
        f"/review/sessions/{session.pk}/evaluations/", {"verdict": "fail", "notes": "Promised too much."}
    )
    second = browser_for(tenant, "analyst", "second")
    url = f"/review/sessions/{session.pk}/"
    page = second.get(url).content.decode()
    assert 'data-testid="blind-note"' in page and "1 evaluation by others" in page
    assert "Promised too much." not in page and 'data-testid="automatic-evaluations"' not in page
    assert 'data-testid="auto-evidence"' not in page and "Awaiting your review" in page
    assert "badge-verdict-fail" not in page
    second.post(f"/review/sessions/{session.pk}/evaluations/", {"verdict": "pass"})
    page = second.get(url).content.decode()
    assert "Promised too much." in page and 'data-testid="automatic-evaluations"' in page
    assert 'data-testid="blind-note"' not in page
    # An admin, who adjudicates, always sees, and a viewer, who can't review, too.
    admin = browser_for(tenant, "admin").get(url).content.decode()
    assert 'data-testid="calibration"' in admin and 'data-testid="disputed"' in admin
    assert "Promised too much." in browser_for(tenant, "viewer").get(url).content.decode()


def test_the_calibration_page_and_its_forms(browser_for, tenant, make_session, make_user):
    ana, ben = make_user("ana", tenant, "analyst"), make_user("ben", tenant, "analyst")
    session = make_session(tenant)
    evaluation_record(session=session, actor=Actor(user=ana), verdict="pass")
    evaluation_record(session=session, actor=Actor(user=ben), verdict="fail")
    admin = browser_for(tenant, "admin")
    page = admin.get("/review/calibration/").content.decode()
    assert 'data-testid="disputes"' in page and str(session.pk) in page
    assert 'data-pair="ana|ben"' in page and "n = 1" in page
    assert browser_for(tenant, "analyst").get("/review/calibration/").status_code == 403
    bad = admin.post(
        "/review/calibration/rules/", {"sample_percent": "150", "reviewers": "1", "extra_review_percent": "0"}
    )
    assert bad.status_code == 400
    saved = admin.post(
        "/review/calibration/rules/",
        {"agent_key": "billing-agent", "sample_percent": "5", "every_failed": "on", "reviewers": "2",
         "extra_review_percent": "10", "active": "on"},
        follow=True,
    )  # fmt: skip
    assert "Added the rule for billing-agent" in saved.content.decode()
    rule = ReviewRule.objects.get()
    assert (rule.reviewers, rule.extra_review_percent, rule.every_escalated) == (2, 10.0, False)
    ruled = admin.post(f"/review/sessions/{session.pk}/adjudicate/", {"verdict": "fail", "then": "next"})
    assert ruled.status_code == 302 and ruled["Location"].endswith("/review/calibration/#disputes")
    session.refresh_from_db()
    assert session.verdict == "fail"
    admin.post(f"/review/sessions/{session.pk}/gold/", {"verdict": "pass", "notes": "known"})
    assert session.gold_verdict.verdict == "pass"
    # Gold is never announced to reviewers.
    analyst_page = (
        browser_for(tenant, "analyst", "cy").get(f"/review/sessions/{session.pk}/").content.decode()
    )
    assert "gold" not in analyst_page.lower()
    admin.post(f"/review/sessions/{session.pk}/gold/", {"clear": "1"})
    assert not VoiceSession.objects.filter(pk=session.pk, gold_verdict__isnull=False).exists()
    assert (
        browser_for(tenant, "analyst", "dee")
        .post(f"/review/sessions/{session.pk}/gold/", {"verdict": "pass"})
        .status_code
        == 403
    )
