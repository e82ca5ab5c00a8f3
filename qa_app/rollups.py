"""Daily rollups of the dashboard's figures, kept exact by recomputing stale days before a read.

A year of a busy tenant is hundreds of thousands of tool calls; grouping them (and joining them to
their sessions for a date range) on every dashboard load took over a second at 100,000 sessions.
The rollup tables (``SessionDayStats``, ``FailureDayStats``, ``ToolDayStats``,
``ToolLatencySample``) hold the same figures per tenant, UTC day of ``started_at``, agent, prompt
version and model, so a dashboard whose filters are only those (whole days) sums a few thousand
rows instead.

Keeping them right is the record's one rule (sessions_app.changes): **every write that changes
what a day counts marks that day changed**, in the writer's transaction. A read first recomputes
the changed ("stale") days from the sessions themselves (``refresh``), so the rollups never drift:
they are a cache of a pure function of the stored rows, and ``rebuild`` recreates them from
nothing (``manage.py refresh_rollups --rebuild``).

Concurrency (PostgreSQL, READ COMMITTED): ``refresh`` locks the marks it takes, in day order,
before reading any session, and deletes them when it commits. A writer marks its days with
``INSERT … ON CONFLICT DO UPDATE``, which locks an existing row, so either the writer committed
first (then the refresh reads its rows) or it waits for the refresh and marks the day again. Both
take the day rows in ascending order, writers only after their session rows, and a refresh holds
no session lock, so they can't deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate

from qa_app.db import rollups as db_rollups
from qa_app.models import (
    FailureDayStats,
    SessionDayStats,
    SessionFailure,
    ToolDayStats,
    ToolLatencySample,
    Verdict,
)
from sessions_app.changes import PRIMARY, mark_days_changed, utc_day
from sessions_app.models import ChangedDay, FunctionCall, FunctionCallStatus, QaState, VoiceSession

ROLLUPS = (SessionDayStats, FailureDayStats, ToolDayStats, ToolLatencySample)
# Recomputing writes, and reads the days it must write, on the primary (sessions_app.changes).
SCOPE_FIELDS = ("agent_key", "prompt_version", "model_name")  # filtered exactly, like the list's
DATE_FIELDS = ("started_after", "started_before")


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def shift_days(day: dt.date, days: int) -> dt.date:
    """``day`` moved by ``days``, held at the calendar's ends (a row stored before call times were
    bounded may sit on 9999-12-31 or 0001-01-01, and its neighbours must not overflow)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


# --- recomputing --------------------------------------------------------------------------------


def _within_days(days: list[dt.date], prefix: str = "") -> Q:
    """``started_at`` on any of these (sorted) UTC days: one half-open range per run of days."""
    condition, runs = Q(), []
    for day in days:
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    for first, last in runs:
        within = {f"{prefix}started_at__gte": midnight(first)}
        if last < dt.date.max:  # the calendar's last day has no next midnight: no upper bound
            within[f"{prefix}started_at__lt"] = midnight(shift_days(last, 1))
        condition |= Q(**within)
    return condition


def _key(prefix: str = "") -> dict:
    """The rollup key of a row reached through ``prefix`` (``""`` for sessions, else ``session__``)."""
    return {
        "r_tenant": F("tenant_id"),
        "r_day": TruncDate(f"{prefix}started_at", tzinfo=dt.UTC),
        "r_agent_key": F(f"{prefix}agent_key"),
        "r_prompt_version": F(f"{prefix}prompt_version"),
        "r_model_name": F(f"{prefix}model_name"),
    }


def _sources(tenant_id: int, days: list[dt.date]) -> dict:
    """Per rollup model, the GROUP BY over the stored rows that yields its rows for these days."""
    sessions = VoiceSession.objects.filter(_within_days(days), tenant_id=tenant_id)
    failures = SessionFailure.objects.filter(_within_days(days, "session__"), tenant_id=tenant_id)
    calls = FunctionCall.objects.filter(_within_days(days, "session__"), tenant_id=tenant_id)
    failing = Q(session__qa_state=QaState.REVIEWED, session__verdict__in=(Verdict.FAIL, Verdict.NEEDS_WORK))
    failed = Q(status=FunctionCallStatus.FAILED)
    return {
        SessionDayStats: sessions.values(
            **_key(),
            r_status=F("status"),
            r_qa_state=F("qa_state"),
            r_verdict=F("verdict"),
            r_escalated=F("escalated"),
        ).annotate(r_sessions=Count("pk")),
        # One failure row per session and category (a unique constraint): COUNT(*) counts sessions.
        FailureDayStats: failures.values(**_key("session__"), r_category=F("category")).annotate(
            r_sessions=Count("pk"),
            r_fail=Count("pk", filter=Q(session__qa_state=QaState.REVIEWED, session__verdict=Verdict.FAIL)),
            r_needs_work=Count(
                "pk", filter=Q(session__qa_state=QaState.REVIEWED, session__verdict=Verdict.NEEDS_WORK)
            ),
            r_first_failing=Min("session__started_at", filter=failing),
            r_last_failing=Max("session__started_at", filter=failing),
        ),
        ToolDayStats: calls.values(**_key("session__"), r_name=F("name")).annotate(
            r_calls=Count("pk"),
            r_failed_calls=Count("pk", filter=failed),
            r_sessions=Count("session_id", distinct=True),
            r_failed_sessions=Count("session_id", distinct=True, filter=failed),
            r_latency_samples=Count("latency_ms"),
        ),
        ToolLatencySample: calls.filter(latency_ms__isnull=False).values(
            **_key("session__"), r_name=F("name"), r_latency_ms=F("latency_ms")
        ),
    }


def _recompute(tenant_id: int, days: list[dt.date]) -> None:
    for model, rows in _sources(tenant_id, days).items():
        model.objects.using(PRIMARY).filter(tenant_id=tenant_id, day__in=days).delete()
        db_rollups.insert_select(model, rows, using=PRIMARY)


def refresh(tenant_id: int, *, first_day: dt.date | None = None, end_day: dt.date | None = None) -> int:
    """Recompute the tenant's stale days (only those from ``first_day`` to before ``end_day``, when
    given); returns how many there were.

    One query when nothing is stale; eleven otherwise, however many days (the stale days are
    recomputed together, in one GROUP BY per rollup). Reads pass their range, so a 30-day
    dashboard never waits for a backfill of older days (after the migration, or a bulk import
    of history): those are recomputed when a read reaches them, or by ``refresh_rollups``.
    """
    stale = ChangedDay.objects.using(PRIMARY).filter(tenant_id=tenant_id)
    if first_day is not None:
        stale = stale.filter(day__gte=first_day)
    if end_day is not None:
        stale = stale.filter(day__lt=end_day)
    if not stale.exists():
        return 0
    with transaction.atomic(using=PRIMARY):
        days = list(stale.select_for_update().order_by("day").values_list("day", flat=True))
        if days:  # else another reader refreshed them meanwhile
            _recompute(tenant_id, days)
            stale.filter(day__in=days).delete()
    return len(days)


def rebuild(tenant_id: int) -> int:
    """Drop the tenant's rollups and recompute every day that has sessions; returns the day count."""
    with transaction.atomic(using=PRIMARY):
        for model in ROLLUPS:
            model.objects.using(PRIMARY).filter(tenant_id=tenant_id).delete()
        days = (
            VoiceSession.objects.using(PRIMARY)
            .filter(tenant_id=tenant_id)
            .annotate(day=TruncDate("started_at", tzinfo=dt.UTC))
            .values_list("day", flat=True)
            .distinct()
            .order_by()
        )
        mark_days_changed(tenant_id, days)
    return refresh(tenant_id)


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Sessions a rollup can count: a tenant's, over whole UTC days, optionally of one agent,
    prompt version and model (``None``: any)."""

    tenant_id: int
    first_day: dt.date | None = None  # inclusive
    end_day: dt.date | None = None  # exclusive
    agent_key: str | None = None
    prompt_version: str | None = None
    model_name: str | None = None

    def refresh(self) -> int:
        """Recompute the stale days inside this scope's range (see ``refresh``)."""
        return refresh(self.tenant_id, first_day=self.first_day, end_day=self.end_day)

    def rows(self, model) -> QuerySet:
        """The rollup rows of ``model`` inside this scope."""
        rows = model.objects.filter(tenant_id=self.tenant_id)
        if self.first_day is not None:
            rows = rows.filter(day__gte=self.first_day)
        if self.end_day is not None:
            rows = rows.filter(day__lt=self.end_day)
        for name in SCOPE_FIELDS:
            if getattr(self, name) is not None:
                rows = rows.filter(**{name: getattr(self, name)})
        return rows.order_by()


def scope_for(tenant_id: int, filters: Mapping[str, object]) -> Scope | None:
    """The scope selecting exactly the sessions these cleaned list filters select, or None when
    they use a filter the rollups don't key on, or a date bound that isn't a UTC midnight."""
    values: dict[str, object] = {}
    for name, value in filters.items():
        if value in (None, "", [], ()):
            continue
        if name in DATE_FIELDS:
            if value != midnight(utc_day(value)):
                return None
            values[name] = utc_day(value)
        elif name in SCOPE_FIELDS:
            values[name] = value
        else:
            return None
    return Scope(
        tenant_id=tenant_id,
        first_day=values.get("started_after"),
        end_day=values.get("started_before"),
        **{name: values.get(name) for name in SCOPE_FIELDS},
    )
