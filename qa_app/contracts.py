"""Agent contracts and tool boundaries: each session's tool calls checked against its agent's contract.

A call to a tool the contract doesn't list, or with arguments that break the tool's JSON Schema,
is a tool-boundary finding. Sessions are checked when written and again when their contract
changes, in a fixed number of queries per batch. Finding details name the argument path and the
rule broken, never the argument's value, because tool arguments carry caller data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from qa_app.models import AgentContract, ContractFinding, FindingKind
from sessions_app.actors import Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.models import FunctionCall, Tenant, VoiceSession

RECHECK_BATCH = 1000
MAX_DETAIL = 500


def contract_lookup(contracts: Iterable[AgentContract]) -> dict[tuple[str, str], AgentContract]:
    return {(contract.agent_key, contract.prompt_version): contract for contract in contracts}


def contract_for(lookup: dict, agent_key: str, prompt_version: str) -> AgentContract | None:
    """The version's own contract, else the agent's contract for all versions."""
    return lookup.get((agent_key, prompt_version or "")) or lookup.get((agent_key, ""))


def _error_path(error) -> str:
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    return f"arguments{path}"


def _describe(error) -> str:
    """The rule broken, without the offending value (it may be caller data)."""
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        return f"{_error_path(error)}: missing required {', '.join(map(repr, missing))}"
    if error.validator == "additionalProperties":
        return f"{_error_path(error)}: has properties the schema doesn't allow"
    return f"{_error_path(error)}: breaks '{error.validator}' ({error.validator_value!r})"


def call_findings(contract: AgentContract, name: str, arguments: Any) -> list[tuple[str, str]]:
    """[(kind, detail)] for one tool call under ``contract``."""
    tools = {tool["name"]: tool.get("schema") for tool in contract.allowed_tools}
    if name not in tools:
        allowed = ", ".join(sorted(tools)) or "none"
        return [
            (FindingKind.TOOL_NOT_ALLOWED, f"{name} is not an allowed tool (allowed: {allowed})"[:MAX_DETAIL])
        ]
    schema = tools[name]
    if not schema:
        return []
    errors = sorted(Draft202012Validator(schema).iter_errors(arguments), key=lambda error: list(error.path))
    if not errors:
        return []
    detail = "; ".join(_describe(error) for error in errors[:3])
    return [(FindingKind.TOOL_ARGS_INVALID, detail[:MAX_DETAIL])]


def sessions_check(*, tenant: Tenant, session_ids: list, new_session_ids: Collection = ()) -> int:
    """Recompute the tool-boundary findings of these sessions. Returns how many are open now.

    Six queries at most whatever the number of sessions and calls; one when the tenant has no
    contract and every session is new (``new_session_ids``: just created, so without findings).
    Findings that still apply keep their acknowledgement; findings that no longer apply are removed.
    """
    if not session_ids:
        return 0
    lookup = contract_lookup(AgentContract.objects.filter(tenant=tenant))
    known = [pk for pk in session_ids if pk not in new_session_ids]
    existing = {
        (finding.session_id, finding.call_seq, finding.kind): finding
        for finding in (ContractFinding.objects.filter(tenant=tenant, session_id__in=known) if known else ())
    }
    if not lookup and not existing:
        return 0
    contracts = {}
    for pk, agent_key, prompt_version in VoiceSession.objects.filter(
        tenant=tenant, pk__in=session_ids
    ).values_list("pk", "agent_key", "prompt_version"):
        contract = contract_for(lookup, agent_key, prompt_version)
        if contract is not None:
            contracts[pk] = contract
    wanted: dict[tuple, ContractFinding] = {}
    if contracts:
        for session_id, seq, name, arguments in (
            FunctionCall.objects.filter(tenant=tenant, session_id__in=list(contracts))
            .order_by()
            .values_list("session_id", "seq", "name", "arguments")
        ):
            contract = contracts[session_id]
            for kind, detail in call_findings(contract, name, arguments):
                wanted[(session_id, seq, kind)] = ContractFinding(
                    tenant=tenant,
                    session_id=session_id,
                    contract=contract,
                    kind=kind,
                    call_seq=seq,
                    tool_name=name,
                    detail=detail,
                )
    stale = [finding.pk for key, finding in existing.items() if key not in wanted]
    with transaction.atomic():
        if stale:
            ContractFinding.objects.filter(pk__in=stale).delete()
        new = [finding for key, finding in wanted.items() if key not in existing]
        if new:
            ContractFinding.objects.bulk_create(new, ignore_conflicts=True)
    return sum(1 for key in wanted if key not in existing or existing[key].acknowledged_at is None)


def agent_sessions_recheck(*, tenant: Tenant, agent_key: str) -> int:
    """Recheck every session of the agent in keyset batches (after its contract changed)."""
    checked, last = 0, None
    sessions = VoiceSession.objects.filter(tenant=tenant, agent_key=agent_key).order_by("pk")
    while True:
        batch = sessions.filter(pk__gt=last) if last is not None else sessions
        ids = list(batch.values_list("pk", flat=True)[:RECHECK_BATCH])
        if not ids:
            return checked
        sessions_check(tenant=tenant, session_ids=ids)
        checked += len(ids)
        last = ids[-1]


def _clean_tools(tools: Any) -> list[dict]:
    if not isinstance(tools, list):
        raise ServiceError("allowed_tools must be a list of {name, schema}.", param="allowed_tools")
    cleaned, seen = [], set()
    for index, tool in enumerate(tools):
        if isinstance(tool, str):
            tool = {"name": tool, "schema": None}
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str) or not tool["name"].strip():
            raise ServiceError(f"allowed_tools[{index}] needs a name.", param="allowed_tools")
        name, schema = tool["name"].strip(), tool.get("schema")
        if name in seen:
            raise ServiceError(f"allowed_tools lists {name!r} twice.", param="allowed_tools")
        if schema is not None:
            if not isinstance(schema, dict):
                raise ServiceError(f"The schema of {name!r} must be a JSON object.", param="allowed_tools")
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as error:
                raise ServiceError(
                    f"The schema of {name!r} is not valid JSON Schema: {error.message}", param="allowed_tools"
                ) from None
        seen.add(name)
        cleaned.append({"name": name, "schema": schema or None})
    return cleaned


def contract_save(
    *,
    tenant: Tenant,
    agent_key: str,
    prompt_version: str = "",
    purpose: str = "",
    allowed_intents: list[str] | None = None,
    allowed_tools: Any = (),
    escalation_rules: str = "",
    refusal_policy: str = "",
    actor: Actor,
) -> tuple[AgentContract, int]:
    """Create or revise an agent's contract, audit it, and recheck the agent's sessions against it.

    Returns the contract and the number of sessions rechecked.
    """
    if not (agent_key or "").strip():
        raise ServiceError("agent_key is required.", param="agent_key")
    intents = [intent.strip() for intent in (allowed_intents or []) if intent and intent.strip()]
    tools = _clean_tools(list(allowed_tools))
    values = {
        "purpose": purpose or "",
        "allowed_intents": intents,
        "allowed_tools": tools,
        "escalation_rules": escalation_rules or "",
        "refusal_policy": refusal_policy or "",
    }
    with transaction.atomic():
        contract = (
            AgentContract.objects.select_for_update()
            .filter(tenant=tenant, agent_key=agent_key, prompt_version=prompt_version or "")
            .first()
        )
        if contract is None:
            contract = AgentContract.objects.create(
                tenant=tenant,
                agent_key=agent_key,
                prompt_version=prompt_version or "",
                updated_by=actor.user,
                **values,
            )
        else:
            for name, value in values.items():
                setattr(contract, name, value)
            contract.revision += 1
            contract.updated_by = actor.user
            contract.save()
        audit_record(
            actor=actor,
            tenant=tenant,
            action=AuditAction.CONTRACT_CHANGED,
            target_type="agent_contract",
            target_id=f"{agent_key}@{prompt_version or '*'}",
            details={"revision": contract.revision, "tools": [tool["name"] for tool in tools]},
        )
    return contract, agent_sessions_recheck(tenant=tenant, agent_key=agent_key)


@transaction.atomic
def finding_acknowledge(*, finding: ContractFinding, actor: Actor, note: str) -> ContractFinding:
    """Accept a finding (e.g. "tool added to the contract in v13"); it stops counting as open."""
    if not (note or "").strip():
        raise ServiceError("Say why the finding is acknowledged.", param="note")
    finding.acknowledged_at = timezone.now()
    finding.acknowledged_by = actor.user
    finding.acknowledgement = note.strip()[:500]
    finding.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement"])
    audit_record(
        actor=actor,
        tenant=finding.tenant,
        action=AuditAction.FINDING_ACKNOWLEDGED,
        target_type="voice_session",
        target_id=finding.session_id,
        details={"finding_id": finding.pk, "tool": finding.tool_name, "kind": finding.kind},
    )
    return finding
