"""Agent contracts: tool-boundary findings on write and on contract change, shown and filterable."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qa_app.contracts import contract_save, finding_acknowledge, sessions_check
from qa_app.models import AgentContract, ContractFinding, FindingKind
from sessions_app.actors import SYSTEM
from sessions_app.errors import ServiceError
from sessions_app.models import AuditEvent
from tests.factories import session_payload

pytestmark = pytest.mark.django_db

REFUND_SCHEMA = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "pattern": "^[0-9]{5}$"},
        "amount": {"type": "number", "maximum": 500},
    },
    "required": ["order_id", "amount"],
    "additionalProperties": False,
}


def call(seq, name, arguments, status="succeeded"):
    return {
        **session_payload()["function_calls"][0],
        "seq": seq,
        "turn_seq": 1,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def billing_contract(tenant, prompt_version=""):
    return contract_save(
        tenant=tenant,
        agent_key="billing-agent",
        prompt_version=prompt_version,
        purpose="Billing questions and refunds up to $500",
        allowed_intents=["refund", "double charge"],
        allowed_tools=[
            {"name": "lookup_order", "schema": None},
            {"name": "issue_refund", "schema": REFUND_SCHEMA},
        ],
        actor=SYSTEM,
    )


def test_a_tool_outside_the_contract_and_bad_arguments_are_findings_on_write(tenant, make_session):
    billing_contract(tenant)
    session = make_session(
        tenant,
        function_calls=[
            call(0, "lookup_order", {"order_id": "58213"}),
            call(1, "issue_refund", {"order_id": "58213", "amount": 900}),
            call(2, "delete_account", {"account": "x"}),
            call(3, "issue_refund", {"order_id": "58213", "amount": 20}),
        ],
    )
    findings = {(f.call_seq, f.kind): f for f in ContractFinding.objects.filter(session=session)}
    assert set(findings) == {(1, FindingKind.TOOL_ARGS_INVALID), (2, FindingKind.TOOL_NOT_ALLOWED)}
    assert "arguments.amount: breaks 'maximum' (500)" in findings[(1, FindingKind.TOOL_ARGS_INVALID)].detail
    assert "delete_account is not an allowed tool" in findings[(2, FindingKind.TOOL_NOT_ALLOWED)].detail


def test_finding_details_never_quote_argument_values(tenant, make_session):
    billing_contract(tenant)
    session = make_session(
        tenant, function_calls=[call(0, "issue_refund", {"order_id": "+14155550123", "amount": 1})]
    )
    (finding,) = ContractFinding.objects.filter(session=session)
    assert "arguments.order_id: breaks 'pattern'" in finding.detail
    assert "4155550123" not in finding.detail


def test_other_agents_and_sessions_without_contract_have_no_findings(tenant, make_session):
    billing_contract(tenant)
    make_session(tenant, agent_key="support-agent", function_calls=[call(0, "delete_account", {})])
    assert not ContractFinding.objects.exists()


def test_a_version_contract_overrides_the_agent_wide_one(tenant, make_session):
    billing_contract(tenant)
    contract_save(
        tenant=tenant,
        agent_key="billing-agent",
        prompt_version="v12",
        allowed_tools=["lookup_order"],
        actor=SYSTEM,
    )
    v11 = make_session(
        tenant,
        model={**session_payload()["model"], "prompt_version": "v11"},
        function_calls=[call(0, "issue_refund", {"order_id": "12345", "amount": 5})],
    )
    v12 = make_session(tenant, function_calls=[call(0, "issue_refund", {"order_id": "12345", "amount": 5})])
    assert not ContractFinding.objects.filter(session=v11).exists()
    assert ContractFinding.objects.get(session=v12).kind == FindingKind.TOOL_NOT_ALLOWED


def test_changing_the_contract_rechecks_existing_sessions(tenant, make_session):
    session = make_session(tenant, function_calls=[call(0, "delete_account", {"account": "x"})])
    assert not ContractFinding.objects.exists()  # no contract yet
    _, rechecked = billing_contract(tenant)
    assert rechecked == 1
    finding = ContractFinding.objects.get(session=session)
    finding_acknowledge(finding=finding, actor=SYSTEM, note="being added in v13")
    contract_save(
        tenant=tenant,
        agent_key="billing-agent",
        allowed_tools=["lookup_order", "issue_refund", "x"],
        actor=SYSTEM,
    )
    finding.refresh_from_db()
    assert finding.acknowledged_at is not None  # still applies: keeps its acknowledgement
    contract_save(tenant=tenant, agent_key="billing-agent", allowed_tools=["delete_account"], actor=SYSTEM)
    assert not ContractFinding.objects.exists()  # no longer applies: gone
    assert AuditEvent.objects.filter(action="contract.changed").count() == 3


def test_an_invalid_schema_or_tool_list_is_refused_and_nothing_saved(tenant):
    from qa_app.models import AgentContract

    with pytest.raises(ServiceError) as bad_schema:
        contract_save(
            tenant=tenant,
            agent_key="billing-agent",
            allowed_tools=[{"name": "x", "schema": {"type": 12}}],
            actor=SYSTEM,
        )
    assert bad_schema.value.param == "allowed_tools" and "not valid JSON Schema" in bad_schema.value.message
    with pytest.raises(ServiceError):
        contract_save(tenant=tenant, agent_key="billing-agent", allowed_tools=["a", "a"], actor=SYSTEM)
    assert not AgentContract.objects.exists()


def test_checking_is_a_fixed_number_of_queries(tenant, make_session):
    billing_contract(tenant)
    few = [make_session(tenant, function_calls=[call(0, "x", {})]).pk]
    many = [make_session(tenant, function_calls=[call(n, "x", {}) for n in range(6)]).pk for _ in range(10)]

    def queries(ids):
        ContractFinding.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            sessions_check(tenant=tenant, session_ids=ids)
        return len(captured)

    assert queries(few) == queries(many)
    assert ContractFinding.objects.count() == 60  # SQLite splits bulk inserts past 999 parameters


def test_findings_filter_the_list_and_show_on_the_timeline(tenant, make_session, api, browser_for):
    billing_contract(tenant)
    bad = make_session(tenant, function_calls=[call(0, "delete_account", {})])
    make_session(tenant)
    ids = [row["id"] for row in api.get("/api/v1/voice-sessions?finding=open").json()["data"]]
    assert ids == [str(bad.pk)]
    page = browser_for(tenant, "viewer").get(f"/review/sessions/{bad.pk}/").content.decode()
    assert "Tool outside the contract" in page and "call-boundary" in page
    finding_acknowledge(finding=ContractFinding.objects.get(), actor=SYSTEM, note="ok")
    assert api.get("/api/v1/voice-sessions?finding=open").json()["data"] == []
    assert len(api.get("/api/v1/voice-sessions?finding=any").json()["data"]) == 1
    assert api.get("/api/v1/voice-sessions?finding=maybe").status_code == 400


def test_contract_page_edit_and_acknowledge(tenant, make_session, browser_for):
    session = make_session(tenant, function_calls=[call(0, "delete_account", {})])
    admin = browser_for(tenant, "admin")
    assert admin.get("/review/agents/billing-agent/contract/").status_code == 200
    response = admin.post(
        "/review/agents/billing-agent/contract/save/",
        {
            "prompt_version": "",
            "purpose": "Billing",
            "allowed_intents": "refund\nbalance",
            "allowed_tools": '[{"name": "lookup_order", "schema": null}]',
        },
    )
    assert response.status_code == 302
    page = admin.get("/review/agents/billing-agent/contract/").content.decode()
    assert "delete_account is not an allowed tool" in page and "balance" in page
    bad = admin.post("/review/agents/billing-agent/contract/save/", {"allowed_tools": "[{oops"})
    assert bad.status_code == 400 and "Not valid JSON" in bad.content.decode()
    finding = ContractFinding.objects.get(session=session)
    analyst = browser_for(tenant, "analyst")
    assert (
        analyst.post("/review/agents/billing-agent/contract/save/", {"allowed_tools": "[]"}).status_code
        == 403
    )
    analyst.post(f"/review/agents/billing-agent/findings/{finding.pk}/acknowledge/", {"note": "added in v13"})
    finding.refresh_from_db()
    assert finding.acknowledgement == "added in v13"
    assert browser_for(tenant, "viewer").get("/review/agents/nobody/contract/").status_code == 404


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ('[{"name": "a\\u0000b", "schema": null}]', "Can&#x27;t be stored"),
        ('[{"name": "\\ud800", "schema": null}]', "Can&#x27;t be stored"),
        ('[{"name": "x", "schema": {"maximum": 1' + "0" * 30 + "}}]", "64 bits"),
        ("[" * 100_000 + "]" * 100_000, "Nested deeper"),
        ("[" * 70 + "]" * 70, "Can&#x27;t be stored"),
    ],
    ids=["nul", "surrogate", "huge-int", "recursion", "too-deep"],
)
def test_contract_tools_are_held_to_the_api_json_bounds(tenant, make_session, browser_for, tools, message):
    """These were stored and then broke the page (or answered 500 on save)."""
    make_session(tenant)  # the agent exists
    admin = browser_for(tenant, "admin")
    response = admin.post("/review/agents/billing-agent/contract/save/", {"allowed_tools": tools})
    assert response.status_code == 400 and message in response.content.decode()
    assert not AgentContract.objects.filter(tenant=tenant).exists()
