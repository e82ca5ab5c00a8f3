"""Failure figures: categories of the latest evaluations, their weekly trend, recurring failures
(by category and by failed tool, with examples) and tool-boundary findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db.models import Count, F, Max, Min, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from qa_app import rollups
from qa_app.analytics.sources import FAILING_VERDICTS, Live, Source, _flat, source_of, week_start
from qa_app.db import analytics as db_analytics
from qa_app.models import (
    SEVERITY_ORDER,
    Verdict,
)
from qa_app.statistics import Rate, wilson
from sessions_app.models import FunctionCallStatus, QaState, VoiceSession

EXAMPLES = 3  # example sessions per recurring failure
MAX_WEEKS = 104  # the trend shows at most two years of weeks (the most recent ones)


@dataclass(frozen=True)
class CategoryCount:
    name: str
    label: str
    severity: str  # critical / major / minor, or "" for a name no longer in the taxonomy
    sessions: int  # sessions whose latest evaluation names the category
    share: Rate  # of the reviewed sessions


def _taxonomy(taxonomy: Iterable | None) -> dict[str, tuple[str, str]]:
    return {category.name: (category.label, category.severity) for category in taxonomy or []}


def _rank_key(name: str, count: int, severity: str) -> tuple:
    return (-count, SEVERITY_ORDER.get(severity, len(SEVERITY_ORDER)), name)


def failure_categories(
    sessions: QuerySet[VoiceSession] | rollups.Scope | Source,
    *,
    reviewed: int,
    taxonomy: Iterable | None = None,
    rows: list[dict] | None = None,
) -> list[CategoryCount]:
    """Failure categories of the sessions' latest evaluations, most frequent first. One query.

    Ties rank the more severe category first, then by name. ``reviewed`` is the denominator of
    each share (``overview(...).reviewed``); ``taxonomy`` supplies labels and severities.
    """
    labels = _taxonomy(taxonomy)
    result = []
    for row in source_of(sessions).category_rows() if rows is None else rows:
        label, severity = labels.get(row["category"], (row["category"], ""))
        result.append(
            CategoryCount(
                name=row["category"],
                label=label,
                severity=severity,
                sessions=row["sessions"],
                share=wilson(row["sessions"], reviewed),
            )
        )
    return sorted(result, key=lambda item: _rank_key(item.name, item.sessions, item.severity))


@dataclass(frozen=True)
class FailureTrend:
    weeks: list[dt.date]  # Mondays, oldest first, with no gaps
    counts: dict[str, dict[dt.date, int]] = field(default_factory=dict)  # category -> week -> sessions

    def series(self, category: str) -> list[tuple[dt.date, int]]:
        by_week = self.counts.get(category, {})
        return [(week, by_week.get(week, 0)) for week in self.weeks]

    @property
    def peak(self) -> int:
        return max((count for by_week in self.counts.values() for count in by_week.values()), default=0)


def failure_trend(
    sessions: QuerySet[VoiceSession] | rollups.Scope | Source,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> FailureTrend:
    """Sessions per failure category per ISO week of ``started_at``. One query.

    The weeks run from the week of ``start`` (else the first week with a failure) to the week
    before ``end`` (exclusive, like ``started_before``; else the last week with a failure).
    """
    rows = source_of(sessions).trend_rows()
    counts: dict[str, dict[dt.date, int]] = {}
    for row in rows:
        counts.setdefault(row["category"], {})[week_start(row["week"])] = row["sessions"]
    seen = [week for by_week in counts.values() for week in by_week]
    first = week_start(start) if start else min(seen, default=None)
    last = week_start(end - dt.timedelta(microseconds=1)) if end else max(seen, default=None)
    weeks: list[dt.date] = []
    if first and last and first <= last:
        first = max(first, rollups.shift_days(last, -7 * (MAX_WEEKS - 1)))
        weeks = [rollups.shift_days(first, 7 * n) for n in range((last - first).days // 7 + 1)]
    return FailureTrend(weeks=weeks, counts=counts)


@dataclass(frozen=True)
class Example:
    session_id: object
    started_at: dt.datetime


@dataclass(frozen=True)
class Recurring:
    key: str  # the failure category, or the tool name
    label: str
    severity: str  # categories only ("" for tools)
    fail_sessions: int  # sessions whose latest verdict is fail
    needs_work_sessions: int  # ... needs_work
    failed_calls: int | None  # tools only: failed calls in those sessions
    first_seen: dt.datetime
    last_seen: dt.datetime
    examples: list[Example]  # the most recent sessions, at most EXAMPLES

    @property
    def sessions(self) -> int:
        return self.fail_sessions + self.needs_work_sessions


def _examples(rows: QuerySet, key: str) -> dict[str, list[Example]]:
    """The EXAMPLES most recent sessions per ``key``, picked in SQL by ``ROW_NUMBER``. One query.

    ``rows`` yields one row per (key, session) with ``example_session`` and ``started`` values.
    """
    ranked = rows.annotate(
        example_rank=Window(
            RowNumber(), partition_by=[F(key)], order_by=[F("started").desc(), F("example_session").asc()]
        )
    ).filter(example_rank__lte=EXAMPLES)
    found: dict[str, list[tuple]] = {}
    for row in ranked:
        example = Example(row["example_session"], row["started"])
        found.setdefault(row[key], []).append((row["example_rank"], example))
    return {
        name: [example for _, example in sorted(items, key=lambda item: item[0])]
        for name, items in found.items()
    }


def _order(item: Recurring) -> tuple:
    return (-item.sessions, SEVERITY_ORDER.get(item.severity, len(SEVERITY_ORDER)), item.key)


def recurring_failures(
    sessions: QuerySet[VoiceSession],
    *,
    taxonomy: Iterable | None = None,
    category_rows: list[dict] | None = None,
) -> tuple[list[Recurring], list[Recurring]]:
    """Failed and needs-work sessions grouped by failure category, and by failed tool name.

    Returns (by category, by tool), most sessions first. Three queries: the categories' GROUP BY
    (none when ``category_rows``, from the source's ``category_rows``, are passed in) and their example pick
    (``ROW_NUMBER() OVER (PARTITION BY key ORDER BY started_at DESC)``), and the tools' counts and
    examples together.
    """
    failing = _flat(sessions).filter(qa_state=QaState.REVIEWED, verdict__in=FAILING_VERDICTS)
    labels = _taxonomy(taxonomy)

    category_examples = _examples(
        failing.filter(failures__isnull=False).values(
            category=F("failures__category"), example_session=F("pk"), started=F("started_at")
        ),
        "category",
    )
    by_category = []
    for row in Live(sessions).category_rows() if category_rows is None else category_rows:
        if not row["fail"] and not row["needs_work"]:
            continue  # named only on passing reviews: not a failure
        label, severity = labels.get(row["category"], (row["category"], ""))
        by_category.append(
            Recurring(
                key=row["category"],
                label=label,
                severity=severity,
                fail_sessions=row["fail"],
                needs_work_sessions=row["needs_work"],
                failed_calls=None,
                first_seen=row["first"],
                last_seen=row["last"],
                examples=category_examples.get(row["category"], []),
            )
        )

    return sorted(by_category, key=_order), sorted(_recurring_tools(failing), key=_order)


def _timestamp(value) -> dt.datetime:
    """A timestamp from a raw cursor: aware on PostgreSQL, an ISO string in UTC on SQLite."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _recurring_tools(failing: QuerySet[VoiceSession]) -> list[Recurring]:
    """Failing sessions grouped by the names of their failed calls, with examples. One query.

    The inner GROUP BY (ORM) makes one row per (tool, session), read from the sessions' side so
    each failing session is visited once and its calls by their key; the outer SELECT (window
    functions over those rows, which the ORM can't express over aggregates) adds the per-tool
    totals and ranks the sessions, keeping the EXAMPLES most recent per tool.
    """
    per_session = (
        failing.filter(function_calls__status=FunctionCallStatus.FAILED)
        .values(
            r_name=F("function_calls__name"),
            r_session=F("pk"),
            r_started=F("started_at"),
            r_verdict=F("verdict"),
        )
        .annotate(r_calls=Count("function_calls__id"))
        .order_by()
    )
    try:
        inner, params = per_session.query.sql_with_params()
    except EmptyResultSet:  # sessions.none(): an invalid filter matches nothing
        return []
    rows = db_analytics.ranked_per_tool(
        inner,
        params,
        fail=Verdict.FAIL,
        needs_work=Verdict.NEEDS_WORK,
        examples=EXAMPLES,
        using=per_session.db,
    )
    to_uuid = VoiceSession._meta.pk.to_python
    tools: dict[str, Recurring] = {}
    for name, session_id, started, calls, fail, needs_work, first, last in rows:
        if name not in tools:
            tools[name] = Recurring(
                key=name,
                label=name,
                severity="",
                fail_sessions=int(fail),
                needs_work_sessions=int(needs_work),
                failed_calls=int(calls),
                first_seen=_timestamp(first),
                last_seen=_timestamp(last),
                examples=[],
            )
        tools[name].examples.append(Example(to_uuid(session_id), _timestamp(started)))
    return list(tools.values())


@dataclass(frozen=True)
class BoundaryFindings:
    tool: str
    findings: int
    open_findings: int
    sessions: int
    open_sessions: int
    not_allowed: int  # calls of a tool outside the contract
    args_invalid: int  # calls whose arguments broke the tool's schema
    first_seen: dt.datetime
    last_seen: dt.datetime
    examples: list[Example]  # the most recent sessions with an open finding on this tool


def boundary_findings(sessions: QuerySet[VoiceSession]) -> list[BoundaryFindings]:
    """Tool-boundary findings in these sessions, grouped by tool, most open sessions first. Two queries."""
    from qa_app.models import ContractFinding, FindingKind

    findings = ContractFinding.objects.filter(session_id__in=_flat(sessions).values("pk"))
    is_open = Q(acknowledged_at__isnull=True)
    rows = (
        findings.values("tool_name")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=is_open),
            sessions=Count("session_id", distinct=True),
            open_sessions=Count("session_id", distinct=True, filter=is_open),
            not_allowed=Count("pk", filter=Q(kind=FindingKind.TOOL_NOT_ALLOWED)),
            args_invalid=Count("pk", filter=Q(kind=FindingKind.TOOL_ARGS_INVALID)),
            first=Min("session__started_at"),
            last=Max("session__started_at"),
        )
        .order_by()
    )
    examples = _examples(
        findings.filter(is_open)
        .values("tool_name", example_session=F("session_id"))
        .annotate(started=Max("session__started_at"))
        .order_by(),
        "tool_name",
    )
    items = [
        BoundaryFindings(
            tool=row["tool_name"],
            findings=row["total"],
            open_findings=row["open"],
            sessions=row["sessions"],
            open_sessions=row["open_sessions"],
            not_allowed=row["not_allowed"],
            args_invalid=row["args_invalid"],
            first_seen=row["first"],
            last_seen=row["last"],
            examples=examples.get(row["tool_name"], []),
        )
        for row in rows
    ]
    return sorted(items, key=lambda item: (-item.open_sessions, -item.sessions, item.tool))
