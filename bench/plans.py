"""EXPLAIN the SQL a request ran: the full ``EXPLAIN (ANALYZE, BUFFERS)`` of the sessions page query,
and a plain EXPLAIN of every other SELECT, flagging any sequential scan of sessions or turns."""

from __future__ import annotations

import re

from django.db import connection

WATCHED_TABLES = ("sessions_app_voicesession", "sessions_app_transcriptturn")
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
INDEX_USED = re.compile(r"(?:Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)")


def is_page_query(sql: str) -> bool:
    """The sessions page query of a list request (not the capped count, not the EXPLAIN for it)."""
    return (
        'FROM "sessions_app_voicesession"' in sql
        and " ORDER BY " in sql
        and " LIMIT " in sql
        and not sql.lstrip().upper().startswith("EXPLAIN")
        and "COUNT(" not in sql.upper()
    )


def _explain(sql: str, options: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {options} {sql}")
        return [row[0] for row in cursor.fetchall()]


def seq_scans(plan_lines: list[str]) -> list[str]:
    return sorted(
        {match for line in plan_lines for match in SEQ_SCAN.findall(line) if match in WATCHED_TABLES}
    )


def analyze_request(queries: list[dict]) -> dict:
    """Plans of the captured queries of one request (CaptureQueriesContext.captured_queries)."""
    page_plan: list[str] = []
    page_sql = None
    flagged: list[dict] = []
    for index, query in enumerate(queries):
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        if page_sql is None and is_page_query(sql):
            page_sql = sql
            page_plan = _explain(sql, "(ANALYZE, BUFFERS)")
            lines = page_plan
        else:
            lines = _explain(sql, "")
        scans = seq_scans(lines)
        if scans:
            flagged.append({"query": index + 1, "sql": sql, "tables": scans, "plan": lines})
    return {
        "page_sql": page_sql,
        "page_plan": page_plan,
        "indexes": sorted(set(INDEX_USED.findall("\n".join(page_plan)))),
        "seq_scans": sorted({table for item in flagged for table in item["tables"]}),
        "flagged": flagged,
    }
