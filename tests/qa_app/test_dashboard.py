"""The QA dashboard: hand-built sessions with known figures, links that list exactly those sessions.

The data (all in tenant acme, agent billing-agent, weeks of Nov 2 and Nov 9, 2026):

    s1  completed v1  lookup_order ok 100, send_sms ok (no latency)   pass
    s2  completed v1  lookup_order FAILED 300, refund FAILED 500       fail [wrong_tool, hallucination]
                                                                       + escalated
    s3  failed    v1  lookup_order ok 200                              needs_work [hallucination]
    s4  completed v2  lookup_order FAILED 400, lookup_order FAILED 500 fail [hallucination]        (week 2)
    s5  active    v2  no tools                                         unreviewed, escalated       (week 2)
    s6  completed v2  refund ok 50                                     pass [tts_or_latency]       (week 2)

plus one session in another tenant and one before the range, both failing: neither may count.

Percentiles are continuous (linear interpolation at position p·(n-1) of the sorted latencies, as
PostgreSQL's percentile_cont): lookup_order [100, 200, 300, 400, 500] → p50 300, p95 480;
refund [50, 500] → p50 275, p95 477.5. Both databases compute the same definition.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qa_app import analytics
from qa_app.analytics import sources
from qa_app.selectors import failure_categories_for
from qa_app.services import evaluation_record
from qa_app.statistics import wilson
from sessions_app.actors import Actor
from sessions_app.models import SessionShare

pytestmark = pytest.mark.django_db

WEEK1 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)  # a Monday
WEEK2 = dt.datetime(2026, 11, 9, 9, 0, tzinfo=dt.UTC)
RANGE = "started_after=2026-11-01&started_before=2026-11-16"
LINK = re.compile(r'<a [^>]*?href="(/review/\?[^"]*)"[^>]*?data-count="(\d+)"')


def call(seq, name, status="succeeded", latency=None):
    return {
        "seq": seq,
        "name": name,
        "arguments": {},
        "result": None,
        "status": status,
        "error": "boom" if status == "failed" else None,
        "latency_ms": latency,
    }


def model(version, name="gpt-4o-realtime"):
    return {"provider": "openai", "name": name, "prompt_version": version, "params": {}}


def escalation(escalated):
    return {"escalated": escalated, "reason": "caller asked" if escalated else None, "at_ms": None}


@pytest.fixture
def reviewer(make_user, tenant):
    return Actor(user=make_user("rita", tenant, "analyst"))


@pytest.fixture
def data(tenant, other_tenant, make_session, reviewer):
    failure_categories_for(tenant=tenant)
    s = {}
    s["s1"] = make_session(
        tenant,
        started_at=WEEK1,
        model=model("v1"),
        function_calls=[call(0, "lookup_order", latency=100), call(1, "send_sms")],
    )
    s["s2"] = make_session(
        tenant,
        started_at=WEEK1 + dt.timedelta(hours=1),
        model=model("v1"),
        escalation=escalation(True),
        function_calls=[call(0, "lookup_order", "failed", 300), call(1, "refund", "failed", 500)],
    )
    s["s3"] = make_session(
        tenant,
        started_at=WEEK1 + dt.timedelta(hours=2),
        status="failed",
        model=model("v1"),
        function_calls=[call(0, "lookup_order", latency=200)],
    )
    s["s4"] = make_session(
        tenant,
        started_at=WEEK2,
        model=model("v2"),
        function_calls=[call(0, "lookup_order", "failed", 400), call(1, "lookup_order", "failed", 500)],
    )
    s["s5"] = make_session(
        tenant,
        started_at=WEEK2 + dt.timedelta(hours=1),
        status="active",
        ended_at=None,
        model=model("v2"),
        escalation=escalation(True),
        function_calls=[],
    )
    s["s6"] = make_session(
        tenant,
        started_at=WEEK2 + dt.timedelta(hours=2),
        model=model("v2"),
        function_calls=[call(0, "refund", latency=50)],
    )
    evaluation_record(session=s["s1"], actor=reviewer, verdict="pass")
    evaluation_record(
        session=s["s2"], actor=reviewer, verdict="fail", failure_categories=["wrong_tool", "hallucination"]
    )
    evaluation_record(
        session=s["s3"], actor=reviewer, verdict="needs_work", failure_categories=["hallucination"]
    )
    evaluation_record(session=s["s4"], actor=reviewer, verdict="fail", failure_categories=["hallucination"])
    evaluation_record(session=s["s6"], actor=reviewer, verdict="pass", failure_categories=["tts_or_latency"])
    # Noise that must not count: another tenant, and a session before the range.
    other = make_session(
        other_tenant, started_at=WEEK1, function_calls=[call(0, "lookup_order", "failed", 9000)]
    )
    evaluation_record(session=other, actor=Actor(), verdict="fail", failure_categories=["hallucination"])
    early = make_session(
        tenant, started_at=WEEK1 - dt.timedelta(days=20), function_calls=[call(0, "refund", "failed", 9000)]
    )
    evaluation_record(session=early, actor=reviewer, verdict="fail", failure_categories=["policy_violation"])
    return s


def scoped(tenant):
    from qa_app.filters import VoiceSessionFilterSet
    from sessions_app.selectors import sessions_for

    filterset = VoiceSessionFilterSet(
        {"started_after": "2026-11-01", "started_before": "2026-11-16"}, queryset=sessions_for(tenant=tenant)
    )
    assert filterset.is_valid()
    return filterset.qs


def ids(*sessions):
    return {str(session.pk) for session in sessions}


# --- the figures --------------------------------------------------------------------------------


def test_overview_counts_rates_and_intervals(tenant, data):
    summary = analytics.overview(scoped(tenant))
    assert summary.total == 6
    assert summary.by_status == {"active": 1, "completed": 4, "failed": 1}
    assert summary.by_qa_state == {"unreviewed": 1, "in_review": 0, "reviewed": 5}
    assert summary.verdicts == {"pass": 2, "fail": 2, "needs_work": 1}
    assert summary.escalated == 2
    assert summary.coverage == wilson(5, 6)
    assert summary.pass_rate == wilson(2, 5)
    assert summary.pass_rate.low == pytest.approx(0.1176, abs=1e-4)
    assert summary.pass_rate.high == pytest.approx(0.7693, abs=1e-4)
    assert summary.pass_rate.small_sample
    assert summary.escalation_rate == wilson(2, 6)


def test_failure_categories_are_ranked_by_count_then_severity(tenant, data):
    taxonomy = failure_categories_for(tenant=tenant)
    ranked = analytics.failure_categories(scoped(tenant), reviewed=5, taxonomy=taxonomy)
    assert [(item.name, item.sessions, item.severity) for item in ranked] == [
        ("hallucination", 3, "critical"),
        ("wrong_tool", 1, "major"),  # ties with tts_or_latency; the more severe ranks first
        ("tts_or_latency", 1, "minor"),
    ]
    assert ranked[0].label == "Hallucination"
    assert ranked[0].share == wilson(3, 5)


def test_weekly_trend_counts_by_iso_week_of_started_at(tenant, data):
    trend = analytics.failure_trend(
        scoped(tenant),
        start=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        end=dt.datetime(2026, 11, 16, tzinfo=dt.UTC),
    )
    # Nov 1 is a Sunday: its week starts Monday Oct 26; Nov 16 is exclusive, so the last is Nov 9.
    assert trend.weeks == [dt.date(2026, 10, 26), dt.date(2026, 11, 2), dt.date(2026, 11, 9)]
    assert trend.series("hallucination") == [
        (dt.date(2026, 10, 26), 0),
        (dt.date(2026, 11, 2), 2),
        (dt.date(2026, 11, 9), 1),
    ]
    assert trend.series("wrong_tool")[1:] == [(dt.date(2026, 11, 2), 1), (dt.date(2026, 11, 9), 0)]
    assert trend.series("tts_or_latency")[2] == (dt.date(2026, 11, 9), 1)
    assert trend.peak == 2


def test_tool_failure_rates_and_latency_percentiles(tenant, data):
    tools = {item.name: item for item in analytics.tool_stats(scoped(tenant))}
    assert list(tools) == ["lookup_order", "refund", "send_sms"]  # most failed calls first
    lookup = tools["lookup_order"]
    assert (lookup.calls, lookup.failed_calls, lookup.sessions, lookup.failed_sessions) == (5, 3, 4, 2)
    assert lookup.failure_rate == wilson(3, 5)
    assert lookup.session_failure_rate == wilson(2, 4)
    assert lookup.p50_ms == pytest.approx(300)
    assert lookup.p95_ms == pytest.approx(480)
    refund = tools["refund"]
    assert (refund.calls, refund.failed_calls, refund.sessions, refund.failed_sessions) == (2, 1, 2, 1)
    assert refund.p50_ms == pytest.approx(275)
    assert refund.p95_ms == pytest.approx(477.5)
    sms = tools["send_sms"]
    assert (sms.calls, sms.latency_samples, sms.p50_ms, sms.p95_ms) == (1, 0, None, None)


def test_percentiles_of_odd_and_single_samples(tenant, make_session):
    latencies = [70, 10, 50, 30, 90, 20, 80, 40, 60, 100, 110]  # 11 values: exact ranks at 0.5 and 0.95
    make_session(
        tenant, function_calls=[call(n, "search", latency=value) for n, value in enumerate(latencies)]
    )
    make_session(tenant, function_calls=[call(0, "solo", latency=42)])
    tools = {item.name: item for item in analytics.tool_stats(VoiceSessionQuery.all(tenant))}
    assert tools["search"].p50_ms == pytest.approx(60)  # position 5 of 0..10
    assert tools["search"].p95_ms == pytest.approx(105)  # position 9.5: halfway between 100 and 110
    assert tools["solo"].p50_ms == tools["solo"].p95_ms == pytest.approx(42)


class VoiceSessionQuery:
    @staticmethod
    def all(tenant):
        from sessions_app.selectors import sessions_for

        return sessions_for(tenant=tenant)


def test_recurring_failures_by_category_and_tool(tenant, data):
    taxonomy = failure_categories_for(tenant=tenant)
    by_category, by_tool = analytics.recurring_failures(scoped(tenant), taxonomy=taxonomy)
    s = data
    assert [(item.key, item.fail_sessions, item.needs_work_sessions) for item in by_category] == [
        ("hallucination", 2, 1),
        ("wrong_tool", 1, 0),
    ]  # tts_or_latency was on a passing review: not a recurring failure
    hallucination = by_category[0]
    assert hallucination.first_seen == s["s2"].started_at
    assert hallucination.last_seen == s["s4"].started_at
    assert [example.session_id for example in hallucination.examples] == [s["s4"].pk, s["s3"].pk, s["s2"].pk]
    assert [
        (item.key, item.failed_calls, item.fail_sessions, item.needs_work_sessions) for item in by_tool
    ] == [
        ("lookup_order", 3, 2, 0),
        ("refund", 1, 1, 0),
    ]
    lookup = by_tool[0]
    assert [example.session_id for example in lookup.examples] == [s["s4"].pk, s["s2"].pk]  # s4 once
    assert (lookup.first_seen, lookup.last_seen) == (s["s2"].started_at, s["s4"].started_at)


def test_examples_stop_at_three(tenant, make_session, reviewer):
    failure_categories_for(tenant=tenant)
    sessions = [make_session(tenant, started_at=WEEK1 + dt.timedelta(hours=n)) for n in range(5)]
    for session in sessions:
        evaluation_record(session=session, actor=reviewer, verdict="fail", failure_categories=["asr_error"])
    (row,), _ = analytics.recurring_failures(VoiceSessionQuery.all(tenant))
    assert row.fail_sessions == 5
    assert [example.session_id for example in row.examples] == [session.pk for session in sessions[:1:-1]]


def test_a_re_review_that_passes_clears_the_category(tenant, data, reviewer):
    evaluation_record(session=data["s3"], actor=reviewer, verdict="pass")
    ranked = analytics.failure_categories(scoped(tenant), reviewed=5)
    assert (ranked[0].name, ranked[0].sessions) == ("hallucination", 2)


def test_query_count_is_constant(tenant, data, make_session, reviewer):
    def count():
        with CaptureQueriesContext(connection) as queries:
            analytics.dashboard(
                scoped(tenant),
                taxonomy=[],
                start=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                end=dt.datetime(2026, 11, 16, tzinfo=dt.UTC),
            )
        return len(queries)

    small = count()
    for n in range(12):
        session = make_session(
            tenant,
            started_at=WEEK1 + dt.timedelta(days=n % 12, minutes=n),
            function_calls=[call(0, f"tool_{n % 4}", "failed", 100 + n), call(1, "lookup_order", latency=n)],
        )
        evaluation_record(
            session=session, actor=reviewer, verdict="needs_work", failure_categories=["asr_error", "other"]
        )
    # The last two read the latency the recordings measured and the automatic evaluators' results.
    assert count() == small == (10 if connection.vendor == "postgresql" else 11)


# --- the page -----------------------------------------------------------------------------------


def links(page: str) -> list[tuple[str, int]]:
    return [(html_lib.unescape(href), int(count)) for href, count in LINK.findall(page)]


def test_dashboard_page_shows_the_figures(tenant, data, browser_for):
    response = browser_for(tenant, "viewer").get(f"/review/dashboard/?{RANGE}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-current="page">Dashboard</a>' in page
    assert "dashboard.css" in page
    assert "40.0%" in page  # pass rate 2/5
    low, high = wilson(2, 5).low * 100, wilson(2, 5).high * 100
    assert f"95% interval {low:.1f}\u2013{high:.1f}%" in page
    assert "small sample" in page
    assert "33.3%" in page  # escalation 2/6
    assert "83.3%" in page  # coverage 5/6
    # Ranked categories in order, tools with their percentiles.
    order = [
        page.index(f'data-category="{name}"') for name in ("hallucination", "wrong_tool", "tts_or_latency")
    ]
    assert order == sorted(order)
    assert re.search(r'data-tool="lookup_order".*?data-p50="300\.0".*?data-p95="480\.0"', page, re.S)
    assert "<svg" in page and 'style="' not in page and "<script>" not in page
    assert str(data["s4"].pk)[:8] in page  # an example session of a recurring failure


def test_every_link_lists_exactly_the_counted_sessions(tenant, data, browser_for, api):
    page = browser_for(tenant, "viewer").get(f"/review/dashboard/?{RANGE}").content.decode()
    found = links(page)
    assert len(found) > 40
    checked = {}
    for href, count in found:
        if href in checked:
            assert checked[href] == count, href
            continue
        query = urlsplit(href).query
        response = api.get(f"/api/v1/voice-sessions?{query}&limit=200&count=exact")
        assert response.status_code == 200, (href, response.content)
        assert response.json()["count"] == count, href
        checked[href] = count
    # A few by name, with the exact sessions.
    s = data

    def listed(**filters):
        wanted = {name: [value] for name, value in filters.items()}
        for href, _ in found:
            params = parse_qs(urlsplit(href).query)
            extra = {
                name: value
                for name, value in params.items()
                if name not in ("started_after", "started_before")
            }
            if extra == wanted:
                response = api.get(f"/api/v1/voice-sessions?{urlsplit(href).query}&limit=200")
                return {row["id"] for row in response.json()["data"]}
        raise AssertionError(f"no link for {filters}")

    assert listed(failure_category="hallucination") == ids(s["s2"], s["s3"], s["s4"])
    assert listed(tool="lookup_order", tool_status="failed") == ids(s["s2"], s["s4"])
    assert listed(qa_state="reviewed", verdict="pass") == ids(s["s1"], s["s6"])
    assert listed(escalated="true") == ids(s["s2"], s["s5"])
    assert listed(status="failed") == ids(s["s3"])
    assert listed(qa_state="reviewed", verdict="needs_work", failure_category="hallucination") == ids(s["s3"])
    # The weekly bar for hallucination in the week of Nov 2.
    week = [
        href
        for href, count in found
        if "failure_category=hallucination" in href and "started_after=2026-11-02" in href
    ]
    assert week and "started_before=2026-11-09" in week[0]
    response = api.get(f"/api/v1/voice-sessions?{urlsplit(week[0]).query}")
    assert {row["id"] for row in response.json()["data"]} == ids(s["s2"], s["s3"])


def test_links_open_the_review_list(tenant, data, browser_for):
    client = browser_for(tenant, "viewer")
    page = client.get(f"/review/dashboard/?{RANGE}").content.decode()
    href = next(href for href, count in links(page) if "failure_category=hallucination" in href)
    listing = client.get(href).content.decode()
    for key in ("s2", "s3", "s4"):
        assert f"/review/sessions/{data[key].pk}/" in listing
    assert f"/review/sessions/{data['s1'].pk}/" not in listing


def test_filters_scope_the_figures(tenant, data, browser_for):
    client = browser_for(tenant, "viewer")
    page = client.get(
        f"/review/dashboard/?{RANGE}&prompt_version=v2&agent_key=billing-agent"
    ).content.decode()
    found = dict(links(page))
    total = [
        count
        for href, count in found.items()
        if parse_qs(urlsplit(href).query).keys()
        == {"started_after", "started_before", "prompt_version", "agent_key"}
    ]
    assert total == [3]
    assert all("prompt_version=v2" in href and "agent_key=billing-agent" in href for href in found)
    assert "/review/agents/billing-agent/" in page  # compare versions of the chosen agent


def test_default_range_is_the_last_30_days(tenant, make_session, browser_for):
    now = timezone.now()
    make_session(tenant, started_at=now - dt.timedelta(days=2))
    make_session(tenant, started_at=now - dt.timedelta(days=45))
    page = browser_for(tenant, "viewer").get("/review/dashboard/").content.decode()
    today = now.astimezone(dt.UTC).date()
    assert f'value="{(today - dt.timedelta(days=29)).isoformat()}"' in page
    assert f'value="{(today + dt.timedelta(days=1)).isoformat()}"' in page
    assert 'data-count="1">1</a>' in page  # one session in range
    # Clearing the dates means all time.
    page = (
        browser_for(tenant, "admin").get("/review/dashboard/?started_after=&started_before=").content.decode()
    )
    assert "Open these 2 sessions" in page


def test_empty_state_and_invalid_filters(tenant, browser_for):
    client = browser_for(tenant, "viewer")
    response = client.get(f"/review/dashboard/?{RANGE}")
    assert response.status_code == 200
    assert 'data-testid="dashboard-empty"' in response.content.decode()
    response = client.get("/review/dashboard/?started_after=yesterday")
    assert response.status_code == 400
    assert 'data-testid="filter-errors"' in response.content.decode()


def test_tenant_isolation_and_access(tenant, other_tenant, data, browser_for, make_user):
    theirs = browser_for(other_tenant, "viewer").get(f"/review/dashboard/?{RANGE}").content.decode()
    assert "Open these 1 sessions" in theirs  # only globex's own session
    assert str(data["s4"].pk)[:8] not in theirs
    # A member of another tenant can't open ours; a user with no tenant gets a 404.
    assert (
        browser_for(other_tenant, "admin", "ola").get(f"/review/dashboard/?tenant={tenant.slug}").status_code
        == 404
    )
    nobody = Client()
    nobody.force_login(make_user("nobody"))
    assert nobody.get("/review/dashboard/").status_code == 404
    assert Client().get("/review/dashboard/").status_code == 302  # login first
    # A guest shown one session sees neither the dashboard nor its nav link.
    guest = make_user("guest")
    SessionShare.objects.create(tenant=tenant, session=data["s1"], user=guest)
    client = Client()
    client.force_login(guest)
    assert client.get("/review/dashboard/").status_code == 404
    assert "/review/dashboard/" not in client.get("/review/").content.decode()


def test_page_query_count_is_constant(tenant, data, browser_for, make_session, reviewer):
    client = browser_for(tenant, "viewer")
    client.get(f"/review/dashboard/?{RANGE}")  # warm the agent cache and the session

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/review/dashboard/?{RANGE}&agent_key=billing-agent").status_code == 200
        return len(queries)

    small = count()

    def add(n: int, day: int):
        session = make_session(
            tenant,
            started_at=WEEK2 + dt.timedelta(days=day, minutes=n),
            model=model(f"v{n}"),
            function_calls=[call(0, f"tool_{n}", "failed", n)],
        )
        evaluation_record(session=session, actor=reviewer, verdict="fail", failure_categories=["other"])

    add(0, 0)
    one_stale_day = count()  # the page first recomputes the day the write touched
    assert one_stale_day > small
    for n in range(1, 11):
        add(n, n % 5)
    assert count() == one_stale_day  # five stale days: the same statements
    assert count() == small  # nothing stale again


def test_a_queryset_joining_calls_counts_each_session_once(tenant, data):
    # A filter across a multi-valued relation joins function calls; the figures must not double up.
    joined = scoped(tenant).filter(function_calls__name="lookup_order")
    assert joined.count() == 5  # s4 has two lookup_order calls: the join repeats it
    assert analytics.overview(joined).total == 4
    ranked = analytics.failure_categories(joined, reviewed=4)
    assert [(item.name, item.sessions) for item in ranked] == [("hallucination", 3), ("wrong_tool", 1)]
    tools = {item.name: item for item in analytics.tool_stats(joined)}
    assert (tools["lookup_order"].calls, tools["lookup_order"].sessions) == (5, 4)


def test_boundary_findings_are_counted_by_tool_and_link_to_exactly_those_sessions(tenant, make_session, api):
    from qa_app.contracts import contract_save, finding_acknowledge
    from qa_app.models import ContractFinding
    from sessions_app.actors import SYSTEM

    contract_save(tenant=tenant, agent_key="billing-agent", allowed_tools=["lookup_order"], actor=SYSTEM)
    day = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
    first = make_session(tenant, started_at=day, function_calls=[call(0, "delete_account", "succeeded", 5)])
    second = make_session(
        tenant,
        started_at=day + dt.timedelta(hours=1),
        function_calls=[call(0, "delete_account", "succeeded", 5), call(1, "wipe_disk", "failed", 9)],
    )
    make_session(tenant, started_at=day, function_calls=[call(0, "lookup_order", "succeeded", 5)])
    finding_acknowledge(
        finding=ContractFinding.objects.get(session=first, tool_name="delete_account"),
        actor=SYSTEM,
        note="ok",
    )
    rows = {row.tool: row for row in analytics.boundary_findings(scoped(tenant))}
    assert set(rows) == {"delete_account", "wipe_disk"}
    assert (rows["delete_account"].sessions, rows["delete_account"].open_sessions) == (2, 1)
    assert rows["delete_account"].not_allowed == 2 and rows["delete_account"].args_invalid == 0
    assert [example.session_id for example in rows["delete_account"].examples] == [second.pk]
    listed = api.get("/api/v1/voice-sessions?finding=open&finding_tool=delete_account").json()["data"]
    assert [row["id"] for row in listed] == [str(second.pk)]
    listed = api.get("/api/v1/voice-sessions?finding=any&finding_tool=delete_account").json()["data"]
    assert {row["id"] for row in listed} == {str(first.pk), str(second.pk)}


def test_tool_figures_over_a_whole_tenant_read_its_own_calls_only(tenant, other_tenant, data, make_session):
    """All of a tenant's sessions: the calls are read by tenant, without joining the sessions. The
    figures are the ones the join gives for the same sessions, and another tenant's calls (same
    tool names) never count."""
    make_session(
        other_tenant, function_calls=[call(0, "lookup_order", "failed", 5), call(1, "refund", latency=9)]
    )
    everything = VoiceSessionQuery.all(tenant)
    earliest = everything.order_by("started_at").values_list("started_at", flat=True).first()
    same_sessions = everything.filter(started_at__gte=earliest)
    assert sources._tenant_filter(everything) == (tenant.pk, True)
    assert sources._tenant_filter(same_sessions) == (tenant.pk, False)
    assert sources._tenant_filter(everything.filter(pk__in=same_sessions.values("pk"))) == (
        tenant.pk,
        False,
    )
    by_tenant = analytics.tool_stats(everything)
    assert by_tenant == analytics.tool_stats(same_sessions)
    lookup = {item.name: item for item in by_tenant}["lookup_order"]
    assert (lookup.calls, lookup.failed_calls) == (5, 3)  # the other tenant's failed call is not here
