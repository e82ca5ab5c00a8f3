"""Reads for QA data. Every read starts from a tenant."""

from __future__ import annotations

from django.db.models import QuerySet

from qa_app.models import DEFAULT_FAILURE_CATEGORIES, FailureCategory
from sessions_app.models import AuditEvent, Tenant


def audit_events_for(*, tenant: Tenant) -> QuerySet[AuditEvent]:
    """The tenant's audit trail, newest first."""
    return AuditEvent.objects.filter(tenant=tenant).order_by("-created_at", "-id")


def failure_categories_for(*, tenant: Tenant, include_retired: bool = True) -> list[FailureCategory]:
    """The tenant's failure taxonomy in display order. A tenant without one gets the default set."""
    categories = list(FailureCategory.objects.filter(tenant=tenant).order_by("position", "name"))
    if not categories:
        FailureCategory.objects.bulk_create(
            [
                FailureCategory(
                    tenant=tenant,
                    name=name,
                    label=label,
                    severity=severity,
                    description=text,
                    position=position,
                )
                for position, (name, label, severity, text) in enumerate(DEFAULT_FAILURE_CATEGORIES)
            ],
            ignore_conflicts=True,
        )
        categories = list(FailureCategory.objects.filter(tenant=tenant).order_by("position", "name"))
    if not include_retired:
        categories = [category for category in categories if category.retired_at is None]
    return categories
