"""Sign-in lockouts (django-axes) in the audit trail: each lockout is an event in every tenant
the locked-out username belongs to, so that tenant's admins see an attack on their people, and
one without a tenant for the platform operator (the username may not exist at all)."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.dispatch import receiver
from django.utils import timezone

from sessions_app.access import tenants_for_user
from sessions_app.actors import SYSTEM
from sessions_app.audit import AuditAction, audit_record
from sessions_app.models import AuditEvent


@receiver(user_locked_out, dispatch_uid="qa_app.lockout.audit")
def audit_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    details = {"username": username or "", "ip_address": ip_address or ""}
    # Axes signals again on every attempt made while locked; the trail records the lockout once
    # per username (or address) and cool-off, so hammering a locked account can't flood an append-only table.
    same = {"details__username": username} if username else {"details__ip_address": details["ip_address"]}
    recent = AuditEvent.objects.filter(
        tenant=None,
        action=AuditAction.LOGIN_LOCKED_OUT,
        created_at__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
        **same,
    )
    if recent.exists():
        return
    user = get_user_model().objects.filter(username=username).first() if username else None
    tenants = list(tenants_for_user(user)) if user is not None else []
    for tenant in [None, *tenants]:
        audit_record(
            actor=SYSTEM,
            tenant=tenant,
            action=AuditAction.LOGIN_LOCKED_OUT,
            target_type="user",
            target_id=user.pk if user is not None else "",
            details=details,
        )
