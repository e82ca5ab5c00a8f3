"""The dashboard (every figure, a fixed number of queries) and the side-by-side comparison of two
agent versions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Max, QuerySet

from qa_app import rollups
from qa_app.analytics.evaluators import EvaluatorResults, evaluator_results
from qa_app.analytics.failures import (
    BoundaryFindings,
    CategoryCount,
    FailureTrend,
    Recurring,
    _taxonomy,
    boundary_findings,
    failure_categories,
    failure_trend,
    recurring_failures,
)
from qa_app.analytics.latency import MeasuredLatency, measured_latency
from qa_app.analytics.overview import Overview, overview
from qa_app.analytics.sources import (
    Live,
    Rollup,
)
from qa_app.analytics.tools import ToolStats, tool_stats
from qa_app.models import (
    Verdict,
)
from qa_app.statistics import Comparison, Rate, two_proportion_test, wilson
from sessions_app.models import FunctionCallStatus, QaState, VoiceSession


@dataclass(frozen=True)
class Dashboard:
    overview: Overview
    categories: list[CategoryCount]
    trend: FailureTrend
    tools: list[ToolStats]
    recurring_categories: list[Recurring]
    recurring_tools: list[Recurring]
    findings: list[BoundaryFindings]
    latency: list[MeasuredLatency]
    evaluators: list[EvaluatorResults]


def dashboard(
    sessions: QuerySet[VoiceSession],
    *,
    taxonomy: Iterable | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    rollup: rollups.Scope | None = None,
) -> Dashboard:
    """Every dashboard figure in 10 queries on PostgreSQL (11 elsewhere), whatever the data size.

    overview 1, failure categories 1 (shared with recurring failures), weekly trend 1, tools 1
    (2 without ``percentile_cont``), recurring failures 2 (category examples; tool counts with
    their examples), tool-boundary findings 2, latency measured in the recordings 1, automatic
    evaluators 1.

    ``rollup``, the scope equal to ``sessions`` (``rollups.scope_for``), reads the overview,
    categories, trend and tools from the daily rollups instead, after recomputing stale days:
    10 queries (the stale-day check, and the tools' percentiles apart), plus 11 when a day
    in the scope's range was stale.
    Recurring failures and findings read the (few) failing sessions themselves either way.
    """
    if rollup is not None:
        rollup.refresh()
    source = Rollup(rollup) if rollup is not None else Live(sessions)
    summary = overview(source)
    category_rows = source.category_rows()
    by_category, by_tool = recurring_failures(sessions, taxonomy=taxonomy, category_rows=category_rows)
    return Dashboard(
        overview=summary,
        categories=failure_categories(
            source, reviewed=summary.reviewed, taxonomy=taxonomy, rows=category_rows
        ),
        trend=failure_trend(source, start=start, end=end),
        tools=tool_stats(source),
        recurring_categories=by_category,
        recurring_tools=by_tool,
        findings=boundary_findings(sessions),
        latency=measured_latency(sessions),
        evaluators=evaluator_results(sessions),
    )


# --- comparing two versions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    overview: Overview
    categories: dict[str, CategoryCount]
    tools: dict[str, ToolStats]
    evaluators: dict[str, EvaluatorResults]


def empty_side() -> Side:
    """A side with no sessions (the missing half when an agent has one version only). No query."""
    return Side(overview=overview(VoiceSession.objects.none()), categories={}, tools={}, evaluators={})


def side(
    sessions: QuerySet[VoiceSession], *, taxonomy: Iterable | None = None, rollup: rollups.Scope | None = None
) -> Side:
    """One side of a comparison (no latency percentiles): 4 queries, from the daily rollups when
    ``rollup`` is the scope equal to ``sessions`` (then one more, and 11 when a day was stale)."""
    if rollup is not None:
        rollup.refresh()
    source = Rollup(rollup) if rollup is not None else Live(sessions)
    summary = overview(source)
    categories = failure_categories(source, reviewed=summary.reviewed, taxonomy=taxonomy)
    return Side(
        overview=summary,
        categories={item.name: item for item in categories},
        tools={item.name: item for item in tool_stats(source, percentiles=False)},
        evaluators={item.name: item for item in evaluator_results(sessions)},
    )


@dataclass(frozen=True)
class Row:
    """One compared figure: each side's rate, the sessions behind its numerator and denominator."""

    key: str
    label: str
    group: str  # "summary", "category" or "tool"
    a: Rate
    b: Rate
    numerator: dict[str, str]  # list filters (on top of each side's) selecting the counted sessions
    denominator: dict[str, str]  # list filters selecting the trials
    higher_is_better: bool
    severity: str = ""

    @property
    def test(self) -> Comparison:
        return two_proportion_test(self.a, self.b)

    @property
    def small_sample(self) -> bool:
        return self.a.small_sample or self.b.small_sample


def compare(a: Side, b: Side, *, taxonomy: Iterable | None = None) -> list[Row]:
    """The rows of a side-by-side comparison, in reading order. Pure: no queries.

    Rates are per session, so every numerator and denominator is a set of sessions the list can
    show: pass rate (passed / reviewed), review coverage (reviewed / sessions), escalation rate
    (escalated / sessions), each failure category (sessions naming it / reviewed), and each tool's
    failure rate (sessions with a failed call of it / sessions that called it), and each automatic
    evaluator's fail rate (sessions it failed / sessions it judged, its current version).
    """
    reviewed = {"qa_state": QaState.REVIEWED}
    rows = [
        Row(
            "pass_rate",
            "Pass rate",
            "summary",
            a.overview.pass_rate,
            b.overview.pass_rate,
            {**reviewed, "verdict": Verdict.PASS},
            reviewed,
            True,
        ),
        Row(
            "coverage",
            "Review coverage",
            "summary",
            a.overview.coverage,
            b.overview.coverage,
            reviewed,
            {},
            True,
        ),
        Row(
            "escalation_rate",
            "Escalation rate",
            "summary",
            a.overview.escalation_rate,
            b.overview.escalation_rate,
            {"escalated": "true"},
            {},
            False,
        ),
    ]
    labels = _taxonomy(taxonomy)
    names = set(a.categories) | set(b.categories)
    order = {category.name: position for position, category in enumerate(taxonomy or [])}
    for name in sorted(names, key=lambda name: (order.get(name, len(order)), name)):
        label, severity = labels.get(name, (name, ""))
        rows.append(
            Row(
                name,
                label,
                "category",
                wilson(a.categories[name].sessions if name in a.categories else 0, a.overview.reviewed),
                wilson(b.categories[name].sessions if name in b.categories else 0, b.overview.reviewed),
                {"failure_category": name},
                reviewed,
                False,
                severity,
            )
        )
    for name in sorted(set(a.tools) | set(b.tools)):
        rows.append(
            Row(
                name,
                name,
                "tool",
                a.tools[name].session_failure_rate if name in a.tools else wilson(0, 0),
                b.tools[name].session_failure_rate if name in b.tools else wilson(0, 0),
                {"tool": name, "tool_status": FunctionCallStatus.FAILED},
                {"tool": name},
                False,
            )
        )
    for name in sorted(set(a.evaluators) | set(b.evaluators)):
        rows.append(
            Row(
                name,
                name,
                "evaluator",
                a.evaluators[name].fail_rate if name in a.evaluators else wilson(0, 0),
                b.evaluators[name].fail_rate if name in b.evaluators else wilson(0, 0),
                {"evaluator": name, "evaluator_result": "fail"},
                {"evaluator": name},
                False,
            )
        )
    return rows


def recent_values(sessions: QuerySet[VoiceSession], by: str, limit: int = 50) -> Sequence[str]:
    """The distinct values of ``by`` (prompt_version or model_name), most recently seen first. One query."""
    return list(
        sessions.order_by()
        .values(by)
        .annotate(last=Max("started_at"))
        .order_by("-last", by)
        .values_list(by, flat=True)[:limit]
    )
