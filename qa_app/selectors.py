"""Reads for QA data. Every read starts from a tenant."""

from django.db.models import QuerySet

from qa_app.models import AuditEvent
from sessions_app.models import Tenant


def audit_events_for(*, tenant: Tenant) -> QuerySet[AuditEvent]:
    """The tenant's audit trail, newest first."""
    return AuditEvent.objects.filter(tenant=tenant).order_by("-created_at", "-id")
