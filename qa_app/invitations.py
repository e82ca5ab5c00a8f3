"""Invitations: how an existing user joins another tenant. A tenant admin offers a role; the
user accepts or declines it on their invitations page; an admin can revoke it while pending.
Each step is audited in the tenant. The platform operator's ``add_member`` grants directly."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from qa_app.models import InvitationState, TenantInvitation
from sessions_app import roles
from sessions_app.actors import Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.models import Tenant
from sessions_app.services import MemberAdded, member_add, member_role, member_set_role

VALID_FOR = dt.timedelta(days=7)
COUNT_CACHE_SECONDS = 300


def _count_key(user_id: int) -> str:
    return f"invitations:pending:{user_id}"


def pending_invitation_count(user) -> int:
    """How many invitations wait for ``user``: shown in every page's navigation, so cached (and
    dropped whenever one of theirs changes); an expiry shows within COUNT_CACHE_SECONDS."""
    key = _count_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = pending_invitations(user=user).count()
        cache.set(key, count, COUNT_CACHE_SECONDS)
    return count


def _changed(invitation: TenantInvitation) -> None:
    # Dropped now for this request's own next read, and again once committed, since another
    # request may have cached the old count in between.
    key = _count_key(invitation.user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def pending_invitations(**filters) -> QuerySet[TenantInvitation]:
    return TenantInvitation.objects.filter(
        state=InvitationState.PENDING, expires_at__gt=timezone.now(), **filters
    ).select_related("tenant", "user", "invited_by")


@transaction.atomic
@transaction.atomic
def member_add_or_invite(
    *, tenant: Tenant, username: str, role: str, password: str, actor: Actor
) -> MemberAdded | TenantInvitation:
    """What a tenant admin's "Add member" does. A new username becomes a user of this tenant
    (with the password the admin gives) and a member changes role, both through ``member_add``;
    an existing user who is not a member (someone else's, or nobody's yet) is only invited, and
    joins if they accept."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None and not password:
        raise ServiceError("No user has this name; give a password to create them.", param="password")
    if user is not None and member_role(tenant=tenant, user=user) is None:
        return invitation_create(tenant=tenant, user=user, role=role, actor=actor)
    return member_add(tenant=tenant, username=username, role=role, password=password, actor=actor)


def invitation_create(*, tenant: Tenant, user, role: str, actor: Actor) -> TenantInvitation:
    """Invite ``user`` as ``role``; inviting again while one is pending renews it with this role."""
    if role not in roles.ROLES:
        raise ServiceError(f"role must be one of: {', '.join(roles.ROLES)}.", param="role")
    expires_at = timezone.now() + VALID_FOR
    invitation = (
        TenantInvitation.objects.select_for_update()
        .filter(tenant=tenant, user=user, state=InvitationState.PENDING)
        .first()
    )
    if invitation is None:
        try:
            with transaction.atomic():
                invitation = TenantInvitation.objects.create(
                    tenant=tenant, user=user, role=role, invited_by=actor.user, expires_at=expires_at
                )
        except IntegrityError:  # a concurrent invitation won; renew that one
            invitation = TenantInvitation.objects.get(tenant=tenant, user=user, state=InvitationState.PENDING)
    invitation.role, invitation.expires_at, invitation.invited_by = role, expires_at, actor.user
    invitation.save(update_fields=["role", "expires_at", "invited_by"])
    _changed(invitation)
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.MEMBER_INVITED,
        target_type="user",
        target_id=user.get_username(),
        details={"role": role, "invitation": invitation.pk},
    )
    return invitation


def _answer(invitation: TenantInvitation, state: str, action: str, actor: Actor) -> None:
    invitation.state, invitation.answered_at = state, timezone.now()
    invitation.save(update_fields=["state", "answered_at"])
    _changed(invitation)
    audit_record(
        actor=actor,
        tenant=invitation.tenant,
        action=action,
        target_type="user",
        target_id=invitation.user.get_username(),
        details={"role": invitation.role, "invitation": invitation.pk},
    )


def _pending_locked(**filters) -> TenantInvitation:
    invitation = pending_invitations(**filters).select_for_update(of=("self",)).first()
    if invitation is None:
        raise TenantInvitation.DoesNotExist
    return invitation


@transaction.atomic
def invitation_accept(*, invitation_id: int, user, actor: Actor) -> TenantInvitation:
    """Only the invited user accepts, only while pending and unexpired; they get the role."""
    invitation = _pending_locked(pk=invitation_id, user=user)
    member_set_role(tenant=invitation.tenant, user=user, role=invitation.role, actor=actor)
    _answer(invitation, InvitationState.ACCEPTED, AuditAction.INVITATION_ACCEPTED, actor)
    return invitation


@transaction.atomic
def invitation_decline(*, invitation_id: int, user, actor: Actor) -> TenantInvitation:
    invitation = _pending_locked(pk=invitation_id, user=user)
    _answer(invitation, InvitationState.DECLINED, AuditAction.INVITATION_DECLINED, actor)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation_id: int, tenant: Tenant, actor: Actor) -> TenantInvitation:
    invitation = _pending_locked(pk=invitation_id, tenant=tenant)
    _answer(invitation, InvitationState.REVOKED, AuditAction.INVITATION_REVOKED, actor)
    return invitation
