"""Call pages: the tenant's Twilio call log and one call's ordered event history.

Everything is read through the same pieces as ``GET /api/v1/call-logs``: ``call_logs_for`` and
``CallLogFilterSet`` choose the rows, ``sessions_for_calls`` joins each call to its newest session,
and ``call_log_as_dict`` / ``call_event_as_dict`` decide what is redacted (numbers and payloads
unless the member may view raw data). The call log is tenant-wide data, so a member who only sees
sessions shared with them gets a 404 here.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from qa_app.pages.base import ReviewAccess, hidden_params, page_window, review_access, review_page
from qa_app.pages.sessions import filter_params
from qa_app.pages.timeline import pretty_json
from sessions_app.access import tenants_for_user
from sessions_app.calls import call_log_by_ref, call_logs_for, is_call_log_id, sessions_for_calls
from sessions_app.filters import CallLogFilterSet
from sessions_app.models import CallLog, Tenant
from sessions_app.presentation import call_event_as_dict, call_log_as_dict

# Twilio's CallStatus values, in call order, and its Direction values.
CALL_STATUSES = ["queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"]
FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
DIRECTIONS = ["inbound", "outbound-api", "outbound-dial"]
# Filters with a control of their own in the filter bar; any other filter rides along hidden.
FILTER_BAR = {"call_sid", "status", "direction", "started_after", "started_before"}


def call_access(request: HttpRequest, tenant: Tenant | None = None) -> ReviewAccess:
    """Tenant-wide view access, else 404: shared-session members don't see the tenant's calls."""
    review = review_access(request, tenant)
    if not review.access.is_tenant_wide:
        raise Http404("No such page.")
    return review


def _raw(review: ReviewAccess) -> bool:
    """Always redacted here: raw numbers are revealed on the session page, where each reveal is audited."""
    return False


def _session_url(session_id) -> str:
    return reverse("review:session-detail", args=[session_id])


# --- the list ----------------------------------------------------------------------------------


@review_page
def call_list(request: HttpRequest) -> HttpResponse:
    review = call_access(request)
    raw = _raw(review)
    params = filter_params(request)
    calls = call_logs_for(tenant=review.tenant)
    call_sid = params.get("call_sid", "").strip()
    if call_sid:
        call_id = calls.filter(call_sid=call_sid).values_list("pk", flat=True).first()
        if call_id is not None:
            return redirect("review:call-detail", call_ref=call_id)
    filterset = CallLogFilterSet(params, queryset=calls)
    queryset = filterset.qs if filterset.is_valid() else calls.none()
    window = page_window(request, queryset, params)
    page = window.rows(queryset)
    sessions = sessions_for_calls(tenant=review.tenant, call_sids=[call.call_sid for call in page], raw=raw)
    rows = []
    for call in page:
        record = call_log_as_dict(call, sessions.get(call.call_sid), raw=raw)
        rows.append(
            {
                "call": record,
                "url": reverse("review:call-detail", args=[call.pk]),
                "started_at": call.started_at,
                "duration_ms": call.duration_seconds * 1000 if call.duration_seconds is not None else None,
                "session_url": _session_url(record["session_id"]) if record["session_id"] else None,
            }
        )

    errors = filterset.errors if not filterset.is_valid() else {}
    context = {
        "review": review,
        "nav": "calls",
        "raw": raw,
        "params": params,
        "query": params.urlencode(),
        "errors": errors,
        "calls": rows,
        **window.context(len(page)),
        "status_choices": CALL_STATUSES,
        "direction_choices": DIRECTIONS,
        "hidden_params": hidden_params(params, FILTER_BAR),
        "date_after": params.get("started_after", "")[:10],
        "date_before": params.get("started_before", "")[:10],
        "filtered": bool(params),
    }
    return render(request, "review/call_list.html", context, status=400 if errors else 200)


# --- one call ----------------------------------------------------------------------------------


def visible_call(request: HttpRequest, call_ref: str) -> tuple[ReviewAccess, CallLog]:
    """The call by id (its tenant becomes the working tenant) or by CallSid in the working tenant."""
    if is_call_log_id(call_ref):
        # Looked for only in the user's own tenants; the same words as an unknown id: nothing leaks.
        call = (
            CallLog.objects.select_related("tenant")
            .filter(pk=int(call_ref), tenant__in=tenants_for_user(request.user))
            .first()
        )
        if call is None:
            raise Http404("No such call.")
        try:
            return call_access(request, call.tenant), call
        except Http404:
            raise Http404("No such call.") from None  # a guest of the tenant: calls are not theirs
    review = call_access(request)
    call = call_log_by_ref(tenant=review.tenant, ref=call_ref)
    if call is None:
        raise Http404("No such call.")
    return review, call


@review_page
def call_detail(request: HttpRequest, call_ref: str) -> HttpResponse:
    review, call = visible_call(request, call_ref)
    raw = _raw(review)
    record = call_log_as_dict(call, None, raw=raw)
    events = []
    for event in call.events.order_by("occurred_at", "sequence_number", "id"):
        item = call_event_as_dict(event, raw=raw)
        item["occurred"] = event.occurred_at
        item["payload_json"] = pretty_json(item["payload"])
        events.append(item)
    sessions = [
        {"row": row, "url": _session_url(row.id)}
        for row in review.access.sessions()
        .filter(call_sid=call.call_sid)
        .values_list("id", "started_at", "agent_key", "status", "escalated", named=True)
    ]
    context = {
        "review": review,
        "nav": "calls",
        "raw": raw,
        "call": record,
        "started_at": call.started_at,
        "ended_at": call.last_event_at if call.status in FINAL_STATUSES else None,
        "last_event_at": call.last_event_at,
        "duration_ms": call.duration_seconds * 1000 if call.duration_seconds is not None else None,
        "events": events,
        "sessions": sessions,
        "list_url": reverse("review:call-list"),
    }
    return render(request, "review/call_detail.html", context)
