"""The audit page: the tenant's audit trail, read exactly as ``GET /api/v1/audit-events`` reads it."""

from __future__ import annotations

import json
import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from qa_app.filters import AuditEventFilterSet
from qa_app.pages.base import hidden_params, page_window, require, review_access, review_page
from qa_app.pages.sessions import filter_params
from qa_app.selectors import audit_events_for
from sessions_app.audit import AuditAction

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
    window = page_window(request, queryset, params)
    page = window.rows(
        queryset.values_list(
            "id", "created_at", "actor_label", "action", "target_type", "target_id", "details", named=True
        )
    )
    rows = [
        {
            "row": row,
            "target_url": _session_url(row.target_type, row.target_id),
            "details_json": compact_json(row.details),
        }
        for row in page
    ]

    errors = filterset.errors if not filterset.is_valid() else {}
    context = {
        "review": review,
        "nav": "audit",
        "params": params,
        "errors": errors,
        "events": rows,
        **window.context(len(page)),
        "action_choices": ACTIONS,
        "hidden_params": hidden_params(params, FILTER_BAR),
        "date_since": params.get("since", "")[:10],
        "date_until": params.get("until", "")[:10],
        "filtered": bool(params),
    }
    return render(request, "review/audit.html", context, status=400 if errors else 200)
