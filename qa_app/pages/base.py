"""What every review page needs: the signed-in user's tenant access and the current tenant.

All page reads start from ``ReviewAccess.access.sessions()``, the same scoping the API and the
exports use. A tenant the user doesn't belong to is a 404, never a 403, so its existence doesn't
leak.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, QueryDict
from django.utils.cache import add_never_cache_headers

from sessions_app.access import TenantAccess, access_for_user, tenants_for_user
from sessions_app.actors import Actor
from sessions_app.models import Tenant

SESSION_TENANT_KEY = "review_tenant"
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_OFFSET = 10_000_000


class NoTenantYet(Http404):
    """The user belongs to no tenant: nothing to review until an admin adds or invites them."""


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
        raise NoTenantYet("You are not a member of any tenant yet. Ask a tenant admin to add you.")
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


@dataclass(frozen=True)
class PageWindow:
    """limit/offset paging of a list page, with the list's (capped) count and its page links.

    The same parameters as the API (``limit``, ``offset``); links keep every filter in ``params``.
    """

    params: QueryDict
    limit: int
    offset: int
    count: int
    exact: bool

    def rows(self, queryset) -> list:
        return list(queryset[self.offset : self.offset + self.limit])

    def _url(self, offset: int) -> str:
        params = self.params.copy()
        params["offset"] = offset
        if self.limit != PAGE_SIZE:
            params["limit"] = self.limit
        return f"?{params.urlencode()}"

    def context(self, shown: int) -> dict:
        end = self.offset + self.limit
        return {
            "count": self.count,
            "count_exact": self.exact,
            "first": self.offset + 1 if shown else 0,
            "last": self.offset + shown,
            "previous_url": self._url(max(self.offset - self.limit, 0)) if self.offset > 0 else None,
            "next_url": self._url(end) if end < self.count else None,
        }


def _int_param(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    try:
        value = int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default
    return min(max(value, 0), maximum)


def page_window(request: HttpRequest, queryset, params: QueryDict) -> PageWindow:
    from django.conf import settings

    from sessions_app.selectors import sessions_count

    count, exact = sessions_count(queryset, exact_threshold=settings.API_EXACT_COUNT_THRESHOLD)
    return PageWindow(
        params=params,
        limit=_int_param(request, "limit", PAGE_SIZE, MAX_PAGE_SIZE) or PAGE_SIZE,
        offset=_int_param(request, "offset", 0, MAX_OFFSET),
        count=count,
        exact=exact,
    )


def hidden_params(params: QueryDict, shown: set[str]) -> list[tuple[str, str]]:
    """Filters without a control of their own in a filter bar: they ride along as hidden inputs."""
    return [(name, value) for name, values in params.lists() if name not in shown for value in values]


# The raw audio link of a revealed session page (qa_app/pages/recordings.py): signed for one user
# and one session, and good for as long as a long call takes to listen to.
_SALT = "review.recording.raw"
# How long after the reveal its raw audio link plays (a long call is listened to in one sitting).
RAW_TOKEN_SECONDS = 2 * 60 * 60


def raw_audio_token(*, user_id: int, session_id) -> str:
    return signing.dumps({"u": user_id, "s": str(session_id)}, salt=_SALT)


def raw_audio_token_valid(token: str, *, user_id: int, session_id) -> bool:
    try:
        value = signing.loads(token, salt=_SALT, max_age=RAW_TOKEN_SECONDS)
    except signing.BadSignature:
        return False
    return value == {"u": user_id, "s": str(session_id)}
