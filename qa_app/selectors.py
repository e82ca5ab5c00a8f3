"""Reads for QA data, and the session filters that need it. Every read starts from a tenant."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, QuerySet

from qa_app.models import (
    AutomaticEvaluation,
    ContractFinding,
    FailureCategory,
    SessionFailure,
    SessionTag,
)
from sessions_app.models import AuditEvent, Tenant, VoiceSession


def audit_events_for(*, tenant: Tenant) -> QuerySet[AuditEvent]:
    """The tenant's audit trail, newest first."""
    return AuditEvent.objects.filter(tenant=tenant).order_by("-created_at", "-id")


def failure_categories_for(*, tenant: Tenant, include_retired: bool = True) -> list[FailureCategory]:
    """The tenant's failure taxonomy in display order. A read only: every tenant is given the
    default set when it is created (``services.failure_taxonomy_seed``)."""
    categories = FailureCategory.objects.filter(tenant=tenant).order_by("position", "name")
    if not include_retired:
        categories = categories.filter(retired_at__isnull=True)
    return list(categories)


def sessions_with_tag(queryset: QuerySet[VoiceSession], name: str) -> QuerySet[VoiceSession]:
    tagged = SessionTag.objects.filter(
        tenant_id=OuterRef("tenant_id"), session_id=OuterRef("pk"), tag__name=name
    )
    return queryset.filter(Exists(tagged))


def sessions_with_failure(queryset: QuerySet[VoiceSession], category: str) -> QuerySet[VoiceSession]:
    """Sessions whose latest evaluation named this failure category."""
    failed = SessionFailure.objects.filter(
        tenant_id=OuterRef("tenant_id"), session_id=OuterRef("pk"), category=category
    )
    return queryset.filter(Exists(failed))


def sessions_with_automatic_result(
    queryset: QuerySet[VoiceSession], *, evaluator: str | None = None, result: str | None = None
) -> QuerySet[VoiceSession]:
    """Sessions an automatic evaluator judged, as it stands now (its current version), optionally
    only those it gave ``result``; without ``evaluator``, any evaluator."""
    results = AutomaticEvaluation.objects.filter(
        tenant_id=OuterRef("tenant_id"),
        session_id=OuterRef("pk"),
        evaluator__active=True,
        evaluator_version__version=F("evaluator__current_version"),
    )
    if evaluator:
        results = results.filter(evaluator__name=evaluator)
    if result:
        results = results.filter(result=result)
    return queryset.filter(Exists(results))


def sessions_with_findings(
    queryset: QuerySet[VoiceSession], *, open_only: bool, tool: str | None = None
) -> QuerySet[VoiceSession]:
    """Sessions with tool-boundary findings against their agent's contract (open ones, or any),
    optionally only findings on one tool."""
    findings = ContractFinding.objects.filter(tenant_id=OuterRef("tenant_id"), session_id=OuterRef("pk"))
    if tool:
        findings = findings.filter(tool_name=tool)
    if open_only:
        findings = findings.filter(acknowledged_at__isnull=True)
    return queryset.filter(Exists(findings))
