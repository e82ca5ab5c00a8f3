"""What the ORM cannot write for the dashboard: window functions over an aggregate."""

from __future__ import annotations

from django.db import connections


def ranked_per_tool(
    inner: str, params, *, fail: str, needs_work: str, examples: int, using: str
) -> list[tuple]:
    """Rows (name, session, started, calls, fail, needs_work, first_seen, last_seen) from ``inner``,
    a GROUP BY with one row per (tool, session) named ``r_name``, ``r_session``, ``r_started``,
    ``r_verdict`` and ``r_calls``: the per-tool totals over all of them, and the ``examples`` most
    recent sessions of each tool. One query; the outer SELECT is window functions, which the ORM
    can't put over aggregates."""
    sql = f"""
        SELECT name, example_session, started, calls, fail, needs_work, first_seen, last_seen
        FROM (
            SELECT r_name AS name, r_session AS example_session, r_started AS started,
                SUM(r_calls) OVER per_tool AS calls,
                SUM(CASE WHEN r_verdict = %s THEN 1 ELSE 0 END) OVER per_tool AS fail,
                SUM(CASE WHEN r_verdict = %s THEN 1 ELSE 0 END) OVER per_tool AS needs_work,
                MIN(r_started) OVER per_tool AS first_seen,
                MAX(r_started) OVER per_tool AS last_seen,
                ROW_NUMBER() OVER (PARTITION BY r_name ORDER BY r_started DESC, r_session) AS example_rank
            FROM ({inner}) AS per_session
            WINDOW per_tool AS (PARTITION BY r_name)
        ) AS ranked
        WHERE example_rank <= %s
        ORDER BY name, example_rank
    """
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [fail, needs_work, *params, examples])
        return cursor.fetchall()
