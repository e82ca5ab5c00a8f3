"""GET /api/v1/voice-sessions: envelope, ordering, pagination, every filter, and strict parameters."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qa_app.services import evaluation_record, session_tag_add
from sessions_app.actors import SYSTEM

URL = "/api/v1/voice-sessions"
pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def ids(response):
    return [item["id"] for item in response.json()["data"]]


@pytest.fixture
def three(tenant, make_session):
    """Three sessions started one hour apart; index 0 is the oldest."""
    return [
        make_session(tenant, started_at=T0, agent_key="billing-agent", status="completed"),
        make_session(
            tenant,
            started_at=T0 + dt.timedelta(hours=1),
            agent_key="scheduling-agent",
            status="failed",
            escalation={"escalated": True, "reason": "asked for a human", "at_ms": 4000},
        ),
        make_session(
            tenant,
            started_at=T0 + dt.timedelta(hours=2),
            agent_key="billing-agent",
            status="active",
            summary="Caller wants to update the card on file",
            ended_at=None,
        ),
    ]


def test_envelope_and_newest_first(api, three):
    response = api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "limit", "offset", "count", "count_exact", "next", "previous"}
    assert (body["limit"], body["offset"], body["count"], body["count_exact"]) == (25, 0, 3, True)
    assert body["next"] is None and body["previous"] is None
    assert ids(response) == [str(s.pk) for s in reversed(three)]


def test_items_carry_the_full_session_shape(api, three):
    item = api.get(URL).json()["data"][-1]
    assert set(item) == {
        "id",
        "stream_id",
        "call_sid",
        "agent_key",
        "status",
        "qa_state",
        "direction",
        "from_number",
        "to_number",
        "started_at",
        "ended_at",
        "duration_ms",
        "model",
        "voice",
        "transcript",
        "function_calls",
        "escalation",
        "summary",
        "tags",
        "evaluations",
        "automatic_evaluations",
        "recording",
        "metadata",
        "created_at",
        "updated_at",
    }
    assert set(item["model"]) == {"provider", "name", "prompt_version", "params"}
    assert set(item["voice"]) == {"provider", "voice", "stt", "language"}
    assert set(item["escalation"]) == {"escalated", "reason", "at_ms"}
    assert item["started_at"].endswith("Z")
    assert item["transcript"][0] == {
        "seq": 0,
        "role": "agent",
        "text": "Thanks for calling Acme billing, how can I help?",
        "start_ms": 0,
        "end_ms": 2500,
        "confidence": None,
        "interrupted": False,
        "words": None,
    }
    assert item["recording"] is None


def test_ties_on_started_at_are_ordered_by_id(api, tenant, make_session):
    sessions = [make_session(tenant, started_at=T0) for _ in range(4)]
    assert ids(api.get(URL)) == sorted(str(s.pk) for s in sessions)


def test_limit_offset_and_links(api, three):
    body = api.get(URL, {"limit": 1, "offset": 1}).json()
    assert [item["id"] for item in body["data"]] == [str(three[1].pk)]
    assert "limit=1" in body["next"] and "offset=2" in body["next"]
    assert "limit=1" in body["previous"]
    last = api.get(URL, {"limit": 1, "offset": 2}).json()
    assert last["next"] is None


def test_links_keep_filters(api, three):
    body = api.get(URL, {"limit": 1, "agent_key": "billing-agent"}).json()
    assert body["count"] == 2
    assert "agent_key=billing-agent" in body["next"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "completed"}, [0]),
        ({"status": "failed"}, [1]),
        ({"status": "active"}, [2]),
        ({"agent_key": "billing-agent"}, [2, 0]),
        ({"agent_key": "nobody"}, []),
        ({"escalated": "true"}, [1]),
        ({"escalated": "false"}, [2, 0]),
        ({"started_after": "2026-11-01T12:30:00Z"}, [2, 1]),
        ({"started_before": "2026-11-01T13:00:00Z"}, [0]),
        ({"started_after": "2026-11-01T12:30:00Z", "started_before": "2026-11-01T14:00:00Z"}, [1]),
        ({"q": "card on file"}, [2]),
        ({"q": "CHARGED TWICE"}, [2, 1, 0]),
        ({"qa_state": "unreviewed"}, [2, 1, 0]),
    ],
)
def test_filters(api, three, params, expected):
    assert ids(api.get(URL, params)) == [str(three[i].pk) for i in expected]


def test_stream_id_and_call_sid_filters_are_exact(api, three):
    assert ids(api.get(URL, {"stream_id": three[1].stream_id})) == [str(three[1].pk)]
    assert ids(api.get(URL, {"call_sid": three[2].call_sid})) == [str(three[2].pk)]
    assert ids(api.get(URL, {"stream_id": three[1].stream_id[:-1]})) == []


def test_status_reviewed_means_qa_state_reviewed_whatever_the_outcome(api, three):
    evaluation_record(session=three[1], actor=SYSTEM, verdict="fail", score=2)
    assert ids(api.get(URL, {"status": "reviewed"})) == [str(three[1].pk)]
    assert ids(api.get(URL, {"qa_state": "reviewed"})) == [str(three[1].pk)]
    assert api.get(URL, {"status": "failed"}).json()["count"] == 1


def test_repeated_tag_requires_all(api, three):
    session_tag_add(session=three[0], name="refund", actor=SYSTEM)
    session_tag_add(session=three[0], name="vip", actor=SYSTEM)
    session_tag_add(session=three[2], name="refund", actor=SYSTEM)
    assert ids(api.get(URL, {"tag": "refund"})) == [str(three[2].pk), str(three[0].pk)]
    assert ids(api.get(f"{URL}?tag=refund&tag=vip")) == [str(three[0].pk)]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": "abc"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "-3"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "2.5"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"offset": "100000001"}, "offset"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "", "offset": "5"}, "cursor"),
        ({"count": "maybe"}, "count"),
        ({"status": "done"}, "status"),
        ({"qa_state": "maybe"}, "qa_state"),
        ({"escalated": "perhaps"}, "escalated"),
        ({"started_after": "last tuesday"}, "started_after"),
    ],
)
def test_bad_parameters_get_400_naming_them(api, three, params, param):
    response = api.get(URL, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert param in error["message"]


def test_unknown_status_lists_the_allowed_values(api):
    message = api.get(URL, {"status": "done"}).json()["error"]["message"]
    for allowed in ("active", "completed", "failed", "reviewed"):
        assert allowed in message


def test_limit_200_is_allowed(api, three):
    assert api.get(URL, {"limit": 200}).json()["limit"] == 200


def test_query_count_is_the_same_for_one_row_and_two_hundred(api, tenant, make_session):
    for index in range(12):
        session = make_session(tenant, tags=["refund", f"batch-{index % 3}"])
        evaluation_record(session=session, actor=SYSTEM, verdict="pass", score=5)
    api.get(URL, {"limit": 1})  # warm last_used_at so both measured requests do the same work

    def queries(limit) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(URL, {"limit": limit}).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    def counting(sqls: list[str]) -> list[str]:
        return [sql for sql in sqls if "COUNT(" in sql.upper() or sql.startswith("EXPLAIN")]

    one, many = queries(1), queries(11)  # both with a page after them
    # The key, the page, its count, and one query per child table (turns, calls, tags, evaluations,
    # recordings, automatic evaluations).
    assert len(one) == len(many) <= 9
    # A page with more after it counts: a bounded count (on PostgreSQL after the planner's
    # estimate, which the warm-up request left cached). The last page knows its count from its own
    # rows: no count query, however many rows.
    assert len(counting(many)) == 1
    last = queries(200)
    assert counting(last) == [] and len(last) == len(many) - 1
    assert api.get(URL, {"limit": 200}).json()["count"] == 12


def test_search_follows_updates_to_transcript_and_summary(api, tenant, make_session):
    session = make_session(tenant, summary="Caller asked about a voucher.")
    assert ids(api.get(URL, {"q": "voucher"})) == [str(session.pk)]
    api.post(
        URL,
        {
            "stream_id": session.stream_id,
            "agent_key": "billing-agent",
            "summary": "Rescheduled visit.",
            "transcript": [{"seq": 9, "role": "caller", "text": "Can we move the plumber appointment?"}],
        },
        format="json",
    )
    assert ids(api.get(URL, {"q": "voucher"})) == []
    assert ids(api.get(URL, {"q": "plumber"})) == [str(session.pk)]
    assert ids(api.get(URL, {"q": "rescheduled"})) == [str(session.pk)]


def test_search_never_matches_redacted_pii(api, tenant, make_session):
    make_session(tenant, summary="Send the receipt to jane.doe@example.com")
    assert ids(api.get(URL, {"q": "jane.doe@example.com"})) == []


def test_verdict_prompt_version_and_tool_filters(api, tenant, make_session):
    failed_tool = make_session(
        tenant,
        model={"provider": "openai", "name": "gpt-4o-realtime", "prompt_version": "v11", "params": {}},
        function_calls=[{"seq": 0, "name": "issue_refund", "status": "failed", "error": "declined"}],
    )
    ok_tool = make_session(tenant)  # lookup_order, succeeded, prompt v12
    evaluation_record(
        session=failed_tool, actor=SYSTEM, verdict="fail", failure_categories=["wrong_tool_args"]
    )
    evaluation_record(session=ok_tool, actor=SYSTEM, verdict="pass")
    evaluation_record(session=ok_tool, actor=SYSTEM, verdict="needs_work")  # the latest verdict counts
    assert ids(api.get(URL, {"verdict": "fail"})) == [str(failed_tool.pk)]
    assert ids(api.get(URL, {"verdict": "needs_work"})) == [str(ok_tool.pk)]
    assert ids(api.get(URL, {"verdict": "pass"})) == []
    assert ids(api.get(URL, {"prompt_version": "v11"})) == [str(failed_tool.pk)]
    assert ids(api.get(URL, {"tool": "issue_refund"})) == [str(failed_tool.pk)]
    assert ids(api.get(URL, {"tool": "lookup_order", "tool_status": "failed"})) == []
    assert ids(api.get(URL, {"tool_status": "failed"})) == [str(failed_tool.pk)]
    assert api.get(URL, {"verdict": "great"}).json()["error"]["param"] == "verdict"


def test_filtersets_built_per_request_share_no_state(tenant, make_session):
    """FastFilterSet copies filters shallowly and caches its form class: two live filtersets must
    still filter independently, and the class-level filters stay unbound."""
    from qa_app.filters import VoiceSessionFilterSet
    from sessions_app.selectors import sessions_for

    failed = make_session(tenant, status="failed", agent_key="a1")
    done = make_session(tenant, status="completed", agent_key="a2")
    first = VoiceSessionFilterSet({"status": "failed"}, queryset=sessions_for(tenant=tenant))
    second = VoiceSessionFilterSet(
        {"tool": "lookup_order", "agent_key": "a2"}, queryset=sessions_for(tenant=tenant)
    )
    assert list(second.qs) == [done] and list(first.qs) == [failed]
    assert all(getattr(f, "parent", None) is None for f in VoiceSessionFilterSet.base_filters.values())
    assert not VoiceSessionFilterSet({"status": "nope"}, queryset=sessions_for(tenant=tenant)).is_valid()
    assert first.is_valid()


def test_filter_backend_validates_only_the_filter_parameters_sent(api, three, monkeypatch):
    """No filter parameter: the queryset is returned untouched and no form is validated. Any filter
        parameter, even an invalid one, is validated by its own field, and only those are; an empty one is
    refused by the query contract before any filter runs."""
    from qa_app.filters import VoiceSessionFilterSet

    validated = []
    original = VoiceSessionFilterSet.is_valid

    def counting_is_valid(self):
        validated.append(sorted(self.form.fields))
        return original(self)

    monkeypatch.setattr(VoiceSessionFilterSet, "is_valid", counting_is_valid)
    everything = [str(session.pk) for session in reversed(three)]
    assert ids(api.get(URL, {"limit": 5, "offset": 0})) == everything
    assert validated == []
    assert api.get(URL, {"status": ""}).json()["error"]["param"] == "status"  # refused before any filter
    started = api.get(URL, {"started_after": "2026-11-01T12:30:00Z"})
    assert ids(started) == [str(three[2].pk), str(three[1].pk)]
    bad = api.get(URL, {"status": "bogus"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "status"
    assert validated == [["started_after"], ["status"]]
    both = api.get(URL, {"agent_key": three[2].agent_key, "started_before": "2026-11-01T12:30:00Z"})
    assert validated[-1] == ["agent_key", "started_before"] and both.status_code == 200
    assert VoiceSessionFilterSet.base_filters.keys() >= {"status", "q", "tag"}  # the class is untouched
    fresh = VoiceSessionFilterSet({"q": "x"})
    assert len(fresh.form.fields) == len(VoiceSessionFilterSet.base_filters)


def test_a_session_reads_the_same_by_list_stream_id_call_sid_and_detail(
    api, tenant, make_session, other_tenant
):
    """The child tables (read in one pipeline on PostgreSQL, keyed by session_id as text) give
    every path the same document, with tags in order, and never another tenant's rows."""
    target = make_session(
        tenant,
        tags=["vip", "refund"],
        function_calls=[{"seq": 0, "name": "lookup_order", "arguments": {"order_id": "58213"}}],
    )
    evaluation_record(session=target, actor=SYSTEM, verdict="fail", score=2)
    make_session(tenant, tags=["other"])
    make_session(other_tenant, stream_id=target.stream_id, tags=["chargeback"])  # same stream_id elsewhere
    by_stream = api.get(URL, {"stream_id": target.stream_id}).json()["data"]
    by_call = api.get(URL, {"call_sid": target.call_sid}).json()["data"]
    listed = [document for document in api.get(URL).json()["data"] if document["id"] == str(target.pk)]
    detail = api.get(f"{URL}/{target.pk}").json()
    assert by_stream == by_call == listed == [detail]
    assert detail["tags"] == ["refund", "vip"] and [e["verdict"] for e in detail["evaluations"]] == ["fail"]
    assert detail["function_calls"][0]["arguments"] == {"order_id": "58213"} and detail["transcript"]
