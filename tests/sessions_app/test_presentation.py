"""The record's rows as documents read them: the plain-cursor fast path gives what the ORM gives."""

import pytest

from sessions_app.models import VoiceSession
from sessions_app.presentation import session_columns, session_rows

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", [False, True])
def test_session_rows_read_what_the_orm_reads(tenant, make_session, raw):
    """PostgreSQL reads the rows on a plain cursor (C timestamp loader, orjson); same values."""
    for index in range(3):
        make_session(tenant, summary=f"Call {index} from (415) 555-0132", metadata={"campaign": index})
    queryset = VoiceSession.objects.filter(tenant=tenant).order_by("-started_at", "id")
    expected = list(queryset.values_list(*session_columns(raw=raw), named=True)[1:3])
    rows = session_rows(queryset, raw=raw, limit=2, offset=1)
    assert rows == expected
    assert [row.started_at for row in rows] == [row.started_at for row in expected]
    assert rows[0].started_at.utcoffset().total_seconds() == 0
    assert isinstance(rows[0].metadata if raw else rows[0].metadata_redacted, dict)
    assert session_rows(queryset.none(), raw=raw, limit=5) == []


def test_session_rows_match_values_list_for_any_queryset_shape(tenant, other_tenant, make_session):
    """The page SELECT is built from pre-resolved columns for plain querysets, and by values_list()
    for the rest (annotations, select_related, distinct, a sliced queryset): the same rows either way."""
    from django.db.models import Count, Q

    for index in range(4):
        make_session(tenant, agent_key=f"agent-{index % 2}", tags=["refund"] if index % 2 else [])
    make_session(other_tenant)
    base = VoiceSession.objects.filter(tenant=tenant).order_by("-started_at", "id")
    shapes = [
        base,
        base.filter(agent_key="agent-1"),
        base.filter(Q(agent_key="agent-0") | Q(status="failed")),
        base.select_related("tenant"),
        base.annotate(turns_seen=Count("turns")),
        base.distinct(),
        base[1:3],
    ]
    for queryset in shapes:
        expected = list(queryset.values_list(*session_columns(raw=False), named=True)[:2])
        assert session_rows(queryset, raw=False, limit=2) == expected, str(queryset.query)
