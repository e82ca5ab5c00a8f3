"""Prompt regression: two prompt versions (or two models) of one agent, side by side.

``?a=…&b=…`` name the two sides (default: the agent's two most recently seen prompt versions, the
older as the baseline ``a``), ``?by=prompt_version|model_name`` what they are, and
``started_after``/``started_before`` the date range (default: all time). Each side's sessions are
``access.sessions()`` under the API's ``VoiceSessionFilterSet``; each rate links to the sessions
it counts and to its trials, carries its sample size, a 95 % Wilson interval, and a mark from the
two-proportion test. A small sample is labelled, never hidden.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse

from qa_app import analytics, rollups
from qa_app.pages.base import ReviewAccess, review_page
from qa_app.pages.dashboard import interval, list_url, percent, tenant_wide_access
from qa_app.pages.sessions import filtered_sessions
from qa_app.selectors import failure_categories_for
from qa_app.statistics import SMALL_SAMPLE, Rate

COMPARE_BY = {"prompt_version": "Prompt version", "model_name": "Model"}
DATE_FILTERS = ("started_after", "started_before")
MAX_VALUES = 200  # prompt versions or models offered (the most recently seen)
GROUP_TITLES = {
    "summary": "Outcomes",
    "category": "Failure categories (share of reviewed sessions)",
    "tool": "Tool failures (sessions with a failed call, of sessions calling the tool)",
    "evaluator": "Automatic evaluators (sessions failed, of sessions judged by the current version)",
}


def _side_params(agent_key: str, by: str, value: str, dates: QueryDict) -> QueryDict:
    params = QueryDict(mutable=True)
    params["agent_key"] = agent_key
    params[by] = value
    for name in DATE_FILTERS:
        if dates.get(name):
            params[name] = dates[name]
    return params


def _all_dates(scope: QueryDict) -> QueryDict:
    """The scope for the dashboard, whose default range (30 days) applies only without any date."""
    params = scope.copy()
    for name in DATE_FILTERS:
        params.setdefault(name, "")
    return params


def _cell(rate: Rate, scope: QueryDict, numerator: dict, denominator: dict) -> dict:
    return {
        "rate": rate,
        "value": percent(rate.value),
        "interval": interval(rate),
        "k": rate.successes,
        "n": rate.trials,
        "k_url": list_url(scope, **numerator),
        "n_url": list_url(scope, **denominator),
        "small_sample": rate.small_sample,
        "marks": None
        if rate.low is None
        else {
            "low": f"{rate.low * 100:.2f}",
            "width": f"{max((rate.high - rate.low) * 100, 0.5):.2f}",
            "value": f"{min(rate.value * 100, 99.2):.2f}",
        },
    }


def _rows(rows: list[analytics.Row], scope_a: QueryDict, scope_b: QueryDict | None) -> list[dict]:
    result = []
    for row in rows:
        test = row.test
        if test.p_value is None:
            significance, verdict = "none", ""
        elif test.significant:
            significance = "significant"
            better = (test.difference > 0) == row.higher_is_better
            verdict = "better" if better else "worse"
        else:
            significance, verdict = "not significant", ""
        cell_a = _cell(row.a, scope_a, row.numerator, row.denominator)
        cell_b = _cell(row.b, scope_b, row.numerator, row.denominator) if scope_b is not None else None
        result.append(
            {
                "row": row,
                "a": cell_a,
                "b": cell_b,
                "cells": [cell for cell in (cell_a, cell_b) if cell is not None],
                "difference": "—" if test.difference is None else f"{test.difference * 100:+.1f} pts",
                "p_value": "—"
                if test.p_value is None
                else ("< 0.001" if test.p_value < 0.001 else f"{test.p_value:.3f}"),
                "significance": significance,
                "verdict": verdict,
                "small_sample": row.small_sample,
            }
        )
    return result


def _choose(request: HttpRequest, values: list[str]) -> tuple[str, str]:
    """The two sides: ?a= and ?b= when the agent has them (switching ``by`` leaves stale ones behind),
    else the two most recently seen values, the older one as the baseline a."""
    comparable = [value for value in values if value]
    default_b = comparable[0] if comparable else ""
    default_a = comparable[1] if len(comparable) > 1 else ""
    a, b = request.GET.get("a", "").strip(), request.GET.get("b", "").strip()
    return (a if a in comparable else default_a), (b if b in comparable else default_b)


@review_page
def agent_compare(request: HttpRequest, agent_key: str) -> HttpResponse:
    review: ReviewAccess = tenant_wide_access(request)
    by = request.GET.get("by") if request.GET.get("by") in COMPARE_BY else "prompt_version"
    values = list(
        analytics.recent_values(review.access.sessions().filter(agent_key=agent_key), by, limit=MAX_VALUES)
    )
    if not values:
        raise Http404("No such agent.")
    a, b = _choose(request, values)
    dates = QueryDict(mutable=True)
    for name in DATE_FILTERS:
        if request.GET.get(name, "").strip():
            dates[name] = request.GET[name].strip()
    taxonomy = failure_categories_for(tenant=review.tenant)

    errors: dict = {}
    sides = []
    for value in (a, b):
        if not value:
            sides.append(None)
            continue
        scope = _side_params(agent_key, by, value, dates)
        sessions, filterset = filtered_sessions(review, scope)
        rollup = None
        if filterset.is_valid():
            rollup = rollups.scope_for(review.tenant.pk, filterset.form.cleaned_data)
        else:
            errors = filterset.errors
        sides.append((value, scope, analytics.side(sessions, taxonomy=taxonomy, rollup=rollup)))
    side_a, side_b = sides
    if side_a is None and side_b is not None:  # one comparable value only: show it alone
        side_a, side_b = side_b, None
    rows = []
    if side_a is not None:
        other = side_b[2] if side_b else analytics.empty_side()
        compared = analytics.compare(side_a[2], other, taxonomy=taxonomy)
        rows = _rows(compared, side_a[1], side_b[1] if side_b else None)
    groups = [
        {"key": key, "title": title, "rows": [item for item in rows if item["row"].group == key]}
        for key, title in GROUP_TITLES.items()
    ]
    swap = request.GET.copy()
    swap["a"], swap["b"] = b, a

    def heading(item):
        if item is None:
            return None
        value, scope, figures = item
        return {
            "value": value,
            "sessions": figures.overview.total,
            "reviewed": figures.overview.reviewed,
            "url": list_url(scope),
            "reviewed_url": list_url(scope, qa_state="reviewed"),
            "dashboard_url": f"{reverse('review:dashboard')}?{_all_dates(scope).urlencode()}",
        }

    context = {
        "review": review,
        "nav": "dashboard",
        "agent_key": agent_key,
        "agent_tab": "compare",
        "tab_query": request.GET.urlencode(),
        "by": by,
        "by_label": COMPARE_BY[by],
        "compare_by": COMPARE_BY.items(),
        "values": [value for value in values if value],
        "a": a,
        "b": b,
        "side_a": heading(side_a),
        "side_b": heading(side_b),
        "groups": groups,
        "errors": errors,
        "date_after": dates.get("started_after", "")[:10],
        "date_before": dates.get("started_before", "")[:10],
        "swap_url": f"?{swap.urlencode()}",
        "small_sample_size": SMALL_SAMPLE,
    }
    return render(request, "review/agent_compare.html", context, status=400 if errors else 200)
