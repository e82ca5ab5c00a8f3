"""Writing readiness: a sign-off records the gates as they stood, attestations and thresholds are
audited."""

from __future__ import annotations

from django.db import transaction

from qa_app.models import (
    AttestationStatus,
    Decision,
    ReadinessAttestation,
    ReadinessConfig,
    ReadinessSignoff,
)
from qa_app.readiness.gates import ATTESTED_KEYS, THRESHOLDS, Readiness
from qa_app.readiness.selectors import readiness_for
from sessions_app.actors import Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.models import Tenant


def _gate_snapshot(readiness: Readiness) -> list[dict]:
    return [{"key": gate.key, "passed": gate.passed, "summary": gate.summary} for gate in readiness.gates]


@transaction.atomic
def readiness_sign_off(
    *, tenant: Tenant, agent_key: str, prompt_version: str, decision: str, comment: str, actor: Actor
) -> ReadinessSignoff:
    """Record a go / no-go with the gates as they stand now. A "go" needs every gate passing."""
    if decision not in Decision.values:
        raise ServiceError(f"decision must be one of: {', '.join(Decision.values)}.", param="decision")
    if not (comment or "").strip():
        raise ServiceError("A sign-off needs a comment.", param="comment")
    readiness = readiness_for(tenant=tenant, agent_key=agent_key, prompt_version=prompt_version)
    if decision == Decision.GO and not readiness.ready:
        failing = ", ".join(gate.title for gate in readiness.gates if not gate.passed)
        raise ServiceError(
            f"Can't sign off go while gates fail: {failing}.", param="decision", code="gates_failing"
        )
    signoff = ReadinessSignoff.objects.create(
        tenant=tenant,
        agent_key=agent_key,
        prompt_version=prompt_version,
        decision=decision,
        comment=comment.strip(),
        signed_by=actor.user,
        signed_by_label=actor.label,
        gates=_gate_snapshot(readiness),
    )
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.READINESS_SIGNED_OFF,
        target_type="agent",
        target_id=f"{agent_key}@{prompt_version}",
        details={"decision": decision, "signoff_id": signoff.pk, "ready": readiness.ready},
    )
    return signoff


@transaction.atomic
def attestation_record(
    *,
    tenant: Tenant,
    agent_key: str,
    prompt_version: str,
    gate: str,
    status: str,
    owner: str,
    evidence: str,
    actor: Actor,
) -> ReadinessAttestation:
    if gate not in ATTESTED_KEYS:
        raise ServiceError(f"gate must be one of: {', '.join(ATTESTED_KEYS)}.", param="gate")
    if status not in AttestationStatus.values:
        raise ServiceError(f"status must be one of: {', '.join(AttestationStatus.values)}.", param="status")
    if not (owner or "").strip():
        raise ServiceError("Name the gate's owner.", param="owner")
    if status == AttestationStatus.PASSED and not (evidence or "").strip():
        raise ServiceError("A passed gate needs its evidence (links, tickets, documents).", param="evidence")
    attestation = ReadinessAttestation.objects.create(
        tenant=tenant,
        agent_key=agent_key,
        prompt_version=prompt_version,
        gate=gate,
        status=status,
        owner=owner.strip(),
        evidence=(evidence or "").strip(),
        recorded_by=actor.user,
        recorded_by_label=actor.label,
    )
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.READINESS_ATTESTED,
        target_type="agent",
        target_id=f"{agent_key}@{prompt_version}",
        details={"gate": gate, "status": status, "owner": attestation.owner},
    )
    return attestation


@transaction.atomic
def readiness_config_save(
    *, tenant: Tenant, agent_key: str, prompt_version: str, actor: Actor, **values
) -> ReadinessConfig:
    unknown = set(values) - set(THRESHOLDS)
    if unknown:
        raise ServiceError(f"Not a readiness setting: {sorted(unknown)[0]}.", param=sorted(unknown)[0])
    for name in ("min_pass_rate_lower_bound", "max_tool_error_rate"):
        if name in values and not 0 <= values[name] <= 1:
            raise ServiceError(f"{name} is a rate between 0 and 1.", param=name)
    for name in ("min_reviewed", "critical_window"):
        if name in values and not 1 <= values[name] <= 100_000:
            raise ServiceError(f"{name} must be at least 1.", param=name)
    config, _ = ReadinessConfig.objects.update_or_create(
        tenant=tenant, agent_key=agent_key, prompt_version=prompt_version, defaults=values
    )
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.READINESS_CONFIG_CHANGED,
        target_type="agent",
        target_id=f"{agent_key}@{prompt_version}",
        details={name: values[name] for name in sorted(values)},
    )
    return config
