"""Tenant membership: one role per member, permissions on top, and a tenant never loses its last admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from sessions_app import roles
from sessions_app.access import PERMISSIONS
from sessions_app.actors import SYSTEM, Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.models import SessionShare, Tenant, TenantUserObjectPermission


def _role_group(*, tenant: Tenant, role: str):
    group, created = Group.objects.get_or_create(name=roles.role_group_name(tenant.slug, role))
    if created:
        for permission in roles.ROLE_PERMISSIONS[role]:
            assign_perm(f"sessions_app.{permission}", group, tenant)
    return group


def member_role(*, tenant: Tenant, user) -> str | None:
    """The user's role in the tenant, or None when they are not a member."""
    names = {roles.role_group_name(tenant.slug, role): role for role in roles.ROLES}
    group = user.groups.filter(name__in=names).values_list("name", flat=True).first()
    return names.get(group)


@transaction.atomic
def member_set_role(*, tenant: Tenant, user, role: str, actor: Actor = SYSTEM) -> bool:
    """Give the user exactly one role in the tenant. Returns False when nothing changed."""
    if role not in roles.ROLES:
        raise ServiceError(f"role must be one of: {', '.join(roles.ROLES)}.", param="role")
    previous = member_role(tenant=tenant, user=user)
    if previous == role:
        return False
    if previous == roles.ADMIN:
        _keep_an_admin(tenant=tenant, leaving=user)
    for other in roles.ROLES:
        if other != role:
            user.groups.remove(*user.groups.filter(name=roles.role_group_name(tenant.slug, other)))
    user.groups.add(_role_group(tenant=tenant, role=role))
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.MEMBER_ROLE_CHANGED,
        target_type="user",
        target_id=user.get_username(),
        details={"from": previous, "to": role},
    )
    return True


@dataclass(frozen=True)
class MemberAdded:
    user: Any
    created: bool  # the user did not exist and was made
    changed: bool  # their role in the tenant changed


@transaction.atomic
def member_add(
    *,
    tenant: Tenant,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    actor: Actor = SYSTEM,
) -> MemberAdded:
    """Give ``username`` exactly one role in the tenant, creating the user when there is none.

    The one rule behind the settings page and ``manage.py add_member``. A new user gets
    ``password``, or an unusable one when none is given (set later with ``changepassword``). An
    existing user's password and email are never touched: adding someone to a tenant must not let
    its admin take over an account that other tenants share.
    """
    if role not in roles.ROLES:  # refused before any user is created
        raise ServiceError(f"role must be one of: {', '.join(roles.ROLES)}.", param="role")
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    created = user is None
    if created:
        user = user_model.objects.create_user(username=username, email=email, password=password or None)
    changed = member_set_role(tenant=tenant, user=user, role=role, actor=actor)
    return MemberAdded(user=user, created=created, changed=changed)


def _tenant_admin_ids(tenant: Tenant) -> set[int]:
    name = roles.role_group_name(tenant.slug, roles.ADMIN)
    return set(get_user_model().objects.filter(groups__name=name).values_list("pk", flat=True))


def _keep_an_admin(*, tenant: Tenant, leaving) -> None:
    """A tenant always keeps one admin, so nobody can lock the tenant out of its own settings."""
    if _tenant_admin_ids(tenant) <= {leaving.pk}:
        raise ServiceError(
            "This is the tenant's last admin; make someone else admin first.", param="role", code="last_admin"
        )


@transaction.atomic
def member_remove(*, tenant: Tenant, user, actor: Actor = SYSTEM) -> bool:
    """Take away the user's role and every permission they hold on the tenant, and any shares.

    Returns False when the user was not a member.
    """
    previous = member_role(tenant=tenant, user=user)
    if previous == roles.ADMIN:
        _keep_an_admin(tenant=tenant, leaving=user)
    role_groups = [roles.role_group_name(tenant.slug, role) for role in roles.ROLES]
    groups = list(user.groups.filter(name__in=role_groups))
    direct = TenantUserObjectPermission.objects.filter(user=user, content_object=tenant)
    shares = SessionShare.objects.filter(tenant=tenant, user=user)
    permissions = sorted(direct.values_list("permission__codename", flat=True))
    if not groups and not permissions and not shares.exists():
        return False
    user.groups.remove(*groups)
    direct.delete()
    shared = shares.count()
    shares.delete()
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.MEMBER_REMOVED,
        target_type="user",
        target_id=user.get_username(),
        details={"role": previous, "permissions": permissions, "shared_sessions": shared},
    )
    return True


@transaction.atomic
def member_permission_set(
    *, tenant: Tenant, user, permission: str, granted: bool, actor: Actor = SYSTEM
) -> bool:
    """Grant or withdraw one tenant permission for one user, on top of their role.

    For example raw transcript access for one trusted analyst. Returns False when nothing changed.
    """
    if permission not in PERMISSIONS:
        raise ServiceError(f"permission must be one of: {', '.join(PERMISSIONS)}.", param="permission")
    direct = TenantUserObjectPermission.objects.filter(
        user=user, content_object=tenant, permission__codename=permission
    )
    if direct.exists() == granted:
        return False
    if granted:
        assign_perm(f"sessions_app.{permission}", user, tenant)
    else:
        remove_perm(f"sessions_app.{permission}", user, tenant)
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.MEMBER_PERMISSION_CHANGED,
        target_type="user",
        target_id=user.get_username(),
        details={"permission": permission, "granted": granted},
    )
    return True
