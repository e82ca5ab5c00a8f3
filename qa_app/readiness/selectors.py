"""Reading a version's readiness: its thresholds, its computed gates (aggregate SQL over the
version's sessions, a fixed number of queries), its attested gates and its sign-off."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery

from qa_app.models import (
    AttestationStatus,
    AutomaticEvaluation,
    AutomaticResult,
    ContractFinding,
    Decision,
    Evaluation,
    Evaluator,
    ReadinessAttestation,
    ReadinessConfig,
    ReadinessSignoff,
    SessionTag,
    Severity,
    TagSource,
    Verdict,
)
from qa_app.readiness.gates import ATTESTED_GATES, EXAMPLES, Gate, Readiness
from qa_app.selectors import failure_categories_for
from qa_app.statistics import wilson
from sessions_app.models import FunctionCall, FunctionCallStatus, QaState, Tenant, VoiceSession


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
    gates += _evaluator_gates(tenant, agent_key, prompt_version, scope)
    return gates


def _evaluator_gates(tenant: Tenant, agent_key: str, prompt_version: str, scope: dict) -> list[Gate]:
    """A gate per active evaluator an admin made one (``readiness_max_fail_rate``) that covers
    this version: the version's calls its current version failed, of those it judged. Two queries."""
    evaluators = [
        evaluator
        for evaluator in Evaluator.objects.filter(
            tenant=tenant, agent_key=agent_key, active=True, readiness_max_fail_rate__isnull=False
        ).prefetch_related("versions")
        if any(
            v.version == evaluator.current_version
            and (not v.prompt_versions or prompt_version in v.prompt_versions)
            for v in evaluator.versions.all()
        )
    ]
    if not evaluators:
        return []
    counts = {
        row["evaluator_id"]: row
        for row in AutomaticEvaluation.objects.filter(
            tenant=tenant,
            evaluator__in=evaluators,
            evaluator_version__version=F("evaluator__current_version"),
            session__agent_key=agent_key,
            session__prompt_version=prompt_version,
        )
        .values("evaluator_id")
        .annotate(judged=Count("pk"), failed=Count("pk", filter=Q(result=AutomaticResult.FAIL)))
        .order_by()
    }
    gates = []
    for evaluator in evaluators:
        row = counts.get(evaluator.pk, {"judged": 0, "failed": 0})
        judged, failed, limit = row["judged"], row["failed"], evaluator.readiness_max_fail_rate
        rate = failed / judged if judged else None
        gates.append(
            Gate(
                key=f"evaluator:{evaluator.name}",
                title=f"{evaluator.name} fails at most {_percent(limit)} of calls",
                kind="computed",
                passed=rate is not None and rate <= limit,
                summary=(
                    f"{failed} of {judged} judged calls failed ({_percent(rate)})."
                    if judged
                    else "No call of this version judged yet."
                ),
                evidence={"judged": judged, "failed": failed, "rate": rate, "threshold": limit,
                          "version": evaluator.current_version},
                links=[
                    ("Failed", _list_url(evaluator=evaluator.name, evaluator_result="fail", **scope)),
                    ("Judged", _list_url(evaluator=evaluator.name, **scope)),
                ],
            )
        )  # fmt: skip
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
