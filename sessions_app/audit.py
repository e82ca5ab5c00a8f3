"""The audit trail: one function writes every event, so each carries who, tenant, what and when."""

from __future__ import annotations

from typing import Any

from sessions_app.actors import Actor
from sessions_app.models import AuditEvent, Tenant


class AuditAction:
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    ADMIN_KEY_CREATED = "admin_key.created"
    ADMIN_KEY_REVOKED = "admin_key.revoked"
    TAG_ADDED = "tag.added"
    TAG_REMOVED = "tag.removed"
    EVALUATION_RECORDED = "evaluation.recorded"
    TENANT_CREATED = "tenant.created"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    MEMBER_PERMISSION_CHANGED = "member.permission_changed"
    RAW_REVEALED = "session.raw_revealed"
    EXPORTED = "sessions.exported"
    RETENTION_PURGED = "retention.purged"
    REDACTION_POLICY_CHANGED = "redaction_policy.changed"
    RETENTION_CHANGED = "retention_policy.changed"
    TAXONOMY_CHANGED = "taxonomy.changed"
    CONTRACT_CHANGED = "contract.changed"
    EVALUATOR_CHANGED = "evaluator.changed"
    JUDGE_ENDPOINT_CHANGED = "judge_endpoint.changed"
    REVIEW_RULE_CHANGED = "review_rule.changed"
    ADJUDICATED = "session.adjudicated"
    GOLD_CHANGED = "gold.changed"
    FINDING_ACKNOWLEDGED = "finding.acknowledged"
    READINESS_SIGNED_OFF = "readiness.signed_off"
    READINESS_ATTESTED = "readiness.attested"
    READINESS_CONFIG_CHANGED = "readiness.config_changed"
    LOGIN_LOCKED_OUT = "login.locked_out"
    MEMBER_INVITED = "member.invited"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_DECLINED = "invitation.declined"
    INVITATION_REVOKED = "invitation.revoked"


def audit_record(
    *,
    actor: Actor,
    tenant: Tenant | None,
    action: str,
    target_type: str = "",
    target_id: Any = "",
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit trail. Call inside the transaction of the change it records."""
    return AuditEvent.objects.create(
        tenant=tenant,
        actor_user=actor.user,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        details=details or {},
    )
