"""QA figures for the dashboard and the prompt comparison: aggregate SQL over a session queryset.

Every function takes a ``VoiceSession`` queryset that is already tenant-scoped and filtered (the
pages build it from ``access.sessions()`` and the API's ``VoiceSessionFilterSet``, so a figure and
the session list behind its link select the same rows). Each function runs a fixed number of
queries (GROUP BY with conditional counts, window functions for examples and percentiles),
however many sessions there are; Python only shapes the handful of aggregate rows that come back.

Definitions, so a number on the page can be checked by hand:

- reviewed: ``qa_state = reviewed``; passed: reviewed with the latest verdict ``pass``.
- failure categories: the latest evaluation's categories (``SessionFailure``), counted in sessions;
  their share is of the reviewed sessions.
- weekly trend: by the ISO week (Monday 00:00 UTC) of the session's ``started_at``, the same
  column the date range filters on, so a week's bar links to a ``started_after``/``started_before``
  window of exactly that week.
- tool-call failure rate: failed calls / calls of that function name; latency percentiles over the
  calls with a recorded ``latency_ms``.
- recurring failures: sessions whose latest verdict is ``fail`` or ``needs_work``, grouped by
  failure category, and by the name of their failed tool calls; first and last seen are the
  earliest and latest ``started_at`` of those sessions.

Percentiles are continuous: the value at 0-based position ``p·(n-1)`` of the sorted latencies,
interpolated linearly between the two nearest ranks (PostgreSQL's ``percentile_cont``, numpy's
default "linear" method). PostgreSQL computes it in the aggregate; other databases (SQLite in
development) use the fallback in ``_percentiles_by_rank``: the same definition, with the two
ranks around each position picked in SQL by window functions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db.models import Aggregate, Count, F, FloatField, Max, Min, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce, RowNumber, TruncWeek

from qa_app import rollups
from qa_app.db import analytics as db_analytics
from qa_app.models import (
    SEVERITY_ORDER,
    FailureDayStats,
    SessionDayStats,
    ToolDayStats,
    ToolLatencySample,
    Verdict,
)
from qa_app.statistics import Comparison, Rate, two_proportion_test, wilson
from sessions_app.db import is_postgresql
from sessions_app.models import FunctionCall, FunctionCallStatus, QaState, SessionStatus, VoiceSession

PERCENTILES = (0.5, 0.95)
EXAMPLES = 3  # example sessions per recurring failure
FAILING_VERDICTS = (Verdict.FAIL, Verdict.NEEDS_WORK)
MAX_WEEKS = 104  # the trend shows at most two years of weeks (the most recent ones)


def _flat(sessions: QuerySet[VoiceSession]) -> QuerySet[VoiceSession]:
    """The sessions as a one-table queryset, so joining their failures or calls counts each once.

    ``VoiceSessionFilterSet`` filters with EXISTS and plain columns, so its queryset is used as is
    (one scan, one join). A queryset that already joins other tables, where a join could repeat a
    session, is reduced to ``pk IN (subquery)`` first.
    """
    sessions = sessions.order_by()
    query = sessions.query
    joined = [alias for alias in list(query.alias_map)[1:] if query.alias_refcount.get(alias)]
    if joined:
        return VoiceSession.objects.filter(pk__in=sessions.values("pk")).order_by()
    return sessions


def _tenant_filter(sessions: QuerySet[VoiceSession]) -> tuple[int | None, bool]:
    """The tenant id that ``sessions`` is filtered on (a top-level ``tenant`` condition, as every
    read starts from one), and whether that is its only condition: then it is all the tenant's
    sessions. (None, False) when no such condition is found."""
    where = sessions.query.where
    if where.negated or where.connector != "AND":
        return None, False
    for lookup in where.children:
        target = getattr(getattr(lookup, "lhs", None), "target", None)
        if getattr(lookup, "lookup_name", None) != "exact" or target is None:
            continue
        if target.model is VoiceSession and target.name == "tenant":
            value = getattr(lookup.rhs, "pk", lookup.rhs)  # filter(tenant=<Tenant>) or tenant_id=1
            if isinstance(value, int):
                return value, len(where.children) == 1
    return None, False


def _calls(sessions: QuerySet[VoiceSession]) -> QuerySet[FunctionCall]:
    """The function calls of these sessions, read by the calls' own ``tenant_id`` first.

    That is an index-only scan of the covering ``function_call_tenant_name`` index; when the
    sessions are all the tenant's, it is the whole answer and no join to the sessions is needed
    (at 100,000 sessions the join was two thirds of the dashboard's time over all of them).
    """
    flat = _flat(sessions)
    tenant_id, tenant_wide = _tenant_filter(flat)
    calls = FunctionCall.objects.all()
    if tenant_id is not None:
        calls = calls.filter(tenant_id=tenant_id)
    if not tenant_wide:
        calls = calls.filter(session_id__in=flat.values("pk"))
    return calls


def week_start(value: dt.datetime | dt.date) -> dt.date:
    """The Monday of the ISO week holding ``value`` (UTC)."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC).date()
    return rollups.shift_days(value, -value.weekday())


# --- overview -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    total: int
    by_status: dict[str, int]  # every SessionStatus value, in declaration order
    by_qa_state: dict[str, int]  # every QaState value
    verdicts: dict[str, int]  # among reviewed sessions: pass, fail, needs_work
    escalated: int
    coverage: Rate  # reviewed of all sessions
    pass_rate: Rate  # passed of reviewed
    escalation_rate: Rate  # escalated of all sessions

    @property
    def reviewed(self) -> int:
        return self.by_qa_state[QaState.REVIEWED]


def _overview_aggregates(count) -> dict:
    """The overview's aggregates, each ``count(condition)`` (``None``: every row)."""
    reviewed = Q(qa_state=QaState.REVIEWED)
    return {
        "total": count(None),
        "escalated": count(Q(escalated=True)),
        **{f"status_{value}": count(Q(status=value)) for value in SessionStatus.values},
        **{f"qa_{value}": count(Q(qa_state=value)) for value in QaState.values},
        **{f"verdict_{value}": count(reviewed & Q(verdict=value)) for value in Verdict.values},
    }


def overview(sessions: QuerySet[VoiceSession] | rollups.Scope) -> Overview:
    """Counts by status, QA state and verdict, and escalations. One aggregate query.

    Over a rollup scope, the same counts are sums of ``SessionDayStats`` rows.
    """
    if isinstance(sessions, rollups.Scope):
        counts = sessions.rows(SessionDayStats).aggregate(
            **_overview_aggregates(lambda condition: Coalesce(Sum("sessions", filter=condition), 0))
        )
    else:
        counts = _flat(sessions).aggregate(
            **_overview_aggregates(lambda condition: Count("pk", filter=condition))
        )
    by_qa_state = {value: counts[f"qa_{value}"] for value in QaState.values}
    verdicts = {value: counts[f"verdict_{value}"] for value in Verdict.values}
    total, reviewed_count = counts["total"], by_qa_state[QaState.REVIEWED]
    return Overview(
        total=total,
        by_status={value: counts[f"status_{value}"] for value in SessionStatus.values},
        by_qa_state=by_qa_state,
        verdicts=verdicts,
        escalated=counts["escalated"],
        coverage=wilson(reviewed_count, total),
        pass_rate=wilson(verdicts[Verdict.PASS], reviewed_count),
        escalation_rate=wilson(counts["escalated"], total),
    )


# --- failure categories -------------------------------------------------------------------------


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


def _category_rows(sessions: QuerySet[VoiceSession] | rollups.Scope) -> list[dict]:
    """Per category of the latest evaluations: all sessions, failing ones by verdict, first and last
    seen among the failing. One GROUP BY over sessions joined to their ``SessionFailure`` rows (one
    row per session and category: a unique constraint), so ``COUNT(*)`` counts sessions; over a
    rollup scope, one GROUP BY of ``FailureDayStats``."""
    if isinstance(sessions, rollups.Scope):
        return list(
            sessions.rows(FailureDayStats)
            .values("category")
            .annotate(
                sessions=Sum("sessions"),
                fail=Sum("fail"),
                needs_work=Sum("needs_work"),
                first=Min("first_failing"),
                last=Max("last_failing"),
            )
        )
    failing = Q(qa_state=QaState.REVIEWED, verdict__in=FAILING_VERDICTS)
    return list(
        _flat(sessions)
        .filter(failures__isnull=False)
        .values(category=F("failures__category"))
        .annotate(
            sessions=Count("pk"),
            fail=Count("pk", filter=Q(qa_state=QaState.REVIEWED, verdict=Verdict.FAIL)),
            needs_work=Count("pk", filter=Q(qa_state=QaState.REVIEWED, verdict=Verdict.NEEDS_WORK)),
            first=Min("started_at", filter=failing),
            last=Max("started_at", filter=failing),
        )
        .order_by()
    )


def failure_categories(
    sessions: QuerySet[VoiceSession] | rollups.Scope,
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
    for row in _category_rows(sessions) if rows is None else rows:
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
    sessions: QuerySet[VoiceSession] | rollups.Scope,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> FailureTrend:
    """Sessions per failure category per ISO week of ``started_at``. One query.

    The weeks run from the week of ``start`` (else the first week with a failure) to the week
    before ``end`` (exclusive, like ``started_before``; else the last week with a failure).
    """
    if isinstance(sessions, rollups.Scope):  # days sum into their week
        rows = (
            sessions.rows(FailureDayStats)
            .annotate(week=TruncWeek("day"))
            .values("week", "category")
            .annotate(sessions=Sum("sessions"))
        )
    else:
        rows = (
            _flat(sessions)
            .filter(failures__isnull=False)
            .annotate(week=TruncWeek("started_at"))
            .values("week", category=F("failures__category"))
            .annotate(sessions=Count("pk"))
            .order_by()
        )
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


# --- tools --------------------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(ARRAY[p, …]) WITHIN GROUP (ORDER BY expr)``: one sort per group
    for all the percentiles, returned as an array in the order given."""

    function = "percentile_cont"
    template = (
        "%(function)s(ARRAY[%(percentiles)s]::double precision[]) WITHIN GROUP (ORDER BY %(expressions)s)"
    )
    allow_distinct = False

    def __init__(self, expression, percentiles: Sequence[float], **extra):
        if not percentiles or not all(0 <= p <= 1 for p in percentiles):
            raise ValueError("percentiles must be between 0 and 1")
        from django.contrib.postgres.fields import ArrayField

        super().__init__(
            expression,
            percentiles=", ".join(repr(float(p)) for p in percentiles),
            output_field=ArrayField(FloatField()),
            **extra,
        )


@dataclass(frozen=True)
class ToolStats:
    name: str
    calls: int
    failed_calls: int
    sessions: int  # sessions that called the tool
    failed_sessions: int  # sessions with at least one failed call of it
    latency_samples: int  # calls with a recorded latency
    p50_ms: float | None
    p95_ms: float | None

    @property
    def failure_rate(self) -> Rate:
        """Failed calls of all calls (the tool-call failure rate)."""
        return wilson(self.failed_calls, self.calls)

    @property
    def session_failure_rate(self) -> Rate:
        """Sessions with a failed call of the tool, of the sessions that called it."""
        return wilson(self.failed_sessions, self.sessions)


def _interpolate(ranked: dict[int, float], n: int, p: float) -> float | None:
    """The continuous percentile from the values at 0-based ranks (only those around p*(n-1) needed)."""
    if n <= 0:
        return None
    position = p * (n - 1)
    low, high = math.floor(position), math.ceil(position)
    if low not in ranked or high not in ranked:
        return None
    return ranked[low] + (ranked[high] - ranked[low]) * (position - low)


def _percentiles_by_rank(calls: QuerySet[FunctionCall]) -> dict[str, dict[float, float | None]]:
    """The SQLite (any non-PostgreSQL) fallback for ``percentile_cont``. One query.

    Window functions number each name's latencies in order (``ROW_NUMBER``) and count them
    (``COUNT(*) OVER``); the outer WHERE keeps only the rows whose 0-based rank lies within one of
    a wanted position ``p*(n-1)``, i.e. its floor and ceiling: at most two rows per name and
    percentile reach Python, which interpolates between them exactly as ``percentile_cont`` does.
    """
    ranked = calls.filter(latency_ms__isnull=False).annotate(
        rank=Window(RowNumber(), partition_by=[F("name")], order_by=[F("latency_ms").asc(), F("pk").asc()]),
        samples=Window(Count("pk"), partition_by=[F("name")]),
    )
    near = Q()
    for p in PERCENTILES:
        # 1-based rank r is 0-based rank r - 1; keep |(r - 1) - p*(n - 1)| < 1.
        position = (F("samples") - 1) * p
        near |= Q(rank__gt=position, rank__lt=position + 2)
    values: dict[str, dict[int, float]] = {}
    samples: dict[str, int] = {}
    for name, rank, count, latency in ranked.filter(near).values_list(
        "name", "rank", "samples", "latency_ms"
    ):
        values.setdefault(name, {})[rank - 1] = float(latency)
        samples[name] = count
    return {name: {p: _interpolate(values[name], samples[name], p) for p in PERCENTILES} for name in values}


def _tool_rows(sessions: QuerySet[VoiceSession], *, percentiles: bool) -> tuple[list[dict], dict]:
    calls = _calls(sessions)
    failed = Q(status=FunctionCallStatus.FAILED)
    aggregates = {  # counts of session_id (never null), which the covering index holds; id it doesn't
        "calls": Count("session_id"),
        "failed_calls": Count("session_id", filter=failed),
        "sessions": Count("session_id", distinct=True),
        "failed_sessions": Count("session_id", distinct=True, filter=failed),
        "latency_samples": Count("latency_ms"),
    }
    postgres = is_postgresql(calls.db)
    if percentiles and postgres:
        aggregates["latency"] = PercentileCont("latency_ms", PERCENTILES)
    rows = list(calls.values("name").annotate(**aggregates).order_by())
    if not percentiles:
        return rows, {}
    return rows, _latencies(rows) if postgres else _percentiles_by_rank(calls)


def _latencies(rows: list[dict]) -> dict[str, dict[float, float | None]]:
    """Percentiles by name from rows carrying ``percentile_cont``'s array as ``latency``."""
    return {row["name"]: dict(zip(PERCENTILES, row["latency"] or (), strict=False)) for row in rows}


def _rollup_tool_rows(scope: rollups.Scope, *, percentiles: bool) -> tuple[list[dict], dict]:
    """Tool rows summed from ``ToolDayStats``, and percentiles over ``ToolLatencySample``. Two queries."""
    rows = list(
        scope.rows(ToolDayStats)
        .values("name")
        .annotate(
            **{
                name: Sum(name)
                for name in ("calls", "failed_calls", "sessions", "failed_sessions", "latency_samples")
            }
        )
    )
    if not percentiles:
        return rows, {}
    samples = scope.rows(ToolLatencySample)
    if is_postgresql(samples.db):
        return rows, _latencies(
            samples.values("name").annotate(latency=PercentileCont("latency_ms", PERCENTILES))
        )
    return rows, _percentiles_by_rank(samples)


def tool_stats(
    sessions: QuerySet[VoiceSession] | rollups.Scope, *, percentiles: bool = True
) -> list[ToolStats]:
    """Per function name: calls, failures (in calls and in sessions) and latency p50/p95.

    Most failed calls first, then most calls, then name. One GROUP BY query on PostgreSQL, with
    ``percentile_cont`` in it; elsewhere a second query computes the percentiles by rank. Over a
    rollup scope: the day rows' sums, and the percentiles of its latency samples (two queries).
    """
    if isinstance(sessions, rollups.Scope):
        rows, latencies = _rollup_tool_rows(sessions, percentiles=percentiles)
    else:
        rows, latencies = _tool_rows(sessions, percentiles=percentiles)
    result = [
        ToolStats(
            name=row["name"],
            calls=row["calls"],
            failed_calls=row["failed_calls"],
            sessions=row["sessions"],
            failed_sessions=row["failed_sessions"],
            latency_samples=row["latency_samples"],
            p50_ms=latencies.get(row["name"], {}).get(0.5),
            p95_ms=latencies.get(row["name"], {}).get(0.95),
        )
        for row in rows
    ]
    return sorted(result, key=lambda item: (-item.failed_calls, -item.calls, item.name))


# --- recurring failures -------------------------------------------------------------------------


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
    (none when ``category_rows``, from ``_category_rows``, are passed in) and their example pick
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
    for row in _category_rows(sessions) if category_rows is None else category_rows:
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


# --- the dashboard ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    overview: Overview
    categories: list[CategoryCount]
    trend: FailureTrend
    tools: list[ToolStats]
    recurring_categories: list[Recurring]
    recurring_tools: list[Recurring]
    findings: list[BoundaryFindings]


def dashboard(
    sessions: QuerySet[VoiceSession],
    *,
    taxonomy: Iterable | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    rollup: rollups.Scope | None = None,
) -> Dashboard:
    """Every dashboard figure in 8 queries on PostgreSQL (9 elsewhere), whatever the data size.

    overview 1, failure categories 1 (shared with recurring failures), weekly trend 1, tools 1
    (2 without ``percentile_cont``), recurring failures 2 (category examples; tool counts with
    their examples), tool-boundary findings 2.

    ``rollup``, the scope equal to ``sessions`` (``rollups.scope_for``), reads the overview,
    categories, trend and tools from the daily rollups instead, after recomputing stale days:
    10 queries (the stale-day check, and the tools' percentiles apart), plus 11 when a day
    in the scope's range was stale.
    Recurring failures and findings read the (few) failing sessions themselves either way.
    """
    source: QuerySet[VoiceSession] | rollups.Scope = sessions
    if rollup is not None:
        rollup.refresh()
        source = rollup
    summary = overview(source)
    category_rows = _category_rows(source)
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
    )


# --- comparing two versions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    overview: Overview
    categories: dict[str, CategoryCount]
    tools: dict[str, ToolStats]


def empty_side() -> Side:
    """A side with no sessions (the missing half when an agent has one version only). No query."""
    return Side(overview=overview(VoiceSession.objects.none()), categories={}, tools={})


def side(
    sessions: QuerySet[VoiceSession], *, taxonomy: Iterable | None = None, rollup: rollups.Scope | None = None
) -> Side:
    """One side of a comparison (no latency percentiles): 3 queries, from the daily rollups when
    ``rollup`` is the scope equal to ``sessions`` (then one more, and 11 when a day was stale)."""
    source: QuerySet[VoiceSession] | rollups.Scope = sessions
    if rollup is not None:
        rollup.refresh()
        source = rollup
    summary = overview(source)
    categories = failure_categories(source, reviewed=summary.reviewed, taxonomy=taxonomy)
    return Side(
        overview=summary,
        categories={item.name: item for item in categories},
        tools={item.name: item for item in tool_stats(source, percentiles=False)},
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
    failure rate (sessions with a failed call of it / sessions that called it).
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
