"""Prompt regression: /review/agents/<agent_key>/ compares two prompt versions or two models.

billing-agent, hand-built (v1 is older, v2 newer, so the default is A = v1, B = v2):

    v1  a1 pass                      lookup_order ok
        a2 fail [hallucination]      lookup_order FAILED
        a3 pass                      lookup_order ok
    v2  b1 fail [hallucination]      refund FAILED
        b2 fail [hallucination, wrong_tool]   lookup_order ok
        b3 unreviewed, escalated     no tools
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from qa_app import analytics
from qa_app.services import evaluation_record
from qa_app.statistics import two_proportion_test, wilson
from sessions_app.actors import Actor
from sessions_app.models import SessionShare

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
LINK = re.compile(r'<a [^>]*?href="(/review/\?[^"]*)"[^>]*?data-count="(\d+)"')
ROW = re.compile(
    r'<tr data-row="([^"]+)" data-significance="([^"]+)" data-small-sample="(true|false)">(.*?)</tr>', re.S
)


def call(seq, name, status="succeeded"):
    return {"seq": seq, "name": name, "arguments": {}, "status": status, "latency_ms": 100}


def model(version, name="gpt-4o-realtime"):
    return {"provider": "openai", "name": name, "prompt_version": version, "params": {}}


@pytest.fixture
def reviewer(make_user, tenant):
    return Actor(user=make_user("rita", tenant, "analyst"))


@pytest.fixture
def billing(tenant, make_session, reviewer):
    def make(minutes, version, calls, verdict=None, categories=(), escalated=False):
        session = make_session(
            tenant,
            started_at=T0 + dt.timedelta(minutes=minutes),
            model=model(version),
            function_calls=calls,
            escalation={"escalated": escalated, "reason": "asked" if escalated else None, "at_ms": None},
        )
        if verdict:
            evaluation_record(
                session=session, actor=reviewer, verdict=verdict, failure_categories=list(categories)
            )
        return session

    return {
        "a1": make(1, "v1", [call(0, "lookup_order")], "pass"),
        "a2": make(2, "v1", [call(0, "lookup_order", "failed")], "fail", ["hallucination"]),
        "a3": make(3, "v1", [call(0, "lookup_order")], "pass"),
        "b1": make(60, "v2", [call(0, "refund", "failed")], "fail", ["hallucination"]),
        "b2": make(61, "v2", [call(0, "lookup_order")], "fail", ["hallucination", "wrong_tool"]),
        "b3": make(62, "v2", [], escalated=True),
    }


def rows(page: str) -> dict[str, dict]:
    found = {}
    for key, significance, small, body in ROW.findall(page):
        found[key] = {
            "significance": significance,
            "small": small == "true",
            "counts": [int(count) for _, count in LINK.findall(body)],  # k_a, n_a, k_b, n_b
            "body": body,
        }
    return found


def test_defaults_to_the_two_latest_prompt_versions(tenant, billing, browser_for):
    response = browser_for(tenant, "viewer").get("/review/agents/billing-agent/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>A</strong> v1 (baseline) against <strong>B</strong> v2" in page
    assert 'aria-current="page">Compare versions</a>' in page  # the agent tabs
    assert "dashboard.css" in page and 'style="' not in page
    found = rows(page)
    assert found["summary:pass_rate"]["counts"] == [2, 3, 0, 2]
    assert found["summary:coverage"]["counts"] == [3, 3, 2, 3]
    assert found["summary:escalation_rate"]["counts"] == [0, 3, 1, 3]
    assert found["category:hallucination"]["counts"] == [1, 3, 2, 2]
    assert found["category:wrong_tool"]["counts"] == [0, 3, 1, 2]
    assert found["tool:lookup_order"]["counts"] == [1, 3, 0, 1]
    assert found["tool:refund"]["counts"] == [0, 0, 1, 1]
    # Tiny samples: every row says so, and nothing here is significant.
    assert all(row["small"] and "small sample" in row["body"] for row in found.values())
    assert found["summary:pass_rate"]["significance"] == "not significant"
    assert two_proportion_test(wilson(2, 3), wilson(0, 2)).p_value > 0.05
    assert found["tool:refund"]["significance"] == "none"  # no trials on side A
    low, high = wilson(2, 3).low * 100, wilson(2, 3).high * 100
    assert f"{low:.1f}\u2013{high:.1f}%" in found["summary:pass_rate"]["body"]


def test_every_figure_links_to_exactly_its_sessions(tenant, billing, browser_for, api):
    page = browser_for(tenant, "viewer").get("/review/agents/billing-agent/").content.decode()
    found = [(html_lib.unescape(href), int(count)) for href, count in LINK.findall(page)]
    assert len(found) > 25
    for href, count in set(found):
        response = api.get(f"/api/v1/voice-sessions?{urlsplit(href).query}&limit=200&count=exact")
        assert response.status_code == 200, href
        assert response.json()["count"] == count, href
    hallucination_b = next(
        href for href, _ in found if "failure_category=hallucination" in href and "prompt_version=v2" in href
    )
    listed = {
        row["id"]
        for row in api.get(f"/api/v1/voice-sessions?{urlsplit(hallucination_b).query}").json()["data"]
    }
    assert listed == {str(billing["b1"].pk), str(billing["b2"].pk)}


def test_significant_difference_between_models_is_marked_and_still_small(
    tenant, make_session, reviewer, browser_for
):
    for n in range(12):
        for name, verdict in (("m-old", "pass"), ("m-new", "fail")):
            session = make_session(
                tenant,
                agent_key="sig-agent",
                started_at=T0 + dt.timedelta(minutes=n if name == "m-old" else 100 + n),
                model=model("v1", name=name),
            )
            evaluation_record(session=session, actor=reviewer, verdict=verdict)
    page = browser_for(tenant, "viewer").get("/review/agents/sig-agent/?by=model_name").content.decode()
    assert "<strong>A</strong> m-old (baseline) against <strong>B</strong> m-new" in page
    row = rows(page)["summary:pass_rate"]
    assert row["counts"] == [12, 12, 0, 12]
    assert row["significance"] == "significant"
    assert "significant · worse" in row["body"]
    assert row["small"] and "small sample" in row["body"]  # 12 < 30: said, not hidden
    assert two_proportion_test(wilson(12, 12), wilson(0, 12)).p_value < 0.001
    assert "p &lt; 0.001" in row["body"]
    # Swapping the sides turns "worse" into "better".
    page = (
        browser_for(tenant, "admin")
        .get("/review/agents/sig-agent/?by=model_name&a=m-new&b=m-old")
        .content.decode()
    )
    assert "significant · better" in rows(page)["summary:pass_rate"]["body"]


def test_thirty_a_side_is_not_a_small_sample(tenant, make_session, browser_for):
    for n in range(30):
        make_session(
            tenant,
            agent_key="volume-agent",
            started_at=T0 + dt.timedelta(minutes=n),
            model=model("v1"),
            escalation={"escalated": n < 3, "reason": None, "at_ms": None},
        )
        make_session(
            tenant,
            agent_key="volume-agent",
            started_at=T0 + dt.timedelta(hours=2, minutes=n),
            model=model("v2"),
            escalation={"escalated": n < 15, "reason": None, "at_ms": None},
        )
    found = rows(browser_for(tenant, "viewer").get("/review/agents/volume-agent/").content.decode())
    escalation = found["summary:escalation_rate"]
    assert escalation["counts"] == [3, 30, 15, 30]
    assert not escalation["small"] and "small sample" not in escalation["body"]
    assert escalation["significance"] == "significant"
    assert found["summary:pass_rate"]["small"]  # nothing reviewed: n = 0 is small, and shown


def test_date_range_scopes_both_sides(tenant, billing, browser_for):
    after = (T0 + dt.timedelta(minutes=30)).isoformat()
    client = browser_for(tenant, "viewer")
    response = client.get("/review/agents/billing-agent/", {"started_after": after})
    found = rows(response.content.decode())
    assert found["summary:coverage"]["counts"] == [0, 0, 2, 3]
    assert client.get("/review/agents/billing-agent/?started_after=soon").status_code == 400


def test_one_version_only_is_shown_alone(tenant, make_session, browser_for):
    make_session(tenant, agent_key="solo-agent", model=model("v7"))
    page = browser_for(tenant, "viewer").get("/review/agents/solo-agent/").content.decode()
    assert 'data-testid="single-side"' in page
    assert rows(page)["summary:coverage"]["counts"] == [0, 1]


def test_unknown_or_foreign_agent_is_404_and_guests_are_kept_out(
    tenant, other_tenant, billing, make_session, browser_for, make_user
):
    make_session(other_tenant, agent_key="their-agent")
    client = browser_for(tenant, "viewer")
    assert client.get("/review/agents/no-such-agent/").status_code == 404
    assert client.get("/review/agents/their-agent/").status_code == 404
    assert browser_for(other_tenant, "admin").get("/review/agents/billing-agent/").status_code == 404
    guest = make_user("guest")
    SessionShare.objects.create(tenant=tenant, session=billing["a1"], user=guest)
    guest_client = Client()
    guest_client.force_login(guest)
    assert guest_client.get("/review/agents/billing-agent/").status_code == 404


def test_compare_rows_match_wilson_and_need_no_queries(tenant, billing):
    from sessions_app.selectors import sessions_for

    agent = sessions_for(tenant=tenant).filter(agent_key="billing-agent")
    a = analytics.side(agent.filter(prompt_version="v1"))
    b = analytics.side(agent.filter(prompt_version="v2"))
    with CaptureQueriesContext(connection) as queries:
        compared = {row.key: row for row in analytics.compare(a, b)}
    assert len(queries) == 0
    assert (compared["pass_rate"].a, compared["pass_rate"].b) == (wilson(2, 3), wilson(0, 2))
    assert compared["hallucination"].numerator == {"failure_category": "hallucination"}
    assert compared["lookup_order"].denominator == {"tool": "lookup_order"}
    assert compared["pass_rate"].test == two_proportion_test(wilson(2, 3), wilson(0, 2))


def test_query_count_is_constant(tenant, billing, make_session, browser_for):
    client = browser_for(tenant, "viewer")
    client.get("/review/agents/billing-agent/")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/review/agents/billing-agent/").status_code == 200
        return len(queries)

    small = count()

    def add(n: int, days: int = 0):
        make_session(
            tenant,
            started_at=T0 + dt.timedelta(days=days, minutes=70 + n),
            model=model("v2"),
            function_calls=[call(0, f"tool_{n}", "failed")],
        )

    add(0)
    one_stale_day = count()  # the first side recomputes the day the write touched
    assert one_stale_day > small
    for n in range(1, 9):
        add(n, days=n % 4)
    assert count() == one_stale_day  # four stale days: the same statements
    assert count() == small


def test_stale_sides_after_switching_to_models_fall_back_to_the_latest(tenant, billing, browser_for):
    page = browser_for(tenant, "viewer").get("/review/agents/billing-agent/?by=model_name&a=v1&b=v2")
    assert page.status_code == 200
    body = page.content.decode()
    assert "gpt-4o-realtime only" in body  # one model: shown alone, not two empty sides
    assert 'data-testid="single-side"' in body
