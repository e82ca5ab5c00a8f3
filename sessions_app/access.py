"""Who may see and do what in a tenant: the one scoping mechanism for the API, pages and exports.

A principal is either a tenant API key (scopes) or a signed-in user (django-guardian object
permissions on the Tenant, granted through role groups or one by one). A user with no tenant
permission may still have been shared single sessions; they see those and nothing else.
Model-level (global) permissions never count: ``accept_global_perms=False`` everywhere, so a
permission granted on the model can't leak across tenants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from sessions_app.models import (
    Scope,
    SessionShare,
    Tenant,
    TenantGroupObjectPermission,
    TenantUserObjectPermission,
    VoiceSession,
)
from sessions_app.selectors import sessions_for

PERMISSIONS = (
    "view_sessions",
    "review_sessions",
    "view_raw_transcripts",
    "manage_api_keys",
    "manage_members",
    "export_sessions",
    "view_audit",
)

# What each API scope amounts to, in the permission vocabulary of users.
SCOPE_PERMISSIONS = {
    Scope.SESSIONS_READ: {"view_sessions"},
    Scope.SESSIONS_READ_RAW: {"view_sessions", "view_raw_transcripts"},
    Scope.QA_WRITE: {"review_sessions"},
    Scope.AUDIT_READ: {"view_audit"},
}


@dataclass(frozen=True)
class TenantAccess:
    """What one principal may do in one tenant.

    ``shared_session_ids`` is None for tenant-wide access, or the ids of the sessions shared
    with a user who holds no tenant permission (they see exactly those).
    """

    tenant: Tenant
    permissions: frozenset[str]
    shared_session_ids: frozenset | None = None
    label: str = field(default="", compare=False)

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def can_view(self) -> bool:
        return "view_sessions" in self.permissions or bool(self.shared_session_ids)

    @property
    def can_review(self) -> bool:
        return "review_sessions" in self.permissions

    @property
    def can_view_raw(self) -> bool:
        return "view_raw_transcripts" in self.permissions

    @property
    def is_tenant_wide(self) -> bool:
        """Sees every session of the tenant (not a guest who was shared single sessions)."""
        return self.shared_session_ids is None and self.can_view

    def may_see(self, session: VoiceSession) -> bool:
        """Whether this principal may see ``session``: the one home of the share check, for a
        session already loaded (``sessions()`` is the same rule as a query)."""
        if session.tenant_id != self.tenant.pk or not self.can_view:
            return False
        return self.shared_session_ids is None or session.pk in self.shared_session_ids

    def sessions(self) -> QuerySet[VoiceSession]:
        """The sessions this principal may see, in list order. Every read starts here."""
        queryset = sessions_for(tenant=self.tenant)
        if self.shared_session_ids is not None:
            queryset = queryset.filter(pk__in=self.shared_session_ids)
        return queryset


def access_for_api_key(api_key) -> TenantAccess:
    permissions: set[str] = set()
    for scope in api_key.scopes:
        permissions |= SCOPE_PERMISSIONS.get(scope, set())
    return TenantAccess(tenant=api_key.tenant, permissions=frozenset(permissions), label=api_key.label)


def tenants_for_user(user) -> QuerySet[Tenant]:
    """Tenants where the user holds any permission or has been shared a session, by slug."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    with_permission = get_objects_for_user(
        user,
        [f"sessions_app.{permission}" for permission in PERMISSIONS],
        klass=Tenant,
        any_perm=True,
        accept_global_perms=False,
        with_superuser=False,
    ).values("pk")
    shared = SessionShare.objects.filter(user=user).values("tenant_id")
    return Tenant.objects.filter(pk__in=with_permission) | Tenant.objects.filter(pk__in=shared)


def _tenant_permissions(user, tenant: Tenant) -> frozenset[str]:
    """Object permissions on the tenant, granted directly or through a role group.

    Read straight from guardian's direct-foreign-key tables rather than through get_perms, which
    hands superusers every permission: platform operators use the Django admin, and reading
    transcripts in the review app takes a tenant role like anyone else.
    """
    direct = TenantUserObjectPermission.objects.filter(user=user, content_object=tenant)
    grouped = TenantGroupObjectPermission.objects.filter(group__user=user, content_object=tenant)
    codenames = direct.values_list("permission__codename", flat=True).union(
        grouped.values_list("permission__codename", flat=True)
    )
    return frozenset(codenames) & frozenset(PERMISSIONS)


def access_for_user(user, tenant: Tenant) -> TenantAccess | None:
    """The user's access to the tenant, or None when they have none (callers answer 404)."""
    if not user.is_authenticated or not user.is_active:
        return None
    permissions = _tenant_permissions(user, tenant)
    if "view_sessions" in permissions:
        return TenantAccess(tenant=tenant, permissions=permissions, label=user.get_username())
    shared = frozenset(
        SessionShare.objects.filter(user=user, tenant=tenant).values_list("session_id", flat=True)
    )
    if not shared and not permissions:
        return None
    # Shared sessions without tenant view: the user sees those and nothing else.
    return TenantAccess(
        tenant=tenant, permissions=permissions, shared_session_ids=shared, label=user.get_username()
    )
