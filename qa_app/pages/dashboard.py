"""The QA dashboard: what reviewers found over a date range, with every figure linked to its sessions.

The sessions come from ``access.sessions()`` under the API's ``VoiceSessionFilterSet`` (date range,
agent, prompt version, model), and every link adds the list filters that select exactly the sessions
a number counts, so following it on ``/review/`` (or ``GET /api/v1/voice-sessions``) lists those.
Charts are inline SVG drawn here: bars are sized with SVG attributes, since the CSP allows neither
inline scripts nor inline styles.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from qa_app import analytics, rollups
from qa_app.models import Verdict
from qa_app.pages.base import ReviewAccess, review_access, review_page
from qa_app.pages.sessions import agent_keys, filtered_sessions
from qa_app.selectors import failure_categories_for
from qa_app.statistics import SMALL_SAMPLE, Rate
from sessions_app.models import FunctionCallStatus, QaState, SessionStatus

SCOPE_FILTERS = ("started_after", "started_before", "agent_key", "prompt_version", "model_name")
DEFAULT_DAYS = 30
SPARK_STEP, SPARK_HEIGHT = 12, 32  # a weekly bar's slot width and the sparkline's height (SVG units)
SPARK_BAR = (
    '<a href="{}" data-count="{}"><title>{}: {} session{}</title>'
    '<rect class="spark-bar bar-sev-{}" x="{}" y="{}" width="{}" height="{}"/></a>'
)
SPARK_ZERO = '<rect class="spark-zero" x="{}" y="{}" width="{}" height="{}"><title>{}: none</title></rect>'


def tenant_wide_access(request: HttpRequest) -> ReviewAccess:
    """Members who can view the tenant's sessions; guests shown single sessions get a 404."""
    review = review_access(request)
    if not review.access.is_tenant_wide:
        raise Http404("No such page.")
    return review


# --- formatting ---------------------------------------------------------------------------------


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def interval(rate: Rate) -> str:
    if rate.low is None:
        return "no data"
    return f"{rate.low * 100:.1f}\u2013{rate.high * 100:.1f}%"


def latency(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def bound(value: dt.datetime) -> str:
    """A filter value: the date alone at midnight UTC (what the date picker sends), else ISO 8601."""
    value = value.astimezone(dt.UTC)
    return value.date().isoformat() if value.time() == dt.time() else value.isoformat()


@functools.lru_cache(maxsize=16)
def _list_path(prefix: str, urlconf: str) -> str:
    return reverse("review:session-list", urlconf=urlconf)


def list_url(scope: QueryDict, **filters) -> str:
    """The session list under the page's scope plus ``filters`` (API parameter names), which
    replace the scope's values of the same name. (A page builds a hundred of these: no QueryDict
    copy, which deep-copies.)"""
    pairs = [(name, value) for name, values in scope.lists() if name not in filters for value in values]
    pairs.extend((name, str(value)) for name, value in filters.items())
    # reverse() once per script prefix and URLconf: a year's dashboard builds ~700 of these links.
    path = _list_path(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    return f"{path}?{urlencode(pairs)}"


@dataclass(frozen=True)
class Figure:
    """A rate as the page shows it: the value, its interval, and the sessions behind both numbers."""

    rate: Rate
    url: str  # the counted sessions (numerator)
    base_url: str  # the trials (denominator)

    @property
    def value(self) -> str:
        return percent(self.rate.value)

    @property
    def interval(self) -> str:
        return interval(self.rate)

    @property
    def small_sample(self) -> bool:
        return self.rate.small_sample

    @property
    def marks(self) -> dict | None:
        """The interval plot's x positions on a 0-100 axis."""
        if self.rate.low is None:
            return None
        low, high = self.rate.low * 100, self.rate.high * 100
        return {
            "low": f"{low:.2f}",
            "high": f"{high:.2f}",
            "width": f"{high - low:.2f}",
            "value": f"{self.rate.value * 100:.2f}",
        }


def _width(count: int, whole: int) -> str:
    return f"{count / whole * 100:.2f}" if whole else "0"


# --- the page -----------------------------------------------------------------------------------


def scope_params(request: HttpRequest, today: dt.date) -> QueryDict:
    """The dashboard's filters; without any date in the query, the last 30 days (UTC)."""
    params = QueryDict(mutable=True)
    if "started_after" not in request.GET and "started_before" not in request.GET:
        params["started_after"] = (today - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        params["started_before"] = (today + dt.timedelta(days=1)).isoformat()
    for name in SCOPE_FILTERS:
        value = request.GET.get(name, "").strip()
        if value:
            params[name] = value
    return params


def _status_bars(summary: analytics.Overview, scope: QueryDict) -> list[dict]:
    peak = max(summary.by_status.values(), default=0)
    return [
        {
            "key": status,
            "label": label,
            "count": summary.by_status[status],
            "share": percent(summary.by_status[status] / summary.total if summary.total else None),
            "width": _width(summary.by_status[status], peak),
            "url": list_url(scope, status=status),
        }
        for status, label in SessionStatus.choices
    ]


def _qa_bars(summary: analytics.Overview, scope: QueryDict) -> list[dict]:
    return [
        {
            "key": state,
            "label": label,
            "count": summary.by_qa_state[state],
            "width": _width(summary.by_qa_state[state], summary.total),
            "url": list_url(scope, qa_state=state),
        }
        for state, label in QaState.choices
    ]


def _verdicts(summary: analytics.Overview, scope: QueryDict) -> list[dict]:
    return [
        {
            "key": verdict,
            "label": label,
            "count": summary.verdicts[verdict],
            "width": _width(summary.verdicts[verdict], summary.reviewed),
            "url": list_url(scope, qa_state=QaState.REVIEWED, verdict=verdict),
        }
        for verdict, label in Verdict.choices
    ]


def _week_window(week: dt.date, start: dt.datetime | None, end: dt.datetime | None) -> tuple[str, str]:
    """A week's started_after / started_before, clipped to the page's range so the link agrees."""
    after = dt.datetime.combine(week, dt.time(), tzinfo=dt.UTC)
    before = dt.datetime.combine(rollups.shift_days(week, 7), dt.time(), tzinfo=dt.UTC)
    if start is not None:
        after = max(after, start)
    if end is not None:
        before = min(before, end)
    return bound(after), bound(before)


def _spark(item: analytics.CategoryCount, series, scope: QueryDict, start, end, peak_week: int) -> str:
    """A category's weekly bars as SVG elements, each bar a link to that week's sessions.

    Built here rather than in the template: a year is 53 bars per category, and the template
    engine spent more on them than the rollups spend on every figure. Bars share one scale
    (``peak_week``, the busiest week of any category). ``format_html`` escapes every value.
    """
    severity = item.severity or "none"
    bars = []
    for index, (week, count) in enumerate(series):
        height = count / peak_week * (SPARK_HEIGHT - 2) if count else 1
        geometry = (index * SPARK_STEP + 1, f"{SPARK_HEIGHT - height:.2f}", SPARK_STEP - 2, f"{height:.2f}")
        label = f"Week of {week:%b} {week.day}"
        if count:
            after, before = _week_window(week, start, end)
            url = list_url(scope, failure_category=item.name, started_after=after, started_before=before)
            plural = "" if count == 1 else "s"
            bars.append(format_html(SPARK_BAR, url, count, label, count, plural, severity, *geometry))
        else:
            bars.append(format_html(SPARK_ZERO, *geometry, label))
    return format_html_join("", "{}", ((bar,) for bar in bars))


def _categories(figures: analytics.Dashboard, scope: QueryDict, start, end) -> list[dict]:
    trend = figures.trend
    peak_total = max((item.sessions for item in figures.categories), default=0)
    peak_week = trend.peak or 1
    return [
        {
            "item": item,
            "share": percent(item.share.value),
            "share_interval": interval(item.share),
            "width": _width(item.sessions, peak_total),
            "url": list_url(scope, failure_category=item.name),
            "spark": _spark(item, trend.series(item.name), scope, start, end, peak_week),
        }
        for item in figures.categories
    ]


def _tools(figures: analytics.Dashboard, scope: QueryDict) -> list[dict]:
    return [
        {
            "item": tool,
            "rate": percent(tool.failure_rate.value),
            "interval": interval(tool.failure_rate),
            "small_sample": tool.failure_rate.small_sample,
            "width": _width(tool.failed_calls, tool.calls),
            "p50": latency(tool.p50_ms),
            "p95": latency(tool.p95_ms),
            "url": list_url(scope, tool=tool.name),
            "failed_url": list_url(scope, tool=tool.name, tool_status=FunctionCallStatus.FAILED),
        }
        for tool in figures.tools
    ]


def _latency(figures: analytics.Dashboard, scope: QueryDict) -> list[dict]:
    rows = []
    for item in figures.latency:
        version = {"agent_key": item.agent_key, "prompt_version": item.prompt_version}
        slow = int(item.p95_ms) if item.p95_ms is not None else None
        rows.append(
            {
                "item": item,
                "p50": latency(item.p50_ms),
                "p95": latency(item.p95_ms),
                "url": list_url(scope, **version),
                "slow_url": list_url(scope, **version, latency_over_ms=slow) if slow is not None else "",
            }
        )
    return rows


def _evaluators(figures: analytics.Dashboard, scope: QueryDict) -> list[dict]:
    rows = []
    for item in figures.evaluators:
        judged = {"agent_key": item.agent_key, "evaluator": item.name}
        rows.append(
            {
                "item": item,
                "fail_rate": percent(item.fail_rate.value),
                "interval": interval(item.fail_rate),
                "judged_url": list_url(scope, **judged),
                "failed_url": list_url(scope, **judged, evaluator_result="fail"),
                "errors_url": list_url(scope, **judged, evaluator_result="error"),
            }
        )
    return rows


def _recurring(items: list[analytics.Recurring], scope: QueryDict, key: str) -> list[dict]:
    rows = []
    for item in items:
        extra = (
            {"failure_category": item.key}
            if key == "category"
            else {
                "tool": item.key,
                "tool_status": FunctionCallStatus.FAILED,
            }
        )
        rows.append(
            {
                "item": item,
                "fail_url": list_url(scope, qa_state=QaState.REVIEWED, verdict=Verdict.FAIL, **extra),
                "needs_work_url": list_url(
                    scope, qa_state=QaState.REVIEWED, verdict=Verdict.NEEDS_WORK, **extra
                ),
                "examples": [
                    {
                        "id": example.session_id,
                        "short": str(example.session_id)[:8],
                        "started_at": example.started_at,
                        "url": reverse("review:session-detail", args=[example.session_id]),
                    }
                    for example in item.examples
                ],
            }
        )
    return rows


def _agent_versions(review: ReviewAccess, agent_key: str) -> list[str]:
    if not agent_key:
        return []
    versions = analytics.recent_values(review.access.sessions().filter(agent_key=agent_key), "prompt_version")
    return [version for version in versions if version]


def _compare_url(agent_key: str) -> str:
    if not agent_key:
        return ""
    try:
        return reverse("review:agent-compare", args=[agent_key])
    except NoReverseMatch:  # an agent key with a slash has no page of its own
        return ""


@review_page
def dashboard(request: HttpRequest) -> HttpResponse:
    review = tenant_wide_access(request)
    scope = scope_params(request, timezone.now().astimezone(dt.UTC).date())
    sessions, filterset = filtered_sessions(review, scope)
    errors = filterset.errors if not filterset.is_valid() else {}
    start = end = rollup = None
    if not errors:
        start = filterset.form.cleaned_data.get("started_after")
        end = filterset.form.cleaned_data.get("started_before")
        rollup = rollups.scope_for(review.tenant.pk, filterset.form.cleaned_data)
    taxonomy = failure_categories_for(tenant=review.tenant)
    figures = analytics.dashboard(sessions, taxonomy=taxonomy, start=start, end=end, rollup=rollup)
    summary = figures.overview
    reviewed_url = list_url(scope, qa_state=QaState.REVIEWED)
    all_url = list_url(scope)
    agent_key = scope.get("agent_key", "")
    context = {
        "review": review,
        "nav": "dashboard",
        "scope": scope,
        "errors": errors,
        "figures": figures,
        "summary": summary,
        "all_url": all_url,
        "reviewed_url": reviewed_url,
        "status_bars": _status_bars(summary, scope),
        "qa_bars": _qa_bars(summary, scope),
        "verdicts": _verdicts(summary, scope),
        "coverage": Figure(summary.coverage, reviewed_url, all_url),
        "rate_cards": [
            {
                "key": "pass-rate",
                "title": "Pass rate",
                "figure": Figure(
                    summary.pass_rate,
                    list_url(scope, qa_state=QaState.REVIEWED, verdict=Verdict.PASS),
                    reviewed_url,
                ),
                "numerator": summary.verdicts[Verdict.PASS],
                "verb": "passed",
                "denominator": summary.reviewed,
                "noun": "reviewed",
            },
            {
                "key": "escalation",
                "title": "Escalation rate",
                "figure": Figure(summary.escalation_rate, list_url(scope, escalated="true"), all_url),
                "numerator": summary.escalated,
                "verb": "escalated",
                "denominator": summary.total,
                "noun": "sessions",
            },
        ],
        "categories": _categories(figures, scope, start, end),
        "weeks": figures.trend.weeks,
        "spark_width": max(len(figures.trend.weeks), 1) * SPARK_STEP,
        "spark_height": SPARK_HEIGHT,
        "tools": _tools(figures, scope),
        "measured_latency": _latency(figures, scope),
        "evaluators": _evaluators(figures, scope),
        "recurring": bool(figures.recurring_categories or figures.recurring_tools),
        "recurring_groups": [
            {
                "key": "category",
                "title": "By failure category",
                "key_label": "Category",
                "rows": _recurring(figures.recurring_categories, scope, "category"),
            },
            {
                "key": "tool",
                "title": "By failed tool",
                "key_label": "Tool",
                "rows": _recurring(figures.recurring_tools, scope, "tool"),
            },
        ],
        "findings": [
            {
                "item": item,
                "open_url": list_url(scope, finding="open", finding_tool=item.tool),
                "all_url": list_url(scope, finding="any", finding_tool=item.tool),
                "examples": [
                    {
                        "short": str(example.session_id)[:8],
                        "started_at": example.started_at,
                        "url": reverse("review:session-detail", args=[example.session_id]),
                    }
                    for example in item.examples
                ],
            }
            for item in figures.findings
        ],
        "agents": agent_keys(review.access),
        "agent_key": agent_key,
        "versions": _agent_versions(review, agent_key),
        "compare_url": _compare_url(agent_key),
        "date_after": scope.get("started_after", "")[:10],
        "date_before": scope.get("started_before", "")[:10],
        "start": start,
        "end": end,
        "small_sample_size": SMALL_SAMPLE,
    }
    return render(request, "review/dashboard.html", context, status=400 if errors else 200)
