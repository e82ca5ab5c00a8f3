"""What every review page needs: the signed-in user's tenant access and the current tenant.

All page reads start from ``ReviewAccess.access.sessions()``, the same scoping the API and the
exports use. A tenant the user doesn't belong to is a 404, never a 403, so its existence doesn't
leak.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.cache import add_never_cache_headers

from sessions_app.access import TenantAccess, access_for_user, tenants_for_user
from sessions_app.actors import Actor
from sessions_app.models import Tenant

SESSION_TENANT_KEY = "review_tenant"


@dataclass(frozen=True)
class ReviewAccess:
    access: TenantAccess
    tenants: list[Tenant]

    @property
    def tenant(self) -> Tenant:
        return self.access.tenant


def _remember(request: HttpRequest, tenant: Tenant) -> None:
    if request.session.get(SESSION_TENANT_KEY) != tenant.slug:
        request.session[SESSION_TENANT_KEY] = tenant.slug


def review_access(request: HttpRequest, tenant: Tenant | None = None) -> ReviewAccess:
    """The user's access to ``tenant``, or to the tenant they are working in.

    The working tenant is ``?tenant=<slug>`` when given (the switcher), else the one remembered in
    the session, else the first the user belongs to.
    """
    tenants = list(tenants_for_user(request.user).order_by("name", "slug"))
    if tenant is None:
        by_slug = {item.slug: item for item in tenants}
        wanted = request.GET.get("tenant") or request.session.get(SESSION_TENANT_KEY)
        if request.GET.get("tenant") and wanted not in by_slug:
            raise Http404("No such tenant.")
        tenant = by_slug.get(wanted) or (tenants[0] if tenants else None)
    if tenant is None:
        raise Http404("You are not a member of any tenant yet. Ask a tenant admin to add you.")
    access = access_for_user(request.user, tenant)
    if access is None:
        raise Http404("No such tenant.")
    _remember(request, tenant)
    return ReviewAccess(access=access, tenants=tenants)


def review_page(view):
    """Login required; the view receives ``request.review`` lazily resolved by itself."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        # Transcripts are personal data: pages are never stored by shared caches or the browser.
        add_never_cache_headers(response)
        response.headers["Cache-Control"] = "no-store, private"
        return response

    return wrapper


def require(access: TenantAccess, permission: str) -> None:
    """403 for a member without the permission (a non-member never gets this far: 404)."""
    if not access.has(permission):
        raise PermissionDenied(f"Your role in {access.tenant.name} does not allow this.")


def actor_for(request: HttpRequest) -> Actor:
    return Actor(user=request.user)
