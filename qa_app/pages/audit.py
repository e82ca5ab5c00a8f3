"""The audit page: the tenant's audit trail, read exactly as ``GET /api/v1/audit-events`` reads it."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from qa_app.audit import AuditAction
from qa_app.filters import AuditEventFilterSet
from qa_app.pages.base import require, review_access, review_page
from qa_app.pages.sessions import MAX_PAGE_SIZE, PAGE_SIZE, _int_param, filter_params
from qa_app.selectors import audit_events_for
from sessions_app.selectors import sessions_count

ACTIONS = sorted(value for name, value in vars(AuditAction).items() if name.isupper())
# Filters with a control of their own in the filter bar; any other filter rides along hidden.
FILTER_BAR = {"action", "actor", "since", "until"}


def _session_url(target_type: str, target_id: str) -> str | None:
    if target_type != "voice_session":
        return None
    try:
        session_id = uuid.UUID(target_id)
    except ValueError:
        return None
    return reverse("review:session-detail", args=[session_id])


def compact_json(value) -> str:
    if not value:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


@review_page
def audit_list(request: HttpRequest) -> HttpResponse:
    review = review_access(request)
    require(review.access, "view_audit")
    params = filter_params(request)
    events = audit_events_for(tenant=review.tenant)
    filterset = AuditEventFilterSet(params, queryset=events)
    queryset = filterset.qs if filterset.is_valid() else events.none()
    limit = _int_param(request, "limit", PAGE_SIZE, MAX_PAGE_SIZE) or PAGE_SIZE
    offset = _int_param(request, "offset", 0, 10_000_000)
    count, exact = sessions_count(queryset, exact_threshold=settings.API_EXACT_COUNT_THRESHOLD)
    page = list(
        queryset.values_list(
            "id", "created_at", "actor_label", "action", "target_type", "target_id", "details", named=True
        )[offset : offset + limit]
    )
    rows = [
        {
            "row": row,
            "target_url": _session_url(row.target_type, row.target_id),
            "details_json": compact_json(row.details),
        }
        for row in page
    ]

    def page_url(new_offset: int) -> str:
        page_params = params.copy()
        page_params["offset"] = new_offset
        if limit != PAGE_SIZE:
            page_params["limit"] = limit
        return f"?{page_params.urlencode()}"

    errors = filterset.errors if not filterset.is_valid() else {}
    context = {
        "review": review,
        "nav": "audit",
        "params": params,
        "errors": errors,
        "events": rows,
        "count": count,
        "count_exact": exact,
        "first": offset + 1 if page else 0,
        "last": offset + len(page),
        "previous_url": page_url(max(offset - limit, 0)) if offset > 0 else None,
        "next_url": page_url(offset + limit) if offset + limit < count else None,
        "action_choices": ACTIONS,
        "hidden_params": [
            (name, value) for name, values in params.lists() if name not in FILTER_BAR for value in values
        ],
        "date_since": params.get("since", "")[:10],
        "date_until": params.get("until", "")[:10],
        "filtered": bool(params),
    }
    return render(request, "review/audit.html", context, status=400 if errors else 200)
