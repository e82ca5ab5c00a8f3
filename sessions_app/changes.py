"""Which days of a tenant's sessions changed: the record's one promise to the figures derived from it.

**Every write that changes what a UTC day of ``started_at`` holds marks that day**, in the
writer's transaction: the ingest for new, updated or moved sessions and their calls, a recorded
evaluation, the retention purge for deleted sessions. Whatever derives figures from the sessions
(qa_app.rollups) takes the marked days, recomputes them and clears the marks, so derived figures
never drift; this module knows nothing of what they are.

Concurrency (PostgreSQL, READ COMMITTED): a writer marks its days with ``INSERT … ON CONFLICT DO
UPDATE``, which locks an existing row until it commits, in ascending day order and only after its
session rows; a reader locks the rows it takes in the same order before reading any session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from sessions_app.models import ChangedDay

# Marks are written, and read by whoever recomputes, on the primary, named rather than routed: a
# dashboard GET reads a replica (config.routers) and asking the router for the write database
# would pin the rest of the request's reads to the primary.
PRIMARY = DEFAULT_DB_ALIAS


def utc_day(value: dt.datetime) -> dt.date:
    return value.astimezone(dt.UTC).date()


def mark_changed(tenant_id: int, started: Iterable[dt.datetime | None]) -> None:
    """Mark the UTC days of these ``started_at`` values changed. One statement; none for no values.

    Call it inside the transaction that writes the sessions, with the old and the new
    ``started_at`` of a session that moves to another day, and last: the marks stay locked until
    the commit, and concurrent writers of the same day (today, mostly) wait on them.
    """
    mark_days_changed(tenant_id, {utc_day(value) for value in started if value is not None})


def mark_days_changed(tenant_id: int, days: Iterable[dt.date]) -> None:
    now = timezone.now()
    rows = [ChangedDay(tenant_id=tenant_id, day=day, marked_at=now) for day in sorted(set(days))]
    if rows:  # ascending, the order readers lock them in
        ChangedDay.objects.using(PRIMARY).bulk_create(
            rows, update_conflicts=True, unique_fields=["tenant", "day"], update_fields=["marked_at"]
        )
