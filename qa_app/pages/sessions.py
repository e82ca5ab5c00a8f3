"""Session pages: the list, one session, tagging, evaluating, revealing raw text, and the queue."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from qa_app.calibration import is_blind
from qa_app.documents import session_documents
from qa_app.export import CONTENT_TYPES as EXPORT_CONTENT_TYPES
from qa_app.export import FORMATS as EXPORT_FORMATS
from qa_app.export import sessions_export
from qa_app.filters import BOOLEAN_CHOICES, STATUS_CHOICES, VERDICT_CHOICES, VoiceSessionFilterSet
from qa_app.forms import VERDICT_HINTS, EvaluationForm, TagForm
from qa_app.invitations import pending_invitation_count
from qa_app.models import ContractFinding, SessionTag, Tag
from qa_app.pages.base import (
    NoTenantYet,
    ReviewAccess,
    actor_for,
    hidden_params,
    page_window,
    raw_audio_token,
    require,
    review_access,
    review_page,
)
from qa_app.pages.calibration import session_calibration
from qa_app.pages.timeline import pretty_json, session_timeline
from qa_app.selectors import failure_categories_for
from qa_app.services import (
    claim_holder,
    evaluation_record,
    queue_claim_next,
    queue_pending,
    session_tag_add,
    session_tag_remove,
)
from sessions_app.access import tenants_for_user
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.models import CallLog, QaState, Recording, RecordingTurnTiming, VoiceSession
from sessions_app.presentation import duration_ms, session_rows
from sessions_app.selectors import sessions_after, sessions_before

# Not filters: paging, the tenant switcher and page modes. Everything else is the API's FilterSet.
NON_FILTER_PARAMS = {"limit", "offset", "cursor", "count", "tenant", "queue"}
# A pasted CallSid or StreamSid (or any id-like token) is tried as an exact id before text search.
ID_LIKE = re.compile(r"^(?=.*\d)[A-Za-z0-9_-]{6,64}$")
LIST_COLUMNS = [
    "id",
    "started_at",
    "ended_at",
    "agent_key",
    "prompt_version",
    "status",
    "qa_state",
    "verdict",
    "turn_count",
    "function_call_count",
    "failed_function_call_count",
    "escalated",
    "summary_redacted",
    "call_sid",
]
# Filters with a control of their own in the filter bar; any other filter rides along hidden.
FILTER_BAR = {
    "q",
    "status",
    "agent_key",
    "tag",
    "qa_state",
    "verdict",
    "escalated",
    "started_after",
    "started_before",
}
AGENT_CACHE_SECONDS = 300
QUEUE_SKIPPED_KEY = "review_queue_skipped"


# --- shared helpers -----------------------------------------------------------------------------


def filter_params(request: HttpRequest) -> QueryDict:
    """The list filters in the request, in the API's parameter names, without paging or modes."""
    params = request.GET.copy()
    for name in NON_FILTER_PARAMS:
        params.pop(name, None)
    for name in [name for name, values in params.lists() if not any(value.strip() for value in values)]:
        params.pop(name)
    return params


def filtered_sessions(review: ReviewAccess, params: QueryDict):
    """The visible sessions under the API's FilterSet; an invalid filter matches nothing."""
    filterset = VoiceSessionFilterSet(params, queryset=review.access.sessions())
    if not filterset.is_valid():
        return review.access.sessions().none(), filterset
    return filterset.qs, filterset


def agent_keys(access) -> list[str]:
    """The agents for the filter bar: the tenant's, cached (DISTINCT over millions of rows isn't
    free); for a user shared single sessions, only those sessions' agents."""
    if access.shared_session_ids is not None:
        return sorted(set(access.sessions().order_by().values_list("agent_key", flat=True)))
    key = f"review:agents:{access.tenant.pk}"
    agents = cache.get(key)
    if agents is None:
        agents = sorted(access.sessions().order_by().values_list("agent_key", flat=True).distinct())
        cache.set(key, agents, AGENT_CACHE_SECONDS)
    return agents


def tag_names(access) -> list[str]:
    """The tag names to suggest: the tenant's, or for a user shared single sessions only the tags
    on those sessions (the tenant's vocabulary is not theirs to see)."""
    tags = Tag.objects.filter(tenant=access.tenant)
    if access.shared_session_ids is not None:
        tags = tags.filter(session_tags__session_id__in=access.shared_session_ids).distinct()
    return list(tags.order_by("name").values_list("name", flat=True)[:500])


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _detail_url(session_id, query: str = "", **extra) -> str:
    url = reverse("review:session-detail", args=[session_id])
    params = "&".join(part for part in (query, urlencode(extra) if extra else "") if part)
    return f"{url}?{params}" if params else url


def _jump_target(review: ReviewAccess, text: str) -> str | None:
    """A pasted call_sid or stream_id: the session page, or the list of that call's sessions."""
    text = text.strip()
    if not ID_LIKE.match(text):
        return None
    matches = list(
        review.access.sessions().filter(Q(stream_id=text) | Q(call_sid=text)).values_list("pk", flat=True)[:2]
    )
    if len(matches) == 1:
        return _detail_url(matches[0])
    if len(matches) > 1:
        return f"{reverse('review:session-list')}?{urlencode({'call_sid': text})}"
    return None


# --- the list ----------------------------------------------------------------------------------


@review_page
def session_list(request: HttpRequest) -> HttpResponse:
    try:
        review = review_access(request)
    except NoTenantYet:
        # The landing page of someone invited but not yet in any tenant is their invitations.
        if pending_invitation_count(request.user):
            return redirect("review:invitations")
        raise
    params = filter_params(request)
    target = _jump_target(review, params.get("q", ""))
    if target:
        return redirect(target)
    queryset, filterset = filtered_sessions(review, params)
    window = page_window(request, queryset, params)
    rows = window.rows(queryset.values_list(*LIST_COLUMNS, named=True))
    tags: dict = {}
    for session_id, name in (
        SessionTag.objects.filter(tenant=review.tenant, session_id__in=[row.id for row in rows])
        .order_by("tag__name")
        .values_list("session_id", "tag__name")
    ):
        tags.setdefault(session_id, []).append(name)
    query = params.urlencode()
    sessions = [
        {
            "row": row,
            "url": _detail_url(row.id, query),
            "duration_ms": duration_ms(row.started_at, row.ended_at),
            "tags": tags.get(row.id, []),
        }
        for row in rows
    ]

    context = {
        "review": review,
        "nav": "sessions",
        "filterset": filterset,
        "errors": filterset.errors if not filterset.is_valid() else {},
        "params": params,
        "query": query,
        "sessions": sessions,
        **window.context(len(rows)),
        "agents": agent_keys(review.access),
        "tag_names": tag_names(review.access),
        "status_choices": STATUS_CHOICES,
        "qa_state_choices": QaState.choices,
        "escalated_choices": BOOLEAN_CHOICES,
        "verdict_choices": VERDICT_CHOICES,
        "selected_tags": params.getlist("tag"),
        "hidden_params": hidden_params(params, FILTER_BAR)
        + [("tag", value) for value in params.getlist("tag")[1:]],
        "date_after": params.get("started_after", "")[:10],
        "date_before": params.get("started_before", "")[:10],
        "filtered": bool(params),
        "can_export": review.access.has("export_sessions"),
    }
    return render(request, "review/session_list.html", context, status=400 if context["errors"] else 200)


# --- one session -------------------------------------------------------------------------------


def visible_session(request: HttpRequest, session_id) -> tuple[ReviewAccess, VoiceSession]:
    """The session if the user may see it (it also becomes their working tenant), else 404."""
    # Looked for only in the user's own tenants; the same words as an unknown id, so nothing leaks.
    session = (
        VoiceSession.objects.select_related("tenant")
        .filter(pk=session_id, tenant__in=tenants_for_user(request.user))
        .first()
    )
    if session is None:
        raise Http404("No such session.")
    review = review_access(request, session.tenant)
    if not review.access.may_see(session):
        raise Http404("No such session.")
    return review, session


def _neighbours(review: ReviewAccess, params: QueryDict, document: dict) -> tuple:
    queryset, _ = filtered_sessions(review, params)
    started_at, session_id = _parse(document["started_at"]), document["id"]
    newer = sessions_before(queryset, started_at, session_id).values_list("pk", flat=True).first()
    older = sessions_after(queryset, started_at, session_id).values_list("pk", flat=True).first()
    return newer, older


def render_session(
    request: HttpRequest,
    review: ReviewAccess,
    session: VoiceSession,
    *,
    raw: bool = False,
    evaluation_form: EvaluationForm | None = None,
    tag_form: TagForm | None = None,
    status: int = 200,
) -> HttpResponse:
    access = review.access
    rows = session_rows(access.sessions().filter(pk=session.pk), raw=raw, limit=1)
    (document,) = session_documents(rows, tenant_id=review.tenant.pk, raw=raw)
    params = (
        filter_params(request) if request.method == "GET" else QueryDict(request.POST.get("list_query", ""))
    )
    query = params.urlencode()
    newer, older = _neighbours(review, params, document)
    in_queue = request.GET.get("queue") == "1" or request.POST.get("then") == "next"
    holder = claim_holder(session=session, other_than=request.user)
    call_log_id = (
        CallLog.objects.filter(tenant=review.tenant, call_sid=document["call_sid"])
        .values_list("pk", flat=True)
        .first()
        if document["call_sid"]
        else None
    )
    categories = failure_categories_for(tenant=review.tenant)
    findings = list(
        ContractFinding.objects.filter(tenant=review.tenant, session_id=session.pk).order_by("call_seq")
    )
    by_call: dict[int, list] = {}
    for finding in findings:
        by_call.setdefault(finding.call_seq, []).append(finding)
    # Blind first: until this reviewer has submitted, no automatic result and no other review.
    blind = is_blind(access, request.user, session)
    hidden_reviews = len(document["evaluations"]) if blind else 0
    if blind:
        document["automatic_evaluations"], document["evaluations"] = [], []
    timeline = session_timeline(document)
    recording = document["recording"]
    peaks, heard = [], {}
    if recording:
        peaks = Recording.objects.filter(session_id=session.pk).values_list("peaks", flat=True).first() or []
        heard = {t.turn_seq: t for t in RecordingTurnTiming.objects.filter(session_id=session.pk)}
    for entry in timeline:
        if entry.kind == "call":
            entry.findings = by_call.get(entry.item["seq"], [])
        elif entry.kind == "turn":
            entry.heard = heard.get(entry.item["seq"])
    taxonomy = [category for category in categories if category.retired_at is None]
    labels = {category.name: category for category in categories}
    for evaluation in document["evaluations"]:
        evaluation["created"] = _parse(evaluation["created_at"])
        evaluation["categories"] = [
            (labels[name].label, labels[name].severity) if name in labels else (name, "")
            for name in evaluation["failure_categories"]
        ]
    context = {
        "review": review,
        "nav": "queue" if in_queue else "sessions",
        "session": document,
        "started_at": _parse(document["started_at"]),
        "ended_at": _parse(document["ended_at"]),
        "timeline": timeline,
        "findings": findings,
        "model_params_json": pretty_json(document["model"]["params"]),
        "raw": raw,
        "can_review": access.can_review,
        "can_view_raw": access.can_view_raw,
        "query": query,
        "list_url": f"{reverse('review:session-list')}?{query}" if query else reverse("review:session-list"),
        "newer_url": _detail_url(newer, query, **({"queue": 1} if in_queue else {})) if newer else None,
        "older_url": _detail_url(older, query, **({"queue": 1} if in_queue else {})) if older else None,
        "in_queue": in_queue,
        "queue_url": f"{reverse('review:queue')}?{query}" if query else reverse("review:queue"),
        "holder": holder,
        "call_log_id": call_log_id,
        "evaluation_form": evaluation_form or EvaluationForm(taxonomy=taxonomy),
        "tag_form": tag_form or TagForm(),
        "verdict_hints": VERDICT_HINTS,
        "tag_names": tag_names(review.access),
        "purged": session.purged_at is not None,
        "automatic": _newest_versions(document["automatic_evaluations"]),
        "blind": blind,
        "hidden_reviews": hidden_reviews,
        "calibration": session_calibration(session) if access.has("manage_members") else None,
        "recording": recording,
        "recording_peaks": peaks,
        "recording_lanes": _lanes(recording),
        "audio_url": _audio_url(request, session, recording, raw=raw),
    }
    response = render(request, "review/session_detail.html", context, status=status)
    # The waveform player styles its shadow DOM with a nonce'd <style> (config/security.py).
    response.uses_style_nonce = bool(recording)
    return response


def _newest_versions(results: list[dict]) -> list[dict]:
    """Each evaluator's newest result (the document holds every version's), failures first."""
    newest: dict[str, dict] = {}
    for result in results:
        newest.setdefault(result["evaluator"], result)
    order = {"fail": 0, "error": 1, "pass": 2, "not_applicable": 3}
    return sorted(newest.values(), key=lambda r: (order.get(r["result"], 3), r["evaluator"]))


_LANE_LABELS = {"caller": "Caller", "agent": "Agent", "mixed": "Call"}


def _lanes(recording: dict | None) -> list[dict]:
    if not recording:
        return []
    return [{"role": role, "label": _LANE_LABELS.get(role, role)} for role in recording["channel_roles"]]


def _audio_url(request: HttpRequest, session: VoiceSession, recording: dict | None, *, raw: bool) -> str:
    """The rendition for every reader; after the audited reveal, the original, by a signed link."""
    if not recording:
        return ""
    if raw:
        token = raw_audio_token(user_id=request.user.pk, session_id=session.pk)
        return f"{reverse('review:recording-audio-raw', args=[session.pk])}?{urlencode({'t': token})}"
    return reverse("review:recording-audio", args=[session.pk])


@review_page
def session_detail(request: HttpRequest, session_id) -> HttpResponse:
    review, session = visible_session(request, session_id)
    return render_session(request, review, session)


@review_page
@require_POST
def session_reveal(request: HttpRequest, session_id) -> HttpResponse:
    """The raw transcript, for users allowed to see it; every reveal is audited and never cached."""
    review, session = visible_session(request, session_id)
    require(review.access, "view_raw_transcripts")
    audit_record(
        actor=actor_for(request),
        tenant=review.tenant,
        action=AuditAction.RAW_REVEALED,
        target_type="voice_session",
        target_id=session.pk,
        details={"via": "review page"},
    )
    return render_session(request, review, session, raw=True)


def _back_to_session(request: HttpRequest, session: VoiceSession, anchor: str = "") -> HttpResponse:
    query = QueryDict(request.POST.get("list_query", "")).urlencode()
    extra = {"queue": 1} if request.POST.get("queue") == "1" else {}
    return redirect(_detail_url(session.pk, query, **extra) + anchor)


@review_page
@require_POST
def tag_add(request: HttpRequest, session_id) -> HttpResponse:
    review, session = visible_session(request, session_id)
    require(review.access, "review_sessions")
    form = TagForm(request.POST)
    if form.is_valid():
        try:
            name, created = session_tag_add(
                session=session, name=form.cleaned_data["name"], actor=actor_for(request)
            )
        except ServiceError as error:
            form.add_error("name", error.message)
        else:
            if not created:
                messages.info(request, f"Already tagged “{name}”.")
            return _back_to_session(request, session, "#tags")
    return render_session(request, review, session, tag_form=form, status=400)


@review_page
@require_POST
def tag_remove(request: HttpRequest, session_id, name: str) -> HttpResponse:
    review, session = visible_session(request, session_id)
    require(review.access, "review_sessions")
    session_tag_remove(session=session, name=name, actor=actor_for(request))
    return _back_to_session(request, session, "#tags")


@review_page
@require_POST
def evaluation_create(request: HttpRequest, session_id) -> HttpResponse:
    review, session = visible_session(request, session_id)
    require(review.access, "review_sessions")
    form = EvaluationForm(
        request.POST, taxonomy=failure_categories_for(tenant=review.tenant, include_retired=False)
    )
    if form.is_valid():
        try:
            evaluation_record(session=session, actor=actor_for(request), **form.cleaned_data)
        except ServiceError as error:
            form.add_error(error.param if error.param in form.fields else None, error.message)
        else:
            messages.success(request, f"Saved: {form.cleaned_data['verdict'].replace('_', ' ')}.")
            if request.POST.get("then") == "next":
                query = QueryDict(request.POST.get("list_query", "")).urlencode()
                return redirect(f"{reverse('review:queue')}?{query}" if query else reverse("review:queue"))
            return _back_to_session(request, session, "#evaluate")
    return render_session(request, review, session, evaluation_form=form, status=400)


# --- the queue ---------------------------------------------------------------------------------


@review_page
def queue(request: HttpRequest) -> HttpResponse:
    """Claim the next unreviewed session under the current filters and open it in queue mode."""
    review = review_access(request)
    require(review.access, "review_sessions")
    params = filter_params(request)
    skipped = request.session.get(QUEUE_SKIPPED_KEY, [])
    if request.GET.get("skip"):
        skipped = [*skipped[-199:], request.GET["skip"]]
        request.session[QUEUE_SKIPPED_KEY] = skipped
    elif request.GET.get("restart"):
        skipped = []
        request.session[QUEUE_SKIPPED_KEY] = skipped
    queryset, filterset = filtered_sessions(review, params)
    valid_skips = [value for value in skipped if _is_uuid(value)]
    session = queue_claim_next(
        tenant=review.tenant, queryset=queryset.exclude(pk__in=valid_skips), user=request.user
    )
    if session is not None:
        return redirect(_detail_url(session.pk, params.urlencode(), queue=1))
    unreviewed = queue_pending(
        tenant=review.tenant, queryset=queryset, user=request.user, counting_held=True
    ).count()
    context = {
        "review": review,
        "nav": "queue",
        "query": params.urlencode(),
        "filtered": bool(params),
        "unreviewed": unreviewed,
        "skipped": len(valid_skips),
        "errors": filterset.errors if not filterset.is_valid() else {},
    }
    return render(request, "review/queue_empty.html", context)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- export --------------------------------------------------------------------------------------


@review_page
@require_POST
def session_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV or JSON Lines, redacted, through the audited export service.

    A POST, so a prefetch or a crawler can't trigger an audited export; raw exports stay with the
    API's ``sessions:read_raw`` keys and the command line.
    """
    review = review_access(request)
    require(review.access, "export_sessions")
    export_format = request.POST.get("format", "csv")
    params = QueryDict(request.POST.get("list_query", ""))
    queryset, filterset = filtered_sessions(review, params)
    if filterset.errors:
        raise Http404("Fix the filters first.")
    chunks = sessions_export(
        tenant=review.tenant,
        actor=actor_for(request),
        queryset=queryset,
        raw=False,
        export_format=export_format if export_format in EXPORT_FORMATS else "csv",
        filters={name: values for name, values in params.lists()},
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    extension = export_format if export_format in EXPORT_FORMATS else "csv"
    response = StreamingHttpResponse(chunks, content_type=EXPORT_CONTENT_TYPES[extension])
    response["Content-Disposition"] = (
        f'attachment; filename="voice-sessions-{review.tenant.slug}-{stamp}.{extension}"'
    )
    return response
