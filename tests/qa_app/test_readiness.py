"""Launch readiness: gates computed on hand-built data, attestations, sign-off and its invalidation,
the readiness API (tenant key), rollout governance (admin key) and the page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from qa_app.contracts import contract_save
from qa_app.models import ReadinessSignoff
from qa_app.readiness import (
    ATTESTED_KEYS,
    attestation_record,
    readiness_config_save,
    readiness_for,
    readiness_sign_off,
)
from qa_app.services import evaluation_record, session_tag_add
from qa_app.statistics import wilson
from sessions_app.actors import SYSTEM
from sessions_app.errors import ServiceError
from sessions_app.models import AuditEvent
from sessions_app.services import admin_key_create
from tests.factories import session_payload

pytestmark = pytest.mark.django_db

AGENT, VERSION = "billing-agent", "v12"


def gates(readiness):
    return {gate.key: gate for gate in readiness.gates}


def build(tenant, make_session, *, passes=8, fails=2, failed_calls=0, critical=False):
    """passes + fails reviewed sessions of billing-agent v12, each with one tool call."""
    sessions = []
    for index in range(passes + fails):
        status = "failed" if index < failed_calls else "succeeded"
        calls = [{**session_payload()["function_calls"][0], "status": status}]
        sessions.append(make_session(tenant, function_calls=calls))
    for session in sessions[:passes]:
        evaluation_record(session=session, actor=SYSTEM, verdict="pass", score=5)
    for index, session in enumerate(sessions[passes:]):
        categories = ["hallucination"] if critical and index == 0 else ["asr_error"]
        evaluation_record(
            session=session, actor=SYSTEM, verdict="fail", failure_categories=categories, notes="misheard"
        )
    return sessions


def attest_all(tenant, status="passed"):
    for key in ATTESTED_KEYS:
        attestation_record(
            tenant=tenant,
            agent_key=AGENT,
            prompt_version=VERSION,
            gate=key,
            status=status,
            owner="ops",
            evidence="doc",
            actor=SYSTEM,
        )


def loose(tenant, **overrides):
    values = {"min_reviewed": 10, "min_pass_rate_lower_bound": 0.4, "max_tool_error_rate": 0.2, **overrides}
    readiness_config_save(tenant=tenant, agent_key=AGENT, prompt_version="", actor=SYSTEM, **values)


def test_computed_gates_on_known_data(tenant, make_session):
    build(tenant, make_session, passes=8, fails=2, failed_calls=1)
    result = gates(readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION))
    assert (
        not result["min_reviewed"].passed and result["min_reviewed"].evidence["reviewed"] == 10
    )  # default 30
    expected = wilson(8, 10)
    assert result["pass_rate"].evidence["lower_bound"] == pytest.approx(expected.low)
    assert not result["pass_rate"].passed  # 0.49 < 0.8
    assert result["pass_rate"].evidence["small_sample"] is True
    assert result["no_critical_failures"].passed
    assert result["tool_error_rate"].evidence == {"calls": 10, "failed": 1, "rate": 0.1}
    assert not result["tool_error_rate"].passed  # 10% >= 5%
    assert result["failure_follow_up"].passed and result["no_open_findings"].passed
    assert all(
        gate.status == "pending" and not gate.passed
        for gate in readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION).attested
    )


def test_thresholds_make_it_ready_once_people_attest(tenant, make_session):
    build(tenant, make_session, passes=9, fails=1, failed_calls=1)
    loose(tenant)
    readiness = readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION)
    assert all(gate.passed for gate in readiness.computed) and not readiness.ready
    attest_all(tenant)
    assert readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION).ready


def test_a_critical_failure_in_the_window_fails_its_gate(tenant, make_session):
    sessions = build(tenant, make_session, passes=5, fails=1, critical=True)
    gate = gates(readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION))[
        "no_critical_failures"
    ]
    assert not gate.passed and gate.examples == [str(sessions[5].pk)]
    assert any("failure_category=hallucination" in url for _, url in gate.links)
    readiness_config_save(
        tenant=tenant, agent_key=AGENT, prompt_version=VERSION, critical_window=1, actor=SYSTEM
    )
    for session in sessions[:1]:
        evaluation_record(session=session, actor=SYSTEM, verdict="pass")  # the newest review is clean
    assert gates(readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION))[
        "no_critical_failures"
    ].passed


def test_a_failure_without_note_or_tag_fails_follow_up_until_tagged(tenant, make_session):
    session = make_session(tenant)
    evaluation_record(session=session, actor=SYSTEM, verdict="fail", failure_categories=["other"])
    gate = gates(readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION))["failure_follow_up"]
    assert not gate.passed and gate.examples == [str(session.pk)]
    session_tag_add(session=session, name="ticket-4411", actor=SYSTEM)
    assert gates(readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION))[
        "failure_follow_up"
    ].passed


def test_open_findings_fail_their_gate(tenant, make_session):
    make_session(
        tenant, function_calls=[{**session_payload()["function_calls"][0], "name": "delete_account"}]
    )
    contract_save(tenant=tenant, agent_key=AGENT, allowed_tools=["lookup_order"], actor=SYSTEM)
    gate = gates(readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION))["no_open_findings"]
    assert not gate.passed and gate.evidence == {"open_findings": 1, "sessions": 1}
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(gate.links[0][1]).query)
    assert query == {"agent_key": [AGENT], "prompt_version": [VERSION], "finding": ["open"]}


def test_other_versions_and_tenants_do_not_count(tenant, other_tenant, make_session):
    build(tenant, make_session, passes=3, fails=0)
    make_session(tenant, model={**session_payload()["model"], "prompt_version": "v11"})
    build(other_tenant, make_session, passes=5, fails=5)
    result = gates(readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION))
    assert result["min_reviewed"].evidence == {"reviewed": 3, "sessions": 3, "required": 30}


def test_signoff_go_needs_passing_gates_and_is_invalidated_by_later_evidence(tenant, make_session):
    sessions = build(tenant, make_session, passes=10, fails=0)
    loose(tenant)
    with pytest.raises(ServiceError) as refused:
        readiness_sign_off(
            tenant=tenant,
            agent_key=AGENT,
            prompt_version=VERSION,
            decision="go",
            comment="ship",
            actor=SYSTEM,
        )
    assert refused.value.code == "gates_failing"
    attest_all(tenant)
    readiness_sign_off(
        tenant=tenant, agent_key=AGENT, prompt_version=VERSION, decision="go", comment="ship it", actor=SYSTEM
    )
    readiness = readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION)
    assert readiness.signoff_valid is True
    assert AuditEvent.objects.filter(action="readiness.signed_off").count() == 1
    evaluation_record(
        session=sessions[0],
        actor=SYSTEM,
        verdict="fail",
        failure_categories=["hallucination"],
        notes="made up a refund",
    )
    readiness = readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION)
    assert readiness.signoff_valid is False and readiness.broken_since_signoff == ["no_critical_failures"]
    with pytest.raises(ServiceError):
        readiness_sign_off(
            tenant=tenant, agent_key=AGENT, prompt_version=VERSION, decision="go", comment="", actor=SYSTEM
        )
    assert ReadinessSignoff.objects.count() == 1


def test_attestations_are_validated(tenant):
    with pytest.raises(ServiceError) as no_evidence:
        attestation_record(
            tenant=tenant,
            agent_key=AGENT,
            prompt_version=VERSION,
            gate="security_review",
            status="passed",
            owner="sec",
            evidence="",
            actor=SYSTEM,
        )
    assert no_evidence.value.param == "evidence"
    with pytest.raises(ServiceError) as bad_gate:
        attestation_record(
            tenant=tenant,
            agent_key=AGENT,
            prompt_version=VERSION,
            gate="vibes",
            status="passed",
            owner="x",
            evidence="y",
            actor=SYSTEM,
        )
    assert bad_gate.value.param == "gate"


def test_readiness_is_a_fixed_number_of_queries(tenant, make_session):
    build(tenant, make_session, passes=1, fails=1)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION)
        return len(captured)

    few = queries()
    build(tenant, make_session, passes=10, fails=10, failed_calls=5)
    attest_all(tenant)
    assert queries() == few <= 12


# --- API -----------------------------------------------------------------------------------------


def test_readiness_api_json_and_markdown(tenant, make_session, api):
    build(tenant, make_session, passes=10, fails=0)
    body = api.get(f"/api/v1/agents/{AGENT}/readiness?prompt_version={VERSION}").json()
    assert body["agent_key"] == AGENT and body["prompt_version"] == VERSION and body["ready"] is False
    keys = [gate["key"] for gate in body["gates"]]
    assert keys[:2] == ["min_reviewed", "pass_rate"] and keys[-4:] == ATTESTED_KEYS
    assert body["signoff"] is None
    assert body["gates"][0]["links"][0]["url"].startswith("http://testserver/review/?")
    default_version = api.get(f"/api/v1/agents/{AGENT}/readiness").json()
    assert default_version["prompt_version"] == VERSION  # the most recent one
    report = api.get(f"/api/v1/agents/{AGENT}/readiness?prompt_version={VERSION}&format=markdown")
    assert report["Content-Type"].startswith("text/markdown")
    text = report.content.decode()
    assert (
        text.startswith(f"# Launch readiness: {AGENT} {VERSION}")
        and "**NOT READY**" in text
        and "| Security review | pending |" in text
    )


def test_readiness_api_errors(tenant, other_tenant, make_session, api, client_for):
    make_session(other_tenant)
    missing = api.get("/api/v1/agents/billing-agent/readiness")
    assert missing.status_code == 404 and missing.json()["error"]["code"]
    assert api.get("/api/v1/agents/billing-agent/readiness?format=pdf").status_code == 400
    assert APIClient().get("/api/v1/agents/billing-agent/readiness").status_code == 401


def test_rollout_governance_for_platform_admins_only(tenant, make_session, api):
    build(tenant, make_session, passes=2, fails=0)
    _, admin_key = admin_key_create(name="deploys")
    admin = APIClient()
    admin.credentials(HTTP_X_ADMIN_KEY=admin_key)
    body = admin.get(f"/api/v1/admin/rollout-governance?tenant={tenant.slug}&agent_key={AGENT}").json()
    assert body["prompt_version"] == VERSION and body["ready"] is False
    assert admin.get(
        f"/api/v1/admin/rollout-governance?tenant={tenant.slug}&agent_key={AGENT}&format=markdown"
    ).content.startswith(b"# Launch")
    assert admin.get("/api/v1/admin/rollout-governance?agent_key=x").status_code == 400
    assert admin.get(f"/api/v1/admin/rollout-governance?tenant=nope&agent_key={AGENT}").status_code == 404
    assert (
        api.get(f"/api/v1/admin/rollout-governance?tenant={tenant.slug}&agent_key={AGENT}").status_code == 401
    )


# --- page ----------------------------------------------------------------------------------------


def test_readiness_page_for_members_and_admin_actions(tenant, make_session, browser_for):
    sessions = build(tenant, make_session, passes=10, fails=0)
    loose(tenant)
    viewer = browser_for(tenant, "viewer")
    page = viewer.get(f"/review/agents/{AGENT}/readiness/").content.decode()
    assert (
        "Not ready" in page and 'data-testid="gate-security_review"' in page and "Record sign-off" not in page
    )
    assert (
        viewer.post(
            f"/review/agents/{AGENT}/readiness/signoff/",
            {"decision": "no_go", "comment": "x", "prompt_version": VERSION},
        ).status_code
        == 403
    )
    admin = browser_for(tenant, "admin")
    for key in ATTESTED_KEYS:
        response = admin.post(
            f"/review/agents/{AGENT}/readiness/attest/",
            {
                "prompt_version": VERSION,
                "gate": key,
                "status": "passed",
                "owner": "ops",
                "evidence": "runbook link",
            },
        )
        assert response.status_code == 302
    assert (
        "Ready to launch"
        in admin.get(f"/review/agents/{AGENT}/readiness/?prompt_version={VERSION}").content.decode()
    )
    assert (
        admin.post(
            f"/review/agents/{AGENT}/readiness/signoff/",
            {"prompt_version": VERSION, "decision": "go", "comment": "approved"},
        ).status_code
        == 302
    )
    evaluation_record(
        session=sessions[0], actor=SYSTEM, verdict="fail", failure_categories=["policy_violation"], notes="x"
    )
    page = admin.get(f"/review/agents/{AGENT}/readiness/?prompt_version={VERSION}").content.decode()
    assert 'data-testid="signoff-invalidated"' in page
    assert admin.get(f"/review/agents/{AGENT}/readiness/?prompt_version=v99").status_code == 404
    config = admin.post(
        f"/review/agents/{AGENT}/readiness/config/",
        {
            "prompt_version": VERSION,
            "min_reviewed": "5",
            "min_pass_rate_lower_bound": "50",
            "critical_window": "10",
            "max_tool_error_rate": "5",
        },
    )
    assert config.status_code == 302
    assert (
        readiness_for(tenant=tenant, agent_key=AGENT, prompt_version=VERSION).config.min_pass_rate_lower_bound
        == 0.5
    )
