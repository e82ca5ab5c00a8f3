"""Every list filter is served by a tenant-leading index in list order: no sequential scan, no sort.

Small test tables would tempt any planner into a sequential scan, so on PostgreSQL sequential
scans are priced out (enable_seqscan = off) and the test asserts which index the plan then
uses: it fails if no index matches a filter and the list order. The benchmark (bench/) prints the
real plans at a million sessions.
"""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qa_app.services import session_tag_add
from sessions_app.actors import SYSTEM
from sessions_app.models import VoiceSession

URL = "/api/v1/voice-sessions"
pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@pytest.fixture
def data(tenant, make_session):
    """2,000 sessions with realistic selectivity (the filtered values are rare), then ANALYZE.

    Bulk rows keep the fixture fast; a few sessions go through the ingest service so the tag and
    full-text paths hold real data.
    """
    rows = [
        VoiceSession(
            tenant=tenant,
            stream_id=f"MZbulk{i:06d}",
            call_sid=f"CAbulk{i:06d}",
            agent_key="rare-agent" if i % 40 == 0 else "billing-agent",
            status="failed" if i % 40 == 1 else "completed",
            qa_state="reviewed" if i % 40 == 2 else "unreviewed",
            escalated=i % 40 == 3,
            started_at=T0 + dt.timedelta(minutes=i),
        )
        for i in range(2_000)
    ]
    VoiceSession.objects.bulk_create(rows, batch_size=500)
    sessions = [make_session(tenant, started_at=T0 + dt.timedelta(hours=i)) for i in range(6)]
    session_tag_add(session=sessions[0], name="refund", actor=SYSTEM)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Every bulk row gets searchable text too, so the searched word is as rare as in
            # production and the plan doesn't hinge on how ANALYZE samples a mostly-null column.
            cursor.execute(
                "UPDATE sessions_app_voicesession SET search_vector = to_tsvector('english', "
                "'caller asked to move an appointment ' || stream_id) WHERE stream_id LIKE 'MZbulk%%'"
            )
            # Earlier tests' rolled-back inserts pile up in the GIN pending list, which the planner
            # prices in; production flushes it with autovacuum. Flush it here the same way.
            cursor.execute("SELECT gin_clean_pending_list('session_search_vector_gin')")
        cursor.execute("ANALYZE")
    return sessions


def page_query_plan(api, params, *, bitmap_only: bool = False) -> str:
    with CaptureQueriesContext(connection) as captured:
        assert api.get(URL, {"limit": 25, **params}).status_code == 200
    page = next(
        q["sql"] for q in captured.captured_queries
        if 'FROM "sessions_app_voicesession"' in q["sql"] and "ORDER BY" in q["sql"] and "LIMIT" in q["sql"]
    )  # fmt: skip
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            if bitmap_only:
                cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(f"EXPLAIN {page}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {page}")
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


FILTER_INDEXES = [
    ({}, "session_tenant_order"),
    ({"status": "failed"}, "session_tenant_status"),
    ({"status": "reviewed"}, "session_tenant_qa_state"),
    ({"qa_state": "reviewed"}, "session_tenant_qa_state"),
    ({"agent_key": "rare-agent"}, "session_tenant_agent"),
    ({"call_sid": "CAbulk000123"}, "session_tenant_call_sid"),
    ({"escalated": "true"}, "session_tenant_escalated"),
    (
        {"started_after": "2026-11-01T02:00:00Z", "started_before": "2026-11-01T05:00:00Z"},
        "session_tenant_order",
    ),
    ({"cursor": ""}, "session_tenant_order"),
]


def test_list_filters_use_their_index_in_list_order(api, data):
    """One fixture for every filter: building 2,000 rows per case would dominate the suite."""
    for params, index in FILTER_INDEXES:
        plan = page_query_plan(api, params)
        assert index in plan, (params, plan)
        if connection.vendor == "postgresql":
            assert "Seq Scan on sessions_app_voicesession" not in plan, (params, plan)
            assert "Sort" not in plan.split("Index")[0], (params, plan)  # the index delivers the order
        else:
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan, (params, plan)

    tag_plan = page_query_plan(api, {"tag": "refund"})
    # With one tagged session, any index of the link table is as cheap as another: the plan must
    # reach the links through one of them (session_tag_* or the tag's foreign key), never a scan.
    assert "Seq Scan on sessions_app_voicesession" not in tag_plan, tag_plan
    assert re.search(r"Index (Only )?Scan using \S+ on qa_app_sessiontag|session_tag", tag_plan), tag_plan
    stream_plan = page_query_plan(api, {"stream_id": data[0].stream_id})
    assert "session_stream_id_per_tenant" in stream_plan or "sqlite_autoindex" in stream_plan, stream_plan
    search_plan = page_query_plan(api, {"q": "refunded"})
    if connection.vendor == "postgresql":
        assert "session_search_vector_gin" in search_plan, search_plan
    else:  # SQLite's documented fallback scans the tenant's rows for a substring
        assert "session_tenant" in search_plan, search_plan
