"""Launch readiness per agent and prompt version: computed gates, attested production gates, sign-off.

Computed gates come from aggregate SQL over the agent version's sessions (a fixed number of
queries, whatever the data size). The four production gates of the launch checklist are
attested by people. The launch is ready only when every gate passes. A "go" sign-off records the
gates as they stood; when later evidence breaks one of them, the sign-off is shown as invalidated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery

from qa_app.models import (
    AttestationStatus,
    ContractFinding,
    Decision,
    Evaluation,
    ReadinessAttestation,
    ReadinessConfig,
    ReadinessSignoff,
    SessionTag,
    Severity,
    TagSource,
    Verdict,
)
from qa_app.selectors import failure_categories_for
from qa_app.statistics import wilson
from sessions_app.actors import Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.models import FunctionCall, FunctionCallStatus, QaState, Tenant, VoiceSession

EXAMPLES = 5

# The production gates of the launch checklist, recorded by people: (key, title, required evidence).
ATTESTED_GATES: list[tuple[str, str, list[str]]] = [
    (
        "security_review",
        "Security review",
        [
            "Credential scopes: runtime writers hold sessions:write only; readers and admins apart",
            "Twilio signature verification on for every webhook",
            "PII handling: redaction on, retention set, raw access limited to named people",
        ],
    ),
    (
        "agent_behavior",
        "Agent behavior",
        [
            "Approved prompt version and model",
            "Approved voice (TTS) and speech recognition (STT)",
            "Allowed tools match the agent contract",
            "Escalation language reviewed",
        ],
    ),
    (
        "operational_readiness",
        "Operational readiness",
        ["Dashboards", "Alerts on error and escalation rates", "Runbooks", "A named support owner"],
    ),
    (
        "rollout_approval",
        "Rollout approval",
        ["Traffic limits for the first stage", "Rollback plan", "Stop conditions"],
    ),
]
ATTESTED_KEYS = [key for key, _, _ in ATTESTED_GATES]


@dataclass
class Gate:
    key: str
    title: str
    kind: str  # "computed" or "attested"
    passed: bool
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url of the sessions behind it)
    examples: list[str] = field(default_factory=list)  # session ids
    required_evidence: list[str] = field(default_factory=list)
    status: str = ""  # attested gates: passed / failed / pending
    owner: str = ""
    recorded_by: str = ""
    recorded_at: Any = None


@dataclass
class Readiness:
    agent_key: str
    prompt_version: str
    config: ReadinessConfig
    gates: list[Gate]
    signoff: ReadinessSignoff | None
    broken_since_signoff: list[str]

    @property
    def ready(self) -> bool:
        return all(gate.passed for gate in self.gates)

    @property
    def passed_count(self) -> int:
        return sum(1 for gate in self.gates if gate.passed)

    @property
    def signoff_valid(self) -> bool | None:
        if self.signoff is None:
            return None
        return not self.broken_since_signoff

    @property
    def computed(self) -> list[Gate]:
        return [gate for gate in self.gates if gate.kind == "computed"]

    @property
    def attested(self) -> list[Gate]:
        return [gate for gate in self.gates if gate.kind == "attested"]


def config_for(*, tenant: Tenant, agent_key: str, prompt_version: str) -> ReadinessConfig:
    """The version's thresholds, else the agent's, else the defaults (unsaved)."""
    configs = {
        config.prompt_version: config
        for config in ReadinessConfig.objects.filter(
            tenant=tenant, agent_key=agent_key, prompt_version__in=[prompt_version, ""]
        )
    }
    return (
        configs.get(prompt_version)
        or configs.get("")
        or ReadinessConfig(tenant=tenant, agent_key=agent_key, prompt_version=prompt_version)
    )


def latest_prompt_version(*, tenant: Tenant, agent_key: str) -> str | None:
    """The agent's prompt version seen most recently (what a launch review usually means)."""
    return (
        VoiceSession.objects.filter(tenant=tenant, agent_key=agent_key)
        .order_by("-started_at", "id")
        .values_list("prompt_version", flat=True)
        .first()
    )


def _list_url(**params) -> str:
    return "/review/?" + urlencode({name: value for name, value in params.items() if value not in (None, "")})


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _computed_gates(
    tenant: Tenant, agent_key: str, prompt_version: str, config: ReadinessConfig
) -> list[Gate]:
    sessions = VoiceSession.objects.filter(tenant=tenant, agent_key=agent_key, prompt_version=prompt_version)
    scope = {"agent_key": agent_key, "prompt_version": prompt_version}
    totals = sessions.aggregate(
        total=Count("pk"),
        reviewed=Count("pk", filter=Q(qa_state=QaState.REVIEWED)),
        passed=Count("pk", filter=Q(qa_state=QaState.REVIEWED, verdict=Verdict.PASS)),
    )
    gates = []

    reviewed, minimum = totals["reviewed"], config.min_reviewed
    gates.append(
        Gate(
            key="min_reviewed",
            title=f"At least {minimum} reviewed sessions",
            kind="computed",
            passed=reviewed >= minimum,
            summary=f"{reviewed} of {totals['total']} sessions reviewed (need {minimum}).",
            evidence={"reviewed": reviewed, "sessions": totals["total"], "required": minimum},
            links=[("Reviewed sessions", _list_url(status="reviewed", **scope))],
        )
    )

    rate = wilson(totals["passed"], reviewed)
    threshold = config.min_pass_rate_lower_bound
    gates.append(
        Gate(
            key="pass_rate",
            title=f"Pass rate lower bound ≥ {_percent(threshold)}",
            kind="computed",
            passed=rate.low is not None and rate.low >= threshold,
            summary=(
                f"{totals['passed']}/{reviewed} passed ({_percent(rate.value)}; 95% interval "
                f"{_percent(rate.low)} to {_percent(rate.high)})"
                + (" — small sample." if rate.small_sample else ".")
            ),
            evidence={
                "passed": totals["passed"],
                "reviewed": reviewed,
                "rate": rate.value,
                "lower_bound": rate.low,
                "upper_bound": rate.high,
                "threshold": threshold,
                "small_sample": rate.small_sample,
            },
            links=[
                ("Passed", _list_url(verdict="pass", **scope)),
                ("Failed", _list_url(verdict="fail", **scope)),
                ("Needs work", _list_url(verdict="needs_work", **scope)),
            ],
        )
    )

    critical = [c.name for c in failure_categories_for(tenant=tenant) if c.severity == Severity.CRITICAL]
    window = list(
        Evaluation.objects.filter(
            tenant=tenant, session__agent_key=agent_key, session__prompt_version=prompt_version
        )
        .order_by("-created_at", "-id")
        .values_list("session_id", "failure_categories")[: config.critical_window]
    )
    hits = [str(session_id) for session_id, names in window if set(names or []) & set(critical)]
    gates.append(
        Gate(
            key="no_critical_failures",
            title=f"No critical failure in the last {config.critical_window} reviews",
            kind="computed",
            passed=not hits,
            summary=(
                f"{len(hits)} of the last {len(window)} reviews found a critical failure."
                if hits
                else f"None in the last {len(window)} reviews."
            ),
            evidence={"window": len(window), "critical_failures": len(hits), "critical_categories": critical},
            links=[(name, _list_url(failure_category=name, **scope)) for name in critical],
            examples=list(dict.fromkeys(hits))[:EXAMPLES],
        )
    )

    calls = FunctionCall.objects.filter(
        tenant=tenant, session__agent_key=agent_key, session__prompt_version=prompt_version
    ).aggregate(total=Count("pk"), failed=Count("pk", filter=Q(status=FunctionCallStatus.FAILED)))
    error_rate = calls["failed"] / calls["total"] if calls["total"] else None
    gates.append(
        Gate(
            key="tool_error_rate",
            title=f"Tool error rate under {_percent(config.max_tool_error_rate)}",
            kind="computed",
            passed=error_rate is not None and error_rate < config.max_tool_error_rate,
            summary=(
                f"{calls['failed']} of {calls['total']} tool calls failed ({_percent(error_rate)})."
                if calls["total"]
                else "No tool calls yet."
            ),
            evidence={"calls": calls["total"], "failed": calls["failed"], "rate": error_rate},
            links=[("Sessions with failed tool calls", _list_url(tool_status="failed", **scope))],
        )
    )

    if config.require_failure_follow_up:
        latest_notes = Evaluation.objects.filter(session_id=OuterRef("pk")).order_by("-created_at", "-id")
        human_tags = SessionTag.objects.filter(session_id=OuterRef("pk")).exclude(
            source__in=[TagSource.INGEST, TagSource.IMPORT]
        )
        unexplained = (
            sessions.filter(verdict=Verdict.FAIL)
            .annotate(notes=Subquery(latest_notes.values("notes")[:1]))
            .filter(Q(notes="") | Q(notes__isnull=True))
            .exclude(Exists(human_tags))
        )
        ids = [str(pk) for pk in unexplained.values_list("pk", flat=True)[: EXAMPLES + 1]]
        count = len(ids) if len(ids) <= EXAMPLES else unexplained.count()
        gates.append(
            Gate(
                key="failure_follow_up",
                title="Every failed evaluation has a follow-up tag or note",
                kind="computed",
                passed=count == 0,
                summary=f"{count} failed session(s) have neither a note nor a tag."
                if count
                else "All followed up.",
                evidence={"without_follow_up": count},
                links=[("Failed sessions", _list_url(verdict="fail", **scope))],
                examples=ids[:EXAMPLES],
            )
        )

    if config.require_no_open_findings:
        open_findings = ContractFinding.objects.filter(
            tenant=tenant,
            acknowledged_at__isnull=True,
            session__agent_key=agent_key,
            session__prompt_version=prompt_version,
        )
        summary = open_findings.aggregate(findings=Count("pk"), sessions=Count("session", distinct=True))
        examples = [
            str(pk)
            for pk in open_findings.order_by("-session__started_at").values_list("session_id", flat=True)[:20]
        ]
        gates.append(
            Gate(
                key="no_open_findings",
                title="No open tool-boundary findings",
                kind="computed",
                passed=summary["findings"] == 0,
                summary=(
                    f"{summary['findings']} open finding(s) in {summary['sessions']} session(s)."
                    if summary["findings"]
                    else "No open findings."
                ),
                evidence={"open_findings": summary["findings"], "sessions": summary["sessions"]},
                links=[("Sessions with open findings", _list_url(finding="open", **scope))],
                examples=list(dict.fromkeys(examples))[:EXAMPLES],
            )
        )
    return gates


def _attested_gates(tenant: Tenant, agent_key: str, prompt_version: str) -> list[Gate]:
    latest: dict[str, ReadinessAttestation] = {}
    for attestation in ReadinessAttestation.objects.filter(
        tenant=tenant, agent_key=agent_key, prompt_version=prompt_version
    ).order_by("-created_at", "-id")[:200]:
        latest.setdefault(attestation.gate, attestation)
    gates = []
    for key, title, required in ATTESTED_GATES:
        record = latest.get(key)
        status = record.status if record else AttestationStatus.PENDING
        gates.append(
            Gate(
                key=key,
                title=title,
                kind="attested",
                passed=status == AttestationStatus.PASSED,
                summary=record.evidence if record else "Not recorded yet.",
                required_evidence=required,
                status=status,
                owner=record.owner if record else "",
                recorded_by=record.recorded_by_label if record else "",
                recorded_at=record.created_at if record else None,
            )
        )
    return gates


def readiness_for(*, tenant: Tenant, agent_key: str, prompt_version: str) -> Readiness:
    config = config_for(tenant=tenant, agent_key=agent_key, prompt_version=prompt_version)
    gates = _computed_gates(tenant, agent_key, prompt_version, config) + _attested_gates(
        tenant, agent_key, prompt_version
    )
    signoff = (
        ReadinessSignoff.objects.filter(tenant=tenant, agent_key=agent_key, prompt_version=prompt_version)
        .order_by("-created_at", "-id")
        .first()
    )
    broken = []
    if signoff is not None and signoff.decision == Decision.GO:
        passed_then = {gate["key"] for gate in signoff.gates if gate.get("passed")}
        broken = [gate.key for gate in gates if gate.key in passed_then and not gate.passed]
    return Readiness(
        agent_key=agent_key,
        prompt_version=prompt_version,
        config=config,
        gates=gates,
        signoff=signoff,
        broken_since_signoff=broken,
    )


# --- writes --------------------------------------------------------------------------------------


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


THRESHOLDS = (
    "min_reviewed",
    "min_pass_rate_lower_bound",
    "critical_window",
    "max_tool_error_rate",
    "require_failure_follow_up",
    "require_no_open_findings",
)


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


# --- reports -------------------------------------------------------------------------------------


def readiness_as_dict(readiness: Readiness, *, base_url: str = "") -> dict[str, Any]:
    signoff = readiness.signoff
    return {
        "agent_key": readiness.agent_key,
        "prompt_version": readiness.prompt_version,
        "ready": readiness.ready,
        "gates": [
            {
                "key": gate.key,
                "title": gate.title,
                "kind": gate.kind,
                "passed": gate.passed,
                "summary": gate.summary,
                "evidence": gate.evidence,
                "links": [{"label": label, "url": base_url + url} for label, url in gate.links],
                "example_sessions": gate.examples,
                **(
                    {
                        "status": gate.status,
                        "owner": gate.owner,
                        "required_evidence": gate.required_evidence,
                        "recorded_by": gate.recorded_by or None,
                        "recorded_at": gate.recorded_at.isoformat() if gate.recorded_at else None,
                    }
                    if gate.kind == "attested"
                    else {}
                ),
            }
            for gate in readiness.gates
        ],
        "signoff": None
        if signoff is None
        else {
            "decision": signoff.decision,
            "comment": signoff.comment,
            "signed_by": signoff.signed_by_label,
            "signed_at": signoff.created_at.isoformat(),
            "valid": readiness.signoff_valid,
            "broken_gates": readiness.broken_since_signoff,
        },
    }


def readiness_markdown(readiness: Readiness, *, tenant: Tenant) -> str:
    """A launch-review report to paste into a document or a pull request."""
    mark = {True: "✅", False: "❌"}
    lines = [
        f"# Launch readiness: {readiness.agent_key} {readiness.prompt_version}",
        "",
        f"Tenant: {tenant.name} (`{tenant.slug}`)",
        "",
        f"**{'READY' if readiness.ready else 'NOT READY'}** — "
        f"{sum(gate.passed for gate in readiness.gates)} of {len(readiness.gates)} gates pass.",
        "",
        "## Computed gates",
        "",
        "| Gate | Result | Evidence |",
        "| --- | --- | --- |",
    ]
    for gate in readiness.computed:
        lines.append(f"| {gate.title} | {mark[gate.passed]} | {gate.summary.replace('|', '/')} |")
    lines += [
        "",
        "## Production gates",
        "",
        "| Gate | Status | Owner | Evidence |",
        "| --- | --- | --- | --- |",
    ]
    for gate in readiness.attested:
        evidence = gate.summary.replace("|", "/").replace("\n", " ")
        lines.append(f"| {gate.title} | {gate.status} | {gate.owner or '—'} | {evidence} |")
    lines += ["", "## Sign-off", ""]
    signoff = readiness.signoff
    if signoff is None:
        lines.append("No sign-off recorded.")
    else:
        lines.append(
            f"{signoff.get_decision_display()} by {signoff.signed_by_label} on "
            f"{signoff.created_at:%Y-%m-%d %H:%M} UTC: {signoff.comment}"
        )
        if readiness.broken_since_signoff:
            lines.append("")
            lines.append(
                "**Invalidated:** later evidence broke " + ", ".join(readiness.broken_since_signoff) + "."
            )
    return "\n".join(lines) + "\n"
