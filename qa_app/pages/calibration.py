"""Calibration, for tenant admins: the queue's rules, the adjudication queue, gold sessions, and
how far reviewers and evaluators agree (``qa_app.calibration`` holds the rules themselves)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from qa_app.calibration import (
    GOLD_EVERY,
    adjudicate,
    disputed_sessions,
    evaluator_agreement,
    gold_accuracy,
    gold_set,
    newest_by_rater,
    review_rule_remove,
    review_rule_save,
    reviewer_agreement,
    reviews_needed_by_version,
)
from qa_app.forms import ReviewRuleForm, RulingForm
from qa_app.models import Adjudication, Evaluation, GoldVerdict, ReviewDemand, ReviewRule, Verdict
from qa_app.pages.base import ReviewAccess, actor_for, require, review_access, review_page
from sessions_app.errors import ServiceError
from sessions_app.models import VoiceSession

ADMIN_PERMISSION = "manage_members"
# The adjudication queue shows this many at a time, oldest first.
DISPUTES_SHOWN = 50


def _admin(request: HttpRequest) -> ReviewAccess:
    review = review_access(request)
    require(review.access, ADMIN_PERMISSION)
    return review


def session_calibration(session: VoiceSession) -> dict:
    """What a tenant admin sees of one session's review: how many people it needs, each one's
    newest verdict, whether they disagree, its gold verdict and the rulings."""
    newest = newest_by_rater(Evaluation.objects.filter(session=session).order_by("-created_at", "-id"))
    return {
        "demand": ReviewDemand.objects.filter(session=session).first(),
        "gold": GoldVerdict.objects.filter(session=session).first(),
        "rulings": list(Adjudication.objects.filter(session=session).order_by("-created_at", "-id")),
        "verdicts": [(e.reviewer_label, e.verdict) for e in newest.values()],
        "verdict_choices": Verdict.choices,
    }


def _matrix(agreement) -> list[tuple[str, list[int]]]:
    return list(zip(agreement.categories, [list(row) for row in agreement.matrix], strict=True))


def render_calibration(request, review, *, rule_form=None, status=200) -> HttpResponse:
    tenant = review.tenant
    disputes = list(disputed_sessions(tenant)[:DISPUTES_SHOWN])
    context = {
        "review": review,
        "nav": "calibration",
        "rules": list(ReviewRule.objects.filter(tenant=tenant)),
        "rule_form": rule_form or ReviewRuleForm(),
        "disputes": disputes,
        "dispute_count": disputed_sessions(tenant).count(),
        "pairs": [(pair, _matrix(pair.agreement)) for pair in reviewer_agreement(tenant)],
        "evaluators": [(row, _matrix(row.agreement)) for row in evaluator_agreement(tenant)],
        "accuracy": gold_accuracy(tenant),
        "gold_count": GoldVerdict.objects.filter(tenant=tenant).count(),
        "versions": reviews_needed_by_version(tenant),
        "gold_every": GOLD_EVERY,
    }
    return render(request, "review/calibration.html", context, status=status)


@review_page
def calibration(request: HttpRequest) -> HttpResponse:
    return render_calibration(request, _admin(request))


def _back(anchor: str = "") -> HttpResponse:
    return redirect(reverse("review:calibration") + anchor)


@review_page
@require_POST
def review_rule_update(request: HttpRequest) -> HttpResponse:
    review = _admin(request)
    form = ReviewRuleForm(request.POST)
    if form.is_valid():
        try:
            rule, created = review_rule_save(
                tenant=review.tenant, actor=actor_for(request), **form.cleaned_data
            )
        except ServiceError as error:
            form.add_error(error.param if error.param in form.fields else None, error.message)
        else:
            messages.success(
                request, f"{'Added' if created else 'Saved'} the rule for {rule.agent_key or 'every agent'}."
            )
            return _back("#rules")
    return render_calibration(request, review, rule_form=form, status=400)


@review_page
@require_POST
def review_rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    review = _admin(request)
    if not review_rule_remove(tenant=review.tenant, rule_id=rule_id, actor=actor_for(request)):
        raise Http404("No such rule.")
    messages.success(request, "Rule removed; calls already picked stay in the queue.")
    return _back("#rules")


def _session(review: ReviewAccess, session_id) -> VoiceSession:
    session = (
        VoiceSession.objects.filter(tenant=review.tenant, pk=session_id).select_related("tenant").first()
    )
    if session is None:
        raise Http404("No such session.")
    return session


def _to_session(session: VoiceSession) -> HttpResponse:
    return redirect(reverse("review:session-detail", args=[session.pk]) + "#calibration")


@review_page
@require_POST
def adjudication_create(request: HttpRequest, session_id) -> HttpResponse:
    review = _admin(request)
    session = _session(review, session_id)
    form = RulingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick the verdict to rule.")
        return _to_session(session)
    try:
        adjudicate(session=session, actor=actor_for(request), **form.cleaned_data)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Ruled {form.cleaned_data['verdict'].replace('_', ' ')}: it is the session's verdict."
        )
    if request.POST.get("then") == "next":
        return _back("#disputes")
    return _to_session(session)


@review_page
@require_POST
def gold_update(request: HttpRequest, session_id) -> HttpResponse:
    review = _admin(request)
    session = _session(review, session_id)
    if request.POST.get("clear") == "1":
        gold_set(session=session, verdict=None, actor=actor_for(request))
        messages.success(request, "No longer a gold session.")
        return _to_session(session)
    form = RulingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick the gold verdict.")
        return _to_session(session)
    changed = gold_set(session=session, actor=actor_for(request), **form.cleaned_data)
    messages.success(
        request,
        "Gold verdict saved: reviewers will be handed it unannounced." if changed else "Nothing changed.",
    )
    return _to_session(session)
