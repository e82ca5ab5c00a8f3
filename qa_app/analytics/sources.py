"""Where a figure's rows come from: the sessions themselves (``Live``, any filter), or the daily
rollups (``Rollup``, a scope of whole days and exact agent/version/model filters).

Each figure module asks its source for rows and shapes them; ``source_of`` is the one place that
tells the two apart. The SQL that both need (percentiles, the calls of a set of sessions) is here."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from django.db.models import Aggregate, Count, F, FloatField, Max, Min, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce, RowNumber, TruncWeek

from qa_app import rollups
from qa_app.models import (
    FailureDayStats,
    SessionDayStats,
    ToolDayStats,
    ToolLatencySample,
    Verdict,
)
from sessions_app.db import is_postgresql
from sessions_app.models import FunctionCall, FunctionCallStatus, QaState, VoiceSession

PERCENTILES = (0.5, 0.95)
FAILING_VERDICTS = (Verdict.FAIL, Verdict.NEEDS_WORK)


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


class Live:
    """Figures read from the sessions themselves: a tenant-scoped, filtered ``VoiceSession``
    queryset (the pages build it from ``access.sessions()`` and ``VoiceSessionFilterSet``)."""

    def __init__(self, sessions: QuerySet[VoiceSession]):
        self.sessions = sessions

    @staticmethod
    def count(condition):
        """Sessions meeting ``condition`` (None: all of them), as an aggregate."""
        return Count("pk", filter=condition)

    def aggregate(self, **aggregates) -> dict:
        return _flat(self.sessions).aggregate(**aggregates)

    def category_rows(self) -> list[dict]:
        """Per category of the latest evaluations: all sessions, failing ones by verdict, first and
        last seen among the failing. One GROUP BY over sessions joined to their ``SessionFailure``
        rows (one row per session and category: a unique constraint), so ``COUNT(*)`` counts
        sessions."""
        failing = Q(qa_state=QaState.REVIEWED, verdict__in=FAILING_VERDICTS)
        return list(
            _flat(self.sessions)
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

    def trend_rows(self) -> QuerySet:
        """(week, category, sessions) rows by the ISO week of ``started_at``."""
        return (
            _flat(self.sessions)
            .filter(failures__isnull=False)
            .annotate(week=TruncWeek("started_at"))
            .values("week", category=F("failures__category"))
            .annotate(sessions=Count("pk"))
            .order_by()
        )

    def tool_rows(self, *, percentiles: bool) -> tuple[list[dict], dict]:
        return _tool_rows(self.sessions, percentiles=percentiles)


class Rollup:
    """Figures summed from the daily rollups of a scope (``rollups.Scope``), already refreshed."""

    def __init__(self, scope: rollups.Scope):
        self.scope = scope

    @staticmethod
    def count(condition):
        return Coalesce(Sum("sessions", filter=condition), 0)

    def aggregate(self, **aggregates) -> dict:
        return self.scope.rows(SessionDayStats).aggregate(**aggregates)

    def category_rows(self) -> list[dict]:
        """The same rows as ``Live.category_rows``: one GROUP BY of ``FailureDayStats``."""
        return list(
            self.scope.rows(FailureDayStats)
            .values("category")
            .annotate(
                sessions=Sum("sessions"),
                fail=Sum("fail"),
                needs_work=Sum("needs_work"),
                first=Min("first_failing"),
                last=Max("last_failing"),
            )
        )

    def trend_rows(self) -> QuerySet:
        """Days sum into their week."""
        return (
            self.scope.rows(FailureDayStats)
            .annotate(week=TruncWeek("day"))
            .values("week", "category")
            .annotate(sessions=Sum("sessions"))
        )

    def tool_rows(self, *, percentiles: bool) -> tuple[list[dict], dict]:
        return _rollup_tool_rows(self.scope, percentiles=percentiles)


Source = Live | Rollup


def source_of(sessions: QuerySet[VoiceSession] | rollups.Scope | Source) -> Source:
    """The source behind what a figure was given: a queryset, a rollup scope, or a source."""
    if isinstance(sessions, Live | Rollup):
        return sessions
    if isinstance(sessions, rollups.Scope):
        return Rollup(sessions)
    return Live(sessions)
