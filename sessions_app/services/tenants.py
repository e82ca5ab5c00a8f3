"""Creating tenants and changing their retention and redaction policy, audited."""

from __future__ import annotations

from django.db import transaction

from sessions_app.actors import SYSTEM, Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.models import Tenant


def tenant_create(
    *,
    slug: str,
    name: str = "",
    retention_days: int | None = None,
    redact_on_ingest: bool = False,
    twilio_auth_token: str = "",
    actor: Actor = SYSTEM,
) -> Tenant:
    """Create a tenant. Slugs are unique; a duplicate is a ServiceError naming ``slug``."""
    if Tenant.objects.filter(slug=slug).exists():
        raise ServiceError(f"A tenant with slug {slug!r} already exists.", param="slug", code="conflict")
    with transaction.atomic():
        tenant = Tenant.objects.create(
            slug=slug,
            name=name or slug.replace("-", " ").title(),
            retention_days=retention_days,
            redact_on_ingest=redact_on_ingest,
            twilio_auth_token=twilio_auth_token,
        )
        audit_record(
            actor=actor,
            tenant=tenant,
            action=AuditAction.TENANT_CREATED,
            target_type="tenant",
            target_id=slug,
        )
    return tenant


POLICY_FIELDS = ("retention_days", "redact_on_ingest")


@transaction.atomic
def tenant_policy_update(*, tenant: Tenant, actor: Actor = SYSTEM, **changes) -> list[str]:
    """Change a tenant's retention or redaction policy, auditing each change with before/after.

    Returns the names of the fields that changed.
    """
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ServiceError(f"Not a policy field: {sorted(unknown)[0]}.", param=sorted(unknown)[0])
    retention = changes.get("retention_days", tenant.retention_days)
    if retention is not None and retention < 1:
        raise ServiceError(
            "retention_days must be at least 1, or empty to keep data forever.", param="retention_days"
        )
    changed = [name for name, value in changes.items() if getattr(tenant, name) != value]
    if not changed:
        return []
    before = {name: getattr(tenant, name) for name in changed}
    for name in changed:
        setattr(tenant, name, changes[name])
    tenant.save(update_fields=changed)
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.REDACTION_POLICY_CHANGED
        if "redact_on_ingest" in changed
        else AuditAction.RETENTION_CHANGED,
        target_type="tenant",
        target_id=tenant.slug,
        details={"before": before, "after": {name: changes[name] for name in changed}},
    )
    return changed
