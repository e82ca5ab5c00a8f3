"""Automatic evaluators: each built-in kind on calls built to pass and to fail it (the evidence's
seq checked), versions, settings refused by name, the run after a write, run_evaluators, the
filters, the session document and the page."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from qa_app.evaluators import (
    Call,
    CallFacts,
    Turn,
    config_clean,
    evaluate,
    evaluator_save,
    sessions_evaluate,
)
from qa_app.ingest import session_upsert
from qa_app.models import AutomaticEvaluation, ContractFinding, EvaluatorVersion
from sessions_app.db import is_postgresql
from sessions_app.errors import ServiceError
from sessions_app.models import AuditEvent
from tests.factories import TenantFactory, as_json, session_payload


def facts(turns=(), calls=(), **extra) -> CallFacts:
    values = {
        "session_id": "s",
        "agent_key": "billing-agent",
        "prompt_version": "v12",
        "status": "completed",
        "escalated": False,
        "escalation_at_ms": None,
        "duration_ms": 60_000,
    }
    values.update(extra)
    return CallFacts(**values, turns=list(turns), calls=list(calls))


def t(seq, role, text="", start=None, end=None, interrupted=False) -> Turn:
    return Turn(seq, role, text, start, end, interrupted)


def version(kind, **config) -> EvaluatorVersion:
    return EvaluatorVersion(kind=kind, config=config_clean(kind, config))


def seqs(outcome) -> list[tuple[str, int]]:
    return [(item["target"], item["seq"]) for item in outcome.evidence]


CONVERSATION = [
    t(0, "agent", "Thanks for calling. This call is recorded for quality.", 0, 2000),
    t(1, "caller", "I was charged twice.", 2500, 4000),
    t(2, "agent", "Let me look.", 4600, 5500),  # 600 ms
    t(3, "caller", "OK.", 6000, 6500),
    t(4, "agent", "Found it and refunded it.", 9000, 11000),  # 2500 ms, after a 2.5 s silence
]


def test_response_latency_fails_on_the_p95_and_names_the_slow_answers():
    passed = evaluate(facts(CONVERSATION), version("response_latency", max_p95_ms=3000))
    assert passed.result == "pass" and passed.score == pytest.approx(600 + (2500 - 600) * 0.95)
    failed = evaluate(facts(CONVERSATION), version("response_latency", max_p95_ms=1000))
    assert failed.result == "fail" and seqs(failed) == [("turn", 4)]


def test_response_latency_prefers_what_the_recording_heard():
    heard = facts(CONVERSATION, measured_ms={2: 600, 4: 900})
    assert evaluate(heard, version("response_latency", max_p95_ms=1000)).result == "pass"
    assert evaluate(heard, version("response_latency", max_p95_ms=1000, source="reported")).result == "fail"
    untimed = facts([t(0, "caller", "hi"), t(1, "agent", "hello")])
    assert evaluate(untimed, version("response_latency", max_p95_ms=1000)).result == "not_applicable"


def test_longest_silence():
    failed = evaluate(facts(CONVERSATION), version("longest_silence", max_ms=2000))
    assert failed.result == "fail" and failed.score == 2500 and seqs(failed) == [("turn", 4)]
    passed = evaluate(facts(CONVERSATION), version("longest_silence", max_ms=2500))
    assert passed.result == "pass" and seqs(passed) == [("turn", 4)]  # where the longest one ended


def test_interruptions():
    cut = [*CONVERSATION[:2], t(2, "agent", "Let me—", 4600, 5000, interrupted=True)]
    assert evaluate(facts(CONVERSATION), version("interruptions")).result == "pass"
    failed = evaluate(facts(cut), version("interruptions", max=0))
    assert failed.result == "fail" and seqs(failed) == [("turn", 2)]
    assert evaluate(facts(cut), version("interruptions", max=1)).result == "pass"


def test_tool_failure_of_all_tools_or_some():
    calls = [Call(0, "lookup_order", "succeeded"), Call(1, "issue_refund", "failed")]
    failed = evaluate(facts(calls=calls), version("tool_failure"))
    assert failed.result == "fail" and seqs(failed) == [("call", 1)]
    assert evaluate(facts(calls=calls), version("tool_failure", tools=["lookup_order"])).result == "pass"
    assert evaluate(facts(calls=calls), version("tool_failure", max_failed=1)).result == "pass"


def test_required_phrase_within_the_first_agent_turns():
    disclosure = version("required_phrase", phrase="this call is recorded", within_agent_turns=1)
    passed = evaluate(facts(CONVERSATION), disclosure)
    assert passed.result == "pass" and seqs(passed) == [("turn", 0)]
    late = [t(0, "agent", "Hi."), t(1, "caller", "Hello"), t(2, "agent", "This call is RECORDED!")]
    failed = evaluate(facts(late), disclosure)
    assert failed.result == "fail" and seqs(failed) == [("turn", 0)]
    assert evaluate(facts(late), version("required_phrase", phrase="this call is recorded")).result == "pass"


def test_forbidden_phrase():
    rule = version("forbidden_phrase", phrase="guaranteed refund")
    assert evaluate(facts(CONVERSATION), rule).result == "pass"
    said = [*CONVERSATION, t(5, "agent", "That's a guaranteed refund, I promise.")]
    failed = evaluate(facts(said), rule)
    assert failed.result == "fail" and seqs(failed) == [("turn", 5)]
    # The caller saying it is not the agent saying it.
    assert evaluate(facts([t(0, "caller", "is it a guaranteed refund?")]), rule).result == "pass"


def test_escalation_when_the_caller_asks_for_a_person():
    rule = version("escalation_on_request", max_agent_turns_after=1)
    assert evaluate(facts(CONVERSATION), rule).result == "not_applicable"
    asked = [
        t(0, "agent", "Hi.", 0, 1000),
        t(1, "caller", "Can I talk to a human please?", 1500, 3000),
        t(2, "agent", "I can help with that myself.", 3500, 5000),
        t(3, "agent", "Are you sure?", 5500, 6000),
    ]
    ignored = evaluate(facts(asked), rule)
    assert ignored.result == "fail" and seqs(ignored) == [("turn", 1)]
    late = evaluate(facts(asked, escalated=True, escalation_at_ms=7000), rule)
    assert late.result == "fail" and seqs(late) == [("turn", 1), ("turn", 2), ("turn", 3)]
    prompt = evaluate(facts(asked, escalated=True, escalation_at_ms=4000), rule)
    assert prompt.result == "pass" and seqs(prompt) == [("turn", 1)]


def test_call_length():
    rule = version("call_length", max_ms=300_000, min_ms=10_000)
    assert evaluate(facts(duration_ms=60_000), rule).result == "pass"
    assert evaluate(facts(duration_ms=400_000), rule).result == "fail"
    assert evaluate(facts(duration_ms=5_000), rule).result == "fail"
    assert evaluate(facts(duration_ms=None), rule).result == "not_applicable"


def test_open_contract_findings():
    rule = version("contract_findings")
    assert evaluate(facts(), rule).result == "pass"
    failed = evaluate(CallFacts(**{**vars(facts()), "open_findings": [3, 3, 1]}), rule)
    assert failed.result == "fail" and seqs(failed) == [("call", 1), ("call", 3)]


@pytest.mark.parametrize(
    ("kind", "config", "param"),
    [
        ("nope", {}, "kind"),
        ("response_latency", {}, "config.max_p95_ms"),
        ("response_latency", {"max_p95_ms": -1}, "config.max_p95_ms"),
        ("response_latency", {"max_p95_ms": True}, "config.max_p95_ms"),
        ("response_latency", {"max_p95_ms": 1, "source": "guess"}, "config.source"),
        ("required_phrase", {"phrase": "  "}, "config.phrase"),
        ("forbidden_phrase", {"phrase": "x", "extra": 1}, "config.extra"),
        ("tool_failure", {"tools": "issue_refund"}, "config.tools"),
        ("call_length", {}, "config.max_ms"),
    ],
)
def test_bad_settings_are_refused_by_name(kind, config, param):
    with pytest.raises(ServiceError) as refused:
        config_clean(kind, config)
    assert refused.value.param == param


@pytest.fixture
def latency_rule(tenant):
    return evaluator_save(
        tenant=tenant,
        name="latency",
        agent_key="billing-agent",
        kind="response_latency",
        config={"max_p95_ms": 1000},
    )


def _write(api, **overrides):
    return api.post("/api/v1/voice-sessions", as_json(session_payload(**overrides)), format="json")


def test_a_change_makes_a_new_version_and_results_keep_theirs(tenant, latency_rule, make_session):
    session = make_session(tenant)
    assert sessions_evaluate(tenant_id=tenant.pk, session_ids=[session.pk]) == 1
    same = evaluator_save(
        tenant=tenant,
        name="latency",
        agent_key="billing-agent",
        kind="response_latency",
        config={"max_p95_ms": 1000},
    )
    assert not same.changed and same.version.version == 1
    changed = evaluator_save(
        tenant=tenant,
        name="latency",
        agent_key="billing-agent",
        kind="response_latency",
        config={"max_p95_ms": 500},
    )
    assert changed.changed and changed.version.version == 2
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[session.pk])
    results = {r.evaluator_version.version: r.result for r in AutomaticEvaluation.objects.all()}
    assert results == {1: "pass", 2: "fail"}  # the factory's agent answers 600 ms after the caller
    assert AuditEvent.objects.filter(action="evaluator.changed").count() == 2


def test_finished_writes_are_judged_after_the_commit(
    api, tenant, latency_rule, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = _write(api)
    assert response.status_code == 201
    assert response.json()["automatic_evaluations"] == []  # the answer doesn't wait for the judging
    for callback in queued:
        callback()
    document = api.get(f"/api/v1/voice-sessions/{response.json()['id']}").json()
    (result,) = document["automatic_evaluations"]
    assert (result["evaluator"], result["version"], result["result"]) == ("latency", 1, "pass")
    assert (
        result["kind"] == "response_latency" and result["score"] == 600
    )  # one answer, 600 ms after the caller
    # An active call is not judged yet; another agent's call is not this evaluator's.
    with django_capture_on_commit_callbacks(execute=True):
        _write(api, status="active", ended_at=None)
        _write(api, agent_key="support-agent")
    assert AutomaticEvaluation.objects.count() == 1


def test_filters_by_evaluator_and_result(api, tenant, make_session):
    evaluator_save(
        tenant=tenant,
        name="no-refund-promise",
        agent_key="billing-agent",
        kind="forbidden_phrase",
        config={"phrase": "I promise"},
    )
    clean = make_session(tenant)
    said = make_session(
        tenant,
        transcript=[
            *session_payload()["transcript"][:3],
            {"seq": 3, "role": "agent", "text": "I promise, a refund."},
        ],
    )
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[clean.pk, said.pk])

    def ids(params):
        response = api.get("/api/v1/voice-sessions", params)
        assert response.status_code == 200, response.json()
        return {item["id"] for item in response.json()["data"]}

    assert ids({"evaluator": "no-refund-promise", "evaluator_result": "fail"}) == {str(said.pk)}
    assert ids({"evaluator": "no-refund-promise", "evaluator_result": "pass"}) == {str(clean.pk)}
    assert ids({"evaluator": "no-refund-promise"}) == {str(clean.pk), str(said.pk)}
    assert ids({"evaluator_result": "fail"}) == {str(said.pk)}
    assert ids({"evaluator": "unknown"}) == set()
    bad = api.get("/api/v1/voice-sessions", {"evaluator_result": "maybe"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "evaluator_result"
    (result,) = api.get(f"/api/v1/voice-sessions/{said.pk}").json()["automatic_evaluations"]
    assert result["evidence"] == [{"target": "turn", "seq": 3, "note": "said here"}]


def test_the_page_shows_the_results_at_their_turns(browser_for, tenant, make_session):
    evaluator_save(
        tenant=tenant,
        name="no-refund-promise",
        agent_key="billing-agent",
        kind="forbidden_phrase",
        config={"phrase": "refunded it"},
    )
    session = make_session(
        tenant, transcript=[{"seq": 0, "role": "agent", "text": "I refunded it."}], function_calls=[]
    )
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[session.pk])
    page = browser_for(tenant, "viewer").get(f"/review/sessions/{session.pk}/").content.decode()
    assert 'data-testid="automatic-evaluations"' in page and "no-refund-promise" in page
    assert page.count('data-testid="auto-evidence"') == 1 and "⚙ no-refund-promise: said here" in page


def test_contract_findings_are_read_for_the_evaluator(tenant, make_session):
    from qa_app.contracts import contract_save
    from sessions_app.actors import SYSTEM

    contract_save(tenant=tenant, agent_key="billing-agent", purpose="", allowed_intents=[],
                  allowed_tools=[{"name": "issue_refund", "schema": None}], escalation_rules="",
                  refusal_policy="", actor=SYSTEM)  # fmt: skip
    session = make_session(tenant)  # calls lookup_order, outside the contract
    assert ContractFinding.objects.filter(session=session).exists()
    evaluator_save(tenant=tenant, name="contract", agent_key="billing-agent", kind="contract_findings")
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[session.pk])
    result = AutomaticEvaluation.objects.get()
    assert result.result == "fail" and result.evidence == [
        {"target": "call", "seq": 0, "note": "open contract finding"}
    ]


def test_run_evaluators_over_past_sessions(tenant, latency_rule, make_session):
    started = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    sessions = [make_session(tenant, started_at=started + dt.timedelta(hours=n)) for n in range(5)]
    out = StringIO()
    call_command("run_evaluators", tenant=tenant.slug, since="2026-11-01", until="2026-11-01T03:00:00Z",
                 batch_size=2, stdout=out, stderr=StringIO())  # fmt: skip
    assert "judged 3 session(s), 3 result(s) with latency v1" in out.getvalue()
    assert set(AutomaticEvaluation.objects.values_list("session_id", flat=True)) == {
        s.pk for s in sessions[:3]
    }
    call_command(
        "run_evaluators", tenant=tenant.slug, since="2026-10-01", stdout=StringIO(), stderr=StringIO()
    )
    assert AutomaticEvaluation.objects.count() == 5  # judged again: replaced, never duplicated
    with pytest.raises(CommandError, match="No active evaluator named"):
        call_command("run_evaluators", tenant=tenant.slug, since="2026-11-01", evaluator="nope")
    with pytest.raises(CommandError, match="takes a date"):
        call_command("run_evaluators", tenant=tenant.slug, since="yesterday")


@pytest.mark.django_db(transaction=True)
# Only PostgreSQL writes behind; SQLite's in-line path is test_run_evaluators_over_past_sessions
# (and SQLite can't flush this test's append-only audit rows after a transactional test).
@pytest.mark.skipif(not is_postgresql(), reason="writes behind a second connection: PostgreSQL only")
def test_run_evaluators_outside_a_transaction_judges_every_batch_once():
    """Outside a transaction on PostgreSQL, each batch's results commit on a second connection
    while the next batch is judged (``writes.written_behind``): every session once, in order."""
    tenant = TenantFactory(slug="behind")
    evaluator_save(tenant=tenant, name="latency", agent_key="billing-agent", kind="response_latency",
                   config={"max_p95_ms": 2500})  # fmt: skip
    started = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    sessions = [
        session_upsert(
            tenant=tenant, data=session_payload(started_at=started + dt.timedelta(minutes=n))
        ).session
        for n in range(7)
    ]
    # Judged as they were written (the write queues it; eager Celery runs it at the commit).
    AutomaticEvaluation.objects.all().delete()
    out = StringIO()
    call_command(
        "run_evaluators", tenant="behind", since="2026-11-01", batch_size=2, stdout=out, stderr=StringIO()
    )
    assert "judged 7 session(s), 7 result(s) with latency v1" in out.getvalue()
    assert sorted(AutomaticEvaluation.objects.values_list("session_id", flat=True)) == sorted(
        s.pk for s in sessions
    )
    call_command(
        "run_evaluators",
        tenant="behind",
        since="2026-11-01",
        batch_size=3,
        stdout=StringIO(),
        stderr=StringIO(),
    )
    assert AutomaticEvaluation.objects.count() == 7  # replaced, never duplicated


def test_admins_define_evaluators_on_the_agent_page(
    browser_for, tenant, make_session, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    make_session(tenant, started_at=timezone.now() - dt.timedelta(days=1))
    old = make_session(tenant, started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    admin = browser_for(tenant, "admin")
    url = "/review/agents/billing-agent/evaluators/"
    page = admin.get(url)
    assert page.status_code == 200 and "No evaluator for this agent yet" in page.content.decode()
    bad = admin.post(
        url + "save/", {"name": "latency", "kind": "response_latency", "config": '{"max_p95_ms": "fast"}'}
    )
    assert bad.status_code == 400 and "max_p95_ms is a whole number" in bad.content.decode()
    broken = admin.post(url + "save/", {"name": "latency", "kind": "response_latency", "config": "{nope"})
    assert broken.status_code == 400 and "Not valid JSON" in broken.content.decode()
    from qa_app.models import Evaluator

    assert not Evaluator.objects.exists()
    response = admin.post(
        url + "save/",
        {"name": "latency", "kind": "response_latency", "config": '{"max_p95_ms": 500}', "active": "on",
         "prompt_versions": ["v12"]},
    )  # fmt: skip
    assert response.status_code == 302
    # The backfill job (eager here) judged the agent's calls of the last 30 days, not the old one.
    assert AutomaticEvaluation.objects.filter(result="fail").count() == 1
    assert not AutomaticEvaluation.objects.filter(session=old).exists()
    listing = admin.get(url).content.decode()
    assert 'data-evaluator="latency"' in listing and "v1" in listing
    assert "evaluator=latency&amp;evaluator_result=fail" in listing
    edit = admin.get(url + "?edit=latency").content.decode()
    assert "Change latency" in edit and "max_p95_ms" in edit
    viewer = browser_for(tenant, "viewer")
    assert viewer.get(url).status_code == 200 and "Add an evaluator" not in viewer.get(url).content.decode()
    assert viewer.post(url + "save/", {"name": "x", "kind": "interruptions"}).status_code == 403


@pytest.fixture
def promises(tenant, make_session):
    """A forbidden-phrase evaluator, and v11 calls (1 of 4 says it) beside v12 calls (3 of 4)."""
    evaluator_save(tenant=tenant, name="promise", agent_key="billing-agent", kind="forbidden_phrase",
                   config={"phrase": "I promise"})  # fmt: skip
    said = [{"seq": 0, "role": "agent", "text": "I promise, a refund."}]
    clean = [{"seq": 0, "role": "agent", "text": "Let me look."}]
    sessions = []
    for version, saying in (("v11", 1), ("v12", 3)):
        for n in range(4):
            model = {**session_payload()["model"], "prompt_version": version}
            sessions.append(make_session(tenant, model=model, transcript=said if n < saying else clean))
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[s.pk for s in sessions])
    return sessions


def test_the_dashboard_and_the_comparison_count_the_results(browser_for, tenant, promises):
    from qa_app.analytics import evaluator_results
    from sessions_app.models import VoiceSession

    (row,) = evaluator_results(VoiceSession.objects.all())
    assert (row.name, row.judged, row.failed, row.passed) == ("promise", 8, 4, 4)
    client = browser_for(tenant, "viewer")
    page = client.get("/review/dashboard/", {"started_after": "2026-10-01"}).content.decode()
    card = page.split('data-testid="automatic-evaluators"')[1].split("</section>")[0]
    assert 'data-evaluator="promise"' in card and 'data-count="8"' in card and 'data-count="4"' in card
    assert "evaluator=promise" in card and "evaluator_result=fail" in card
    compare = client.get("/review/agents/billing-agent/", {"a": "v11", "b": "v12"}).content.decode()
    row_html = compare.split('data-row="evaluator:promise"')[1].split("</tr>")[0]
    assert "25.0%" in row_html and "75.0%" in row_html  # 1 of 4 against 3 of 4


def test_an_evaluator_can_be_a_launch_gate(tenant, promises):
    from qa_app.readiness import readiness_for

    def gate(version):
        found = readiness_for(tenant=tenant, agent_key="billing-agent", prompt_version=version)
        return next((g for g in found.gates if g.key == "evaluator:promise"), None)

    assert gate("v11") is None  # not a gate yet
    saved = evaluator_save(tenant=tenant, name="promise", agent_key="billing-agent", kind="forbidden_phrase",
                           config={"phrase": "I promise"}, readiness_max_fail_rate=0.3)  # fmt: skip
    assert not saved.changed and saved.evaluator.readiness_max_fail_rate == 0.3  # no new version
    assert AuditEvent.objects.filter(action="evaluator.changed").count() == 2
    v11, v12 = gate("v11"), gate("v12")
    assert v11.passed and v11.evidence["failed"] == 1 and v11.evidence["judged"] == 4
    assert not v12.passed and "3 of 4 judged calls failed (75.0%)" in v12.summary
    assert gate("v13").passed is False and gate("v13").summary == "No call of this version judged yet."
    with pytest.raises(ServiceError) as refused:
        evaluator_save(tenant=tenant, name="promise", agent_key="billing-agent", kind="forbidden_phrase",
                       config={"phrase": "I promise"}, readiness_max_fail_rate=1.5)  # fmt: skip
    assert refused.value.param == "readiness_max_fail_rate"


def test_the_gate_is_set_on_the_evaluators_page(browser_for, tenant, promises):
    admin = browser_for(tenant, "admin")
    response = admin.post(
        "/review/agents/billing-agent/evaluators/save/",
        {"name": "promise", "kind": "forbidden_phrase", "config": '{"phrase": "I promise"}',
         "readiness_max_fail_percent": "10", "active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    from qa_app.models import Evaluator

    assert Evaluator.objects.get(name="promise").readiness_max_fail_rate == pytest.approx(0.1)
    page = admin.get("/review/agents/billing-agent/evaluators/").content.decode()
    assert "gate ≤ 10 %" in page
