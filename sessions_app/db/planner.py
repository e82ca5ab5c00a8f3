"""PostgreSQL's row estimate for a queryset: one EXPLAIN, cached briefly, so a large list can show
"about N" without counting N rows."""

from __future__ import annotations

import json
import time

from django.core.exceptions import EmptyResultSet
from django.db import connections

# Planner estimates by (database, SQL, parameters), each kept for ESTIMATE_TTL_SECONDS in this
# process: PostgreSQL's estimate only moves when statistics are refreshed or the table grows, so
# a repeated list (a dashboard polling page one) skips the EXPLAIN and its planning. Bounded:
# the whole map is dropped when it holds ESTIMATE_CACHE_SIZE entries.
ESTIMATE_TTL_SECONDS = 30
ESTIMATE_CACHE_SIZE = 1024
_estimates: dict[tuple, tuple[float, int]] = {}


def estimated_rows(queryset) -> int:
    """PostgreSQL's estimate of the query's row count: one EXPLAIN (or none, when a fresh estimate
    of the same query is cached), no rows read."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (e.g. an invalid one, or .none())
        return 0
    key, now = (queryset.db, sql, tuple(params)), time.monotonic()
    cached = _estimates.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    rows = int(plan[0]["Plan"]["Plan Rows"])
    if len(_estimates) >= ESTIMATE_CACHE_SIZE:
        _estimates.clear()
    _estimates[key] = (now + ESTIMATE_TTL_SECONDS, rows)
    return rows
