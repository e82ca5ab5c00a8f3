"""The demo data behind ``seed_demo``: valid payloads, realistic spread, and reviews that fit the calls."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import statistics
import time
from collections import Counter, defaultdict
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from qa_app.demo.sessions import (
    FAILURE_CATEGORIES,
    XSS_IMG,
    XSS_SCRIPT,
    DemoReview,
    DemoSession,
    generate_demo_sessions,
)
from qa_app.payloads import VoiceSessionSerializer
from qa_app.services import tag_normalize
from sessions_app.models import FunctionCallStatus, SessionStatus, TurnRole
from sessions_app.redaction import find_pii

NOW = dt.datetime(2026, 5, 20, 15, 0, 0, tzinfo=dt.UTC)
TOOLS = {
    "lookup_order",
    "issue_refund",
    "check_availability",
    "book_appointment",
    "cancel_appointment",
    "reset_password",
    "lookup_account",
    "track_shipment",
    "transfer_to_human",
}


@pytest.fixture(scope="module")
def demo() -> list[DemoSession]:
    return generate_demo_sessions(count=240, seed=7, now=NOW)


@pytest.fixture(scope="module")
def payloads(demo) -> list[dict]:
    return [item.payload for item in demo]


def parse(value: str) -> dt.datetime:
    assert value.endswith("Z"), value
    return dt.datetime.fromisoformat(value[:-1] + "+00:00")


def duration_ms(payload: dict) -> int | None:
    if payload["ended_at"] is None:
        return None
    return int((parse(payload["ended_at"]) - parse(payload["started_at"])).total_seconds() * 1000)


def caller_text(payload: dict) -> list[str]:
    return [turn["text"] for turn in payload["transcript"] if turn["role"] == "caller"]


# --- shape and determinism -------------------------------------------------------------------------


def test_count_is_honoured():
    assert len(generate_demo_sessions(now=NOW)) == 240
    assert len(generate_demo_sessions(count=17, now=NOW)) == 17
    assert len(generate_demo_sessions(count=1, now=NOW)) == 1
    assert generate_demo_sessions(count=0, now=NOW) == []


def test_same_seed_and_now_give_the_same_sessions(demo):
    again = generate_demo_sessions(count=240, seed=7, now=NOW)
    assert again == demo
    assert json.dumps([s.payload for s in again]) == json.dumps([s.payload for s in demo])


def test_another_seed_gives_other_sessions(payloads):
    other = [s.payload for s in generate_demo_sessions(count=240, seed=8, now=NOW)]
    assert {p["stream_id"] for p in other}.isdisjoint(p["stream_id"] for p in payloads)
    assert [p["transcript"] for p in other] != [p["transcript"] for p in payloads]


def test_stream_ids_do_not_depend_on_now(payloads):
    """Seeding again later updates the same sessions instead of adding new ones."""
    later = generate_demo_sessions(count=240, seed=7, now=NOW + dt.timedelta(days=9, hours=5))
    assert {s.payload["stream_id"] for s in later} == {p["stream_id"] for p in payloads}


def test_generation_does_not_touch_the_global_random_state():
    import random

    random.seed(1234)
    expected = random.random()
    random.seed(1234)
    generate_demo_sessions(count=20, now=NOW)
    assert random.random() == expected


def test_generation_is_fast():
    started = time.perf_counter()
    generate_demo_sessions(count=240, now=NOW)
    # Typically well under 0.2 s; the bound only catches accidental quadratic work on a busy machine.
    assert time.perf_counter() - started < 2.0


def test_every_payload_is_json_ready_and_valid_for_the_api(payloads):
    for payload in payloads:
        assert json.loads(json.dumps(payload)) == payload
        serializer = VoiceSessionSerializer(data=payload)
        assert serializer.is_valid(), (payload["stream_id"], serializer.errors)


def test_ids_are_twilio_shaped_and_unique(payloads):
    streams = [p["stream_id"] for p in payloads]
    calls = [p["call_sid"] for p in payloads]
    assert all(re.fullmatch(r"MZ[0-9a-f]{32}", s) for s in streams)
    assert all(re.fullmatch(r"CA[0-9a-f]{32}", c) for c in calls)
    assert len(set(streams)) == len(streams)
    assert len(set(calls)) == len(calls)


def test_numbers_are_e164(payloads):
    for payload in payloads:
        assert re.fullmatch(r"\+1\d{10}", payload["from_number"])
        assert re.fullmatch(r"\+1\d{10}", payload["to_number"])
    assert {p["direction"] for p in payloads} == {"inbound", "outbound"}


# --- when, who and what ----------------------------------------------------------------------------


def test_sessions_cover_the_last_month_and_favour_business_hours(payloads):
    starts = [parse(p["started_at"]) for p in payloads]
    assert all(NOW - dt.timedelta(days=30) <= start < NOW for start in starts)
    assert max(starts) - min(starts) > dt.timedelta(days=25)
    for payload in payloads:
        if payload["ended_at"] is not None:
            assert parse(payload["started_at"]) <= parse(payload["ended_at"]) <= NOW
    local = [start.astimezone(ZoneInfo("America/New_York")) for start in starts]
    weekday_share = sum(moment.weekday() < 5 for moment in local) / len(local)
    office_share = sum(8 <= moment.hour < 18 for moment in local) / len(local)
    assert weekday_share > 0.78  # 5 of 7 days would be 0.71
    assert office_share > 0.65  # 10 of 24 hours would be 0.42
    days = Counter(moment.date() for moment in local)
    assert len(days) >= 25


def test_agents_prompt_versions_and_models_allow_comparisons(payloads):
    versions = defaultdict(Counter)
    for payload in payloads:
        versions[payload["agent_key"]][payload["model"]["prompt_version"]] += 1
    assert len(versions) >= 3
    for agent, counts in versions.items():
        assert set(counts) == {"v11", "v12"}, agent
        assert min(counts.values()) >= 10, (agent, counts)
    models = Counter(p["model"]["name"] for p in payloads)
    assert set(models) == {"gpt-4o-realtime", "gpt-4o-mini-realtime"}
    assert min(models.values()) >= 40


def test_billing_v12_fails_review_less_often_than_v11():
    """The prompt-regression story: v12 of the billing agent fixed its refund mistakes."""
    reviews = defaultdict(list)
    for seed in (7, 8, 9):
        for item in generate_demo_sessions(seed=seed, now=NOW):
            if item.review and item.payload["agent_key"] == "billing-agent":
                reviews[item.payload["model"]["prompt_version"]].append(item.review.verdict == "fail")
    v11 = sum(reviews["v11"]) / len(reviews["v11"])
    v12 = sum(reviews["v12"]) / len(reviews["v12"])
    assert v11 > 0.25
    assert v12 < v11 / 2, (v11, v12)


def test_statuses_are_mostly_completed(payloads):
    statuses = Counter(p["status"] for p in payloads)
    assert set(statuses) <= set(SessionStatus.values)
    assert statuses["completed"] / len(payloads) > 0.8
    assert statuses["failed"] >= 3
    for payload in payloads:
        assert (payload["ended_at"] is None) == (payload["status"] == "active")
    for payload in payloads:
        if payload["status"] == "failed":
            assert payload["transcript"][-1]["role"] == "system"


# --- transcripts -------------------------------------------------------------------------------------


def test_transcripts_are_6_to_40_well_formed_turns(payloads):
    lengths = [len(p["transcript"]) for p in payloads]
    assert min(lengths) >= 6
    assert max(lengths) <= 40
    assert max(lengths) - min(lengths) >= 12  # calls vary in length
    for payload in payloads:
        turns = payload["transcript"]
        assert [turn["seq"] for turn in turns] == list(range(len(turns)))
        assert {turn["role"] for turn in turns} <= set(TurnRole.values)
        assert {"agent", "caller"} <= {turn["role"] for turn in turns}
        for turn in turns:
            assert turn["text"].strip()
            assert 0 <= turn["start_ms"] <= turn["end_ms"]
            if turn["role"] == "caller":
                assert 0 < turn["confidence"] <= 1
            if turn["role"] in ("agent", "caller") and len(turn["text"]) > 40:
                assert turn["end_ms"] - turn["start_ms"] >= len(turn["text"]) * 40  # speech takes time
        starts = [turn["start_ms"] for turn in turns]
        assert starts == sorted(starts)
        if duration_ms(payload) is not None:
            assert turns[-1]["end_ms"] <= duration_ms(payload)


def test_agent_response_gaps_are_realistic(payloads):
    gaps = []
    for payload in payloads:
        turns = payload["transcript"]
        gaps += [
            b["start_ms"] - a["end_ms"]
            for a, b in pairwise(turns)
            if a["role"] == "caller" and b["role"] == "agent"
        ]
    assert min(gaps) >= 300
    typical = sum(300 <= gap <= 2500 for gap in gaps) / len(gaps)
    slow = sum(gap > 3000 for gap in gaps) / len(gaps)
    assert typical > 0.8
    assert 0.01 < slow < 0.15


def test_interruptions_cut_the_agent_off_and_overlap(payloads):
    interrupted = 0
    for payload in payloads:
        turns = payload["transcript"]
        for turn, following in pairwise(turns):
            if turn.get("interrupted") and turn["role"] == "agent" and following["role"] == "caller":
                interrupted += 1
                assert turn["text"].endswith("—")
                assert following["start_ms"] < turn["end_ms"]  # the caller barged in
    assert interrupted >= 20


def test_low_confidence_speech_and_silences_appear(payloads):
    low = [p for p in payloads if any(t.get("confidence", 1) < 0.6 for t in p["transcript"])]
    assert len(low) >= 10
    assert any("asr-issue" in p["tags"] for p in low)
    texts = [t["text"] for p in payloads for t in p["transcript"]]
    assert any("still there" in text or "still with me" in text for text in texts)
    assert any("human" in text or "real person" in text for text in texts)


def test_angry_callers_are_heated_but_clean(payloads):
    angry = [p for p in payloads if "angry-caller" in p["tags"]]
    assert len(angry) >= 10
    words = {w.lower().strip(".,!?") for p in payloads for text in caller_text(p) for w in text.split()}
    assert not words & {"damn", "hell", "crap", "shit", "fuck", "bloody"}


# --- tool calls --------------------------------------------------------------------------------------


def test_tool_calls_are_realistic(payloads):
    calls = [call for p in payloads for call in p["function_calls"]]
    assert {call["name"] for call in calls} == TOOLS
    for payload in payloads:
        roles = {turn["seq"]: turn["role"] for turn in payload["transcript"]}
        assert len(payload["function_calls"]) <= 6
        assert [c["seq"] for c in payload["function_calls"]] == list(range(len(payload["function_calls"])))
        for call in payload["function_calls"]:
            assert call["status"] in FunctionCallStatus.values
            assert roles[call["turn_seq"]] == "caller", call  # the turn that triggered it
            assert isinstance(call["arguments"], dict) and call["arguments"]
            if call["status"] == "failed":
                assert call["error"] and call["result"] is None
            else:
                assert call["error"] is None and isinstance(call["result"], dict)
    failed = [call for call in calls if call["status"] == "failed"]
    assert 0.08 <= len(failed) / len(calls) <= 0.18
    assert any("upstream 504 from" in call["error"] for call in failed)
    ok = [call["latency_ms"] for call in calls if call["status"] == "succeeded"]
    assert statistics.fmean(call["latency_ms"] for call in failed) > 3 * statistics.fmean(ok)


def test_some_refunds_do_not_match_the_order(payloads):
    """Wrong-argument refunds exist so failure reviews have something to point at."""
    mismatched = 0
    for payload in payloads:
        totals = {
            call["result"]["order_id"]: call["result"]["total"]
            for call in payload["function_calls"]
            if call["name"] == "lookup_order" and call["result"] and "total" in call["result"]
        }
        for call in payload["function_calls"]:
            if call["name"] == "issue_refund" and call["status"] == "succeeded":
                order_id = call["arguments"]["order_id"]
                if call["arguments"]["amount"] != totals.get(order_id):
                    mismatched += 1
    assert mismatched >= 1


def test_escalations_happen_inside_the_call(payloads):
    escalated = [p for p in payloads if p["escalation"]["escalated"]]
    assert 0.08 <= len(escalated) / len(payloads) <= 0.25
    reasons = Counter(p["escalation"]["reason"] for p in escalated)
    assert "caller requested a human" in reasons
    assert len(reasons) >= 3
    for payload in escalated:
        at_ms = payload["escalation"]["at_ms"]
        elapsed = duration_ms(payload) or (NOW - parse(payload["started_at"])).total_seconds() * 1000
        assert 0 < at_ms <= elapsed
        assert "transfer_to_human" in {call["name"] for call in payload["function_calls"]}
        # The transcript shows it: the agent's handoff ends at at_ms, then the transfer itself.
        turns = payload["transcript"]
        assert any(t["role"] == "agent" and t["end_ms"] == at_ms for t in turns)
        if payload["status"] == "completed":
            assert turns[-1]["role"] == "system" and "transferred" in turns[-1]["text"]
            assert turns[-1]["start_ms"] >= at_ms
    for payload in payloads:
        if not payload["escalation"]["escalated"]:
            assert payload["escalation"] == {"escalated": False, "reason": None, "at_ms": None}


# --- PII and escaping --------------------------------------------------------------------------------


def test_about_a_third_of_the_calls_hold_pii_in_caller_turns(payloads):
    kinds_per_call = [{span.kind for text in caller_text(p) for span in find_pii(text)} for p in payloads]
    share = sum(bool(kinds) for kinds in kinds_per_call) / len(payloads)
    assert 0.2 <= share <= 0.45, share
    assert {"phone", "email", "card", "ssn"} <= set().union(*kinds_per_call)
    texts = " ".join(text for p in payloads for text in caller_text(p))
    assert " dot com" in texts and "@" in texts  # spoken and written emails
    assert re.search(r"\d{3}-\d{3}-\d{4}", texts)  # written phone
    assert re.search(r"(?:(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)[ ,]+){9}", texts)  # spoken
    # Order numbers, prices and times are numbers too, but not PII.
    assert re.search(r"\$\d+\.\d\d", texts) or re.search(r"\$\d+\.\d\d", json.dumps(payloads))


def test_exactly_one_call_carries_the_xss_sample(payloads):
    hits = [p for p in payloads if "<script" in json.dumps(p) or "onerror" in json.dumps(p)]
    assert len(hits) == 1
    (payload,) = hits
    assert any(XSS_SCRIPT in text for text in caller_text(payload))
    assert any(XSS_IMG in json.dumps(call["result"]) for call in payload["function_calls"])
    assert XSS_SCRIPT == "<script>alert('xss')</script>" and XSS_IMG == "<img src=x onerror=alert(1)>"


# --- summaries, tags, metadata ---------------------------------------------------------------------


def test_summaries_tags_and_metadata(payloads):
    tags = Counter()
    for payload in payloads:
        assert len(payload["tags"]) <= 3
        for tag in payload["tags"]:
            assert tag_normalize(tag) == tag
        tags.update(payload["tags"])
        if payload["status"] != "active":
            assert 10 < len(payload["summary"]) < 300
            assert payload["summary"].count(".") <= 3
        assert payload["metadata"]["twilio_region"] == "us1"
        assert payload["metadata"]["campaign"]
    assert {"refund", "double-charge", "angry-caller", "asr-issue", "escalated", "vip"} <= set(tags)
    assert any("escalated" in p["tags"] for p in payloads if p["escalation"]["escalated"])


# --- reviews -------------------------------------------------------------------------------------


def test_reviews_fit_the_calls(demo):
    completed = [item for item in demo if item.payload["status"] == "completed"]
    reviewed = [item for item in demo if item.review is not None]
    assert all(item.payload["status"] == "completed" for item in reviewed)
    assert 0.35 <= len(reviewed) / len(completed) <= 0.55
    verdicts = Counter(item.review.verdict for item in reviewed)
    assert set(verdicts) == {"pass", "fail", "needs_work"}
    for item in reviewed:
        review: DemoReview = item.review
        assert review.reviewer in ("analyst", "admin")
        assert 1 <= review.score <= 5
        assert len(review.notes) > 20
        assert set(review.failure_categories) <= set(FAILURE_CATEGORIES)
        if review.verdict == "pass":
            assert review.failure_categories == [] and review.score >= 4
        else:
            assert review.failure_categories
        if review.verdict == "fail":
            assert review.score <= 2
        if any(call["status"] == "failed" for call in item.payload["function_calls"]):
            assert review.verdict != "pass", item.payload["stream_id"]
        if "missed_escalation" in review.failure_categories:
            assert review.verdict == "fail"


# --- the command -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_loads_sessions_reviews_and_users():
    from django.contrib.auth import get_user_model

    from qa_app.models import Evaluation
    from sessions_app.models import ApiKey, Tenant, VoiceSession

    err = io.StringIO()
    call_command("seed_demo", "--sessions", "30", stdout=io.StringIO(), stderr=err)
    tenant = Tenant.objects.get(slug="demo")
    sessions = VoiceSession.objects.filter(tenant=tenant)
    assert sessions.count() == 30
    assert sessions.filter(turn_count__gte=6).count() == 30
    evaluations = Evaluation.objects.filter(session__tenant=tenant)
    # One first review per reviewed session, then a second reviewer on the analyst's (calibration).
    first = evaluations.exclude(reviewer__username="analyst2")
    assert 0 < first.count() < 30
    assert first.count() == sessions.filter(evaluations__isnull=False).distinct().count()
    assert set(first.values_list("reviewer__username", flat=True)) <= {"analyst", "admin"}
    second = evaluations.filter(reviewer__username="analyst2")
    assert second.count() == first.filter(reviewer__username="analyst").count() > 0
    assert "calibration:" in err.getvalue()
    usernames = set(get_user_model().objects.values_list("username", flat=True))
    assert {"analyst", "admin", "viewer"} <= usernames
    assert ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True).count() == 1
    assert "Demo ready." in err.getvalue()

    # --if-empty keeps the sessions and only issues a fresh key.
    err = io.StringIO()
    call_command("seed_demo", "--if-empty", stdout=io.StringIO(), stderr=err)
    assert sessions.count() == 30
    assert "keeping them" in err.getvalue()
    assert ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_seeding_twice_never_reviews_a_session_twice():
    from django.core.management import call_command

    from qa_app.models import Evaluation

    call_command("seed_demo", "--sessions", "20", stderr=io.StringIO())
    first = Evaluation.objects.count()
    call_command("seed_demo", "--sessions", "20", stderr=io.StringIO())
    assert first > 0 and Evaluation.objects.count() == first
