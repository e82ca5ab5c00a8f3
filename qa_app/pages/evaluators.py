"""An agent's automatic evaluators: what each says of its calls, and (tenant admins) defining them."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from qa_app.evaluators import KINDS, evaluator_save
from qa_app.forms import EvaluatorForm
from qa_app.models import AutomaticEvaluation, Evaluator
from qa_app.pages.agent_governance import ADMIN_PERMISSION, _agent_access
from qa_app.pages.base import actor_for, require, review_page
from qa_app.tasks import agent_backfill_job
from sessions_app.errors import ServiceError

# How far back a new or changed evaluator judges the agent's calls by itself (run_evaluators does
# any range).
BACKFILL_DAYS = 30


def _list_url(agent_key: str, **params) -> str:
    query = QueryDict(mutable=True)
    query.update({"agent_key": agent_key, **params})
    return f"{reverse('review:session-list')}?{query.urlencode()}"


def _rows(tenant, agent_key: str) -> list[dict]:
    evaluators = list(
        Evaluator.objects.filter(tenant=tenant, agent_key=agent_key)
        .prefetch_related("versions")
        .order_by("name")
    )
    counts = {
        row["evaluator_id"]: row
        for row in AutomaticEvaluation.objects.filter(
            tenant=tenant,
            evaluator__in=evaluators,
            evaluator_version__version=F("evaluator__current_version"),
        )
        .values("evaluator_id")
        .annotate(
            judged=Count("pk"),
            passed=Count("pk", filter=Q(result="pass")),
            failed=Count("pk", filter=Q(result="fail")),
            skipped=Count("pk", filter=Q(result="not_applicable")),
            errored=Count("pk", filter=Q(result="error")),
        )
    }
    rows = []
    for evaluator in evaluators:
        versions = sorted(evaluator.versions.all(), key=lambda v: -v.version)
        current = versions[0] if versions else None
        row = counts.get(evaluator.pk, {"judged": 0, "passed": 0, "failed": 0, "skipped": 0, "errored": 0})
        applicable = row["passed"] + row["failed"]
        rows.append(
            {
                "evaluator": evaluator,
                "current": current,
                "versions": versions,
                **row,
                "fail_rate": f"{row['failed'] / applicable:.0%}" if applicable else "—",
                "failed_url": _list_url(agent_key, evaluator=evaluator.name, evaluator_result="fail"),
                "passed_url": _list_url(agent_key, evaluator=evaluator.name, evaluator_result="pass"),
                "errored_url": _list_url(agent_key, evaluator=evaluator.name, evaluator_result="error"),
            }
        )
    return rows


def render_evaluators(request, review, agent_key, versions, *, form=None, status=200) -> HttpResponse:
    editing = request.GET.get("edit")
    if form is None:
        initial = {"active": True}
        found = Evaluator.objects.filter(tenant=review.tenant, agent_key=agent_key, name=editing).first()
        if found is not None:
            current = found.versions.filter(version=found.current_version).first()
            initial = {
                "name": found.name,
                "kind": current.kind,
                "config": current.config,
                "prompt_versions": current.prompt_versions,
                "active": found.active,
                "readiness_max_fail_percent": None
                if found.readiness_max_fail_rate is None
                else round(found.readiness_max_fail_rate * 100, 2),
            }
        form = EvaluatorForm(initial=initial, versions=versions)
    context = {
        "review": review,
        "nav": "sessions",
        "agent_key": agent_key,
        "agent_tab": "evaluators",
        "rows": _rows(review.tenant, agent_key),
        "form": form,
        "editing": editing,
        "kinds": [(kind, spec.settings) for kind, spec in KINDS.items()],
        "is_admin": review.access.has(ADMIN_PERMISSION),
        "backfill_days": BACKFILL_DAYS,
    }
    return render(request, "review/agent_evaluators.html", context, status=status)


@review_page
def agent_evaluators(request: HttpRequest, agent_key: str) -> HttpResponse:
    review, versions = _agent_access(request, agent_key)
    return render_evaluators(request, review, agent_key, versions)


@review_page
@require_POST
def evaluator_update(request: HttpRequest, agent_key: str) -> HttpResponse:
    review, versions = _agent_access(request, agent_key)
    require(review.access, ADMIN_PERMISSION)
    form = EvaluatorForm(request.POST, versions=versions)
    if form.is_valid():
        data = form.cleaned_data
        other = (
            Evaluator.objects.filter(tenant=review.tenant, name=data["name"])
            .exclude(agent_key=agent_key)
            .first()
        )
        if other is not None:
            form.add_error("name", f"{data['name']} already judges {other.agent_key}; pick another name.")
        else:
            try:
                saved = evaluator_save(
                    tenant=review.tenant,
                    name=data["name"],
                    agent_key=agent_key,
                    kind=data["kind"],
                    config=data["config"],
                    prompt_versions=data["prompt_versions"],
                    active=data["active"],
                    readiness_max_fail_rate=form.readiness_max_fail_rate(),
                    actor=actor_for(request),
                )
            except ServiceError as error:
                field = error.param if error.param in form.fields else ("config" if error.param else None)
                form.add_error(field, error.message)
            else:
                if saved.changed and saved.evaluator.active:
                    tenant_id, name = review.tenant.pk, saved.evaluator.name
                    agent_backfill_job.delay(tenant_id, agent_key, name, BACKFILL_DAYS)
                    messages.success(
                        request,
                        f"{name} saved as version {saved.version.version}; the agent's calls of the last "
                        f"{BACKFILL_DAYS} days are being judged with it.",
                    )
                else:
                    messages.success(
                        request, f"{saved.evaluator.name} saved; nothing about the rule changed."
                    )
                return redirect(reverse("review:agent-evaluators", args=[agent_key]))
    return render_evaluators(request, review, agent_key, versions, form=form, status=400)
