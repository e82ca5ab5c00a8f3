"""Cursor pagination and cheap counts: correct links whatever the count mode."""

import datetime as dt

import pytest
from django.db import connection

URL = "/api/v1/voice-sessions"
pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def sessions(tenant, make_session):
    """Eleven sessions, two of them sharing a start time (ties order by id)."""
    made = [make_session(tenant, started_at=T0 + dt.timedelta(minutes=i)) for i in range(9)]
    made += [make_session(tenant, started_at=T0 + dt.timedelta(minutes=4)) for _ in range(2)]
    return made


def expected_order(sessions):
    return [str(s.pk) for s in sorted(sessions, key=lambda s: (-s.started_at.timestamp(), str(s.pk)))]


def walk(api, url, params=None, direction="next"):
    seen, pages = [], 0
    while url:
        body = api.get(url, params).json()
        params = None
        seen.extend(item["id"] for item in body["data"])
        url = body[direction]
        pages += 1
        assert pages < 50
    return seen, pages


def test_cursor_walk_visits_every_row_once_in_order(api, sessions):
    seen, pages = walk(api, URL, {"cursor": "", "limit": 3})
    assert seen == expected_order(sessions)
    assert pages == 4


def test_cursor_walk_backwards_returns_the_same_pages(api, sessions):
    forward = []
    url, params = URL, {"cursor": "", "limit": 3}
    while True:
        body = api.get(url, params).json()
        params = None
        forward.append([item["id"] for item in body["data"]])
        if not body["next"]:
            break
        url = body["next"]
    backward = []
    url = body["previous"]
    while url:
        page = api.get(url).json()
        backward.append([item["id"] for item in page["data"]])
        url = page["previous"]
    assert list(reversed(backward)) == forward[:-1]


def test_cursor_mode_envelope(api, sessions):
    body = api.get(URL, {"cursor": "", "limit": 5}).json()
    assert body["offset"] is None
    assert body["count"] == 11
    assert body["previous"] is None
    assert "cursor=" in body["next"]


def test_offset_walk_matches_cursor_walk(api, sessions):
    seen, _ = walk(api, URL, {"limit": 4})
    assert seen == expected_order(sessions)


def test_next_link_is_right_without_counting(api, sessions, settings):
    settings.API_EXACT_COUNT_THRESHOLD = 3
    body = api.get(URL, {"limit": 10}).json()
    assert body["next"] is not None
    last = api.get(body["next"]).json()
    assert len(last["data"]) == 1 and last["next"] is None


def test_count_is_exact_below_threshold_and_estimated_beyond_it_on_postgresql(api, sessions, settings):
    settings.API_EXACT_COUNT_THRESHOLD = 3
    body = api.get(URL, {"limit": 5}).json()
    if connection.vendor == "postgresql":
        assert body["count_exact"] is False
        assert body["count"] >= 4
    else:  # SQLite, the development database, always counts exactly
        assert (body["count"], body["count_exact"]) == (11, True)
    exact = api.get(URL, {"limit": 5, "count": "exact"}).json()
    assert (exact["count"], exact["count_exact"]) == (11, True)
    settings.API_EXACT_COUNT_THRESHOLD = 100
    assert api.get(URL, {"limit": 5}).json()["count_exact"] is True


def test_the_last_page_counts_its_own_rows(api, sessions, settings):
    """From the start or an offset, the last page's count is exact without a count query."""
    from django.test.utils import CaptureQueriesContext

    settings.API_EXACT_COUNT_THRESHOLD = 3  # would otherwise be an estimate on PostgreSQL
    for params, count in (({}, 11), ({"limit": 4, "offset": 8}, 11), ({"cursor": ""}, 11)):
        with CaptureQueriesContext(connection) as captured:
            body = api.get(URL, params).json()
        assert (body["count"], body["count_exact"], body["next"]) == (count, True, None)
        assert not [
            q for q in captured.captured_queries if "COUNT(" in q["sql"].upper() or "EXPLAIN" in q["sql"]
        ]
    past_the_end = api.get(URL, {"offset": 50}).json()  # no rows: the offset proves nothing
    assert past_the_end["data"] == [] and past_the_end["count"] != 50
    if connection.vendor != "postgresql":  # counted, not estimated
        assert (past_the_end["count"], past_the_end["count_exact"]) == (11, True)
    assert api.get(URL, {"offset": 50, "count": "exact"}).json()["count"] == 11


def test_a_count_far_beyond_the_threshold_trusts_the_planner_and_reads_no_rows(api, sessions, settings):
    from django.test.utils import CaptureQueriesContext

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    settings.API_EXACT_COUNT_THRESHOLD = 1
    with CaptureQueriesContext(connection) as captured:
        body = api.get(URL, {"limit": 2}).json()
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    if connection.vendor == "postgresql":
        assert body["count_exact"] is False and body["count"] >= 4
        assert counts == []  # the estimate (> 3x the threshold) was enough: no rows counted
    else:  # SQLite, the development database, always counts exactly
        assert (body["count"], body["count_exact"], len(counts)) == (11, True, 1)
    assert body["next"] is not None  # links never depend on the count


def test_a_repeated_list_reuses_the_planner_estimate_until_it_expires(api, sessions, settings, monkeypatch):
    """The same filtered list asked again within ESTIMATE_TTL_SECONDS runs no EXPLAIN; another
    filter, or the same one after the TTL, asks the planner again. SQLite counts every time."""
    from django.test.utils import CaptureQueriesContext

    from sessions_app.db import planner

    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    settings.API_EXACT_COUNT_THRESHOLD = 1
    clock = [1_000.0]
    monkeypatch.setattr(planner.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(planner, "_estimates", {})

    def explains(params) -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as captured:
            body = api.get(URL, params).json()
        return sum("EXPLAIN" in q["sql"] for q in captured.captured_queries), body

    first_explains, first = explains({"limit": 2})
    again_explains, again = explains({"limit": 2, "offset": 2})
    filtered_explains, _ = explains({"limit": 2, "status": "completed"})  # another query, its own estimate
    clock[0] += planner.ESTIMATE_TTL_SECONDS + 1
    expired_explains, _ = explains({"limit": 2})
    if postgres:
        assert (first_explains, again_explains, filtered_explains, expired_explains) == (1, 0, 1, 1)
        assert again["count"] == first["count"] and again["count_exact"] is False
    else:  # SQLite, the development database, always counts exactly
        assert (first_explains, again_explains, filtered_explains, expired_explains) == (0, 0, 0, 0)
        assert (again["count"], again["count_exact"]) == (11, True)
