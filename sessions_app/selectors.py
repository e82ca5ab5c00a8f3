"""Reads of voice sessions. Every read starts from a tenant: nothing here is unscoped."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery
from django.db.models import Exists, OuterRef, Q, QuerySet

from sessions_app import roles
from sessions_app.db import is_postgresql, planner
from sessions_app.models import (
    SEARCH_CONFIG,
    FunctionCall,
    Tenant,
    TenantUserObjectPermission,
    TranscriptTurn,
    VoiceSession,
)


def sessions_for(*, tenant: Tenant) -> QuerySet[VoiceSession]:
    """The tenant's sessions, newest first (ties by id), the order every list uses."""
    return VoiceSession.objects.filter(tenant=tenant).order_by("-started_at", "id")


def sessions_with_function_call(
    queryset: QuerySet[VoiceSession], *, name: str | None, status: str | None
) -> QuerySet[VoiceSession]:
    """Sessions with at least one function call of this name and/or status."""
    calls = FunctionCall.objects.filter(tenant_id=OuterRef("tenant_id"), session_id=OuterRef("pk"))
    if name:
        calls = calls.filter(name=name)
    if status:
        calls = calls.filter(status=status)
    return queryset.filter(Exists(calls))


def sessions_matching_text(queryset: QuerySet[VoiceSession], text: str) -> QuerySet[VoiceSession]:
    """Sessions whose redacted summary or transcript matches ``text``.

    PostgreSQL: full text (``websearch_to_tsquery``: words, "quoted phrases", -exclusions) on the
    GIN-indexed ``search_vector``. SQLite, the zero-setup development database, falls back to a
    case-insensitive substring match. Redacted text only, so a search can't probe for hidden PII.
    """
    if is_postgresql(queryset.db):
        return queryset.filter(search_vector=SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG))
    turns = TranscriptTurn.objects.filter(session_id=OuterRef("pk"), text_redacted__icontains=text)
    return queryset.filter(Q(summary_redacted__icontains=text) | Exists(turns))


# Above this many times the threshold, the planner's estimate is trusted without counting: a
# capped count would read threshold + 1 rows only to learn it must fall back to the estimate.
ESTIMATE_TRUST_FACTOR = 3


def sessions_count(queryset: QuerySet[VoiceSession], *, exact_threshold: int | None) -> tuple[int, bool]:
    """Count the rows of a list, cheaply on large tenants. Returns (count, exact).

    With a threshold on PostgreSQL, the planner's estimate comes first (one EXPLAIN). When it is
    far beyond the threshold it is returned as it is; otherwise at most threshold + 1 rows are
    counted (an index-only scan) and the exact figure is returned when it is within the
    threshold, the estimate when it isn't. An exact count costs ~100 ms per million rows; this
    costs well under a millisecond for the planner plus, at worst, a bounded count. SQLite
    (development) always counts exactly.
    """
    queryset = queryset.order_by().values("pk")
    if exact_threshold is None or not is_postgresql(queryset.db):
        return queryset.count(), True
    estimate = planner.estimated_rows(queryset)
    if estimate > exact_threshold * ESTIMATE_TRUST_FACTOR:
        return estimate, False
    capped = queryset[: exact_threshold + 1].count()
    if capped <= exact_threshold:
        return capped, True
    return max(estimate, capped), False


def sessions_after(queryset: QuerySet[VoiceSession], started_at, session_id) -> QuerySet[VoiceSession]:
    """Rows after the position (started_at, id) in list order (-started_at, id).

    Written as a range on started_at plus an exclusion of the tie, so PostgreSQL walks the
    tenant-leading ordered index from the position instead of evaluating an OR per row.
    """
    return queryset.filter(started_at__lte=started_at).exclude(
        Q(started_at=started_at) & Q(id__lte=session_id)
    )


def sessions_before(queryset: QuerySet[VoiceSession], started_at, session_id) -> QuerySet[VoiceSession]:
    """Rows before the position, nearest first (the list order reversed)."""
    return (
        queryset.filter(started_at__gte=started_at)
        .exclude(Q(started_at=started_at) & Q(id__gte=session_id))
        .order_by("started_at", "-id")
    )


@dataclass(frozen=True)
class Member:
    user_id: int
    username: str
    email: str
    last_login: object
    role: str | None
    extra_permissions: tuple[str, ...]  # granted one by one, on top of the role


def tenant_members(*, tenant: Tenant) -> list[Member]:
    """Everyone holding a role or a permission of their own in the tenant, by username. Two queries."""
    group_roles = {roles.role_group_name(tenant.slug, role): role for role in roles.ROLES}
    found: dict[int, dict] = {}
    for pk, username, email, last_login, group in (
        get_user_model()
        .objects.filter(groups__name__in=group_roles)
        .values_list("pk", "username", "email", "last_login", "groups__name")
    ):
        found[pk] = {
            "username": username,
            "email": email,
            "last_login": last_login,
            "role": group_roles[group],
        }
    extra: dict[int, list[str]] = {}
    for pk, username, email, last_login, codename in TenantUserObjectPermission.objects.filter(
        content_object=tenant
    ).values_list("user_id", "user__username", "user__email", "user__last_login", "permission__codename"):
        found.setdefault(pk, {"username": username, "email": email, "last_login": last_login, "role": None})
        extra.setdefault(pk, []).append(codename)
    return sorted(
        (
            Member(user_id=pk, extra_permissions=tuple(sorted(extra.get(pk, []))), **values)
            for pk, values in found.items()
        ),
        key=lambda member: member.username.lower(),
    )


def sessions_with_measured_latency_over(queryset: QuerySet[VoiceSession], ms: int) -> QuerySet[VoiceSession]:
    """Sessions whose recording heard at least one agent response slower than ``ms``."""
    return queryset.filter(recording__response_max_ms__gt=ms)
