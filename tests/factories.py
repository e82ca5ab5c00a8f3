"""Test data builders. Sessions go through the ingest service, so tests exercise the real write path."""

from __future__ import annotations

import datetime as dt
import itertools

import factory

from sessions_app.models import Tenant

_counter = itertools.count(1)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda tenant: tenant.slug.title())


def session_payload(**overrides) -> dict:
    """A valid POST payload for a completed four-turn call with one tool call; override any key."""
    n = next(_counter)
    started = overrides.pop(
        "started_at", dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=n)
    )
    payload = {
        "stream_id": f"MZ{n:032x}",
        "call_sid": f"CA{n:032x}",
        "agent_key": "billing-agent",
        "status": "completed",
        "direction": "inbound",
        "from_number": "+14155550123",
        "to_number": "+14155550100",
        "started_at": started,
        "ended_at": started + dt.timedelta(seconds=95),
        "model": {"provider": "openai", "name": "gpt-4o-realtime", "prompt_version": "v12", "params": {}},
        "voice": {"provider": "elevenlabs", "voice": "rachel", "stt": "deepgram-nova-3", "language": "en-US"},
        "transcript": [
            {
                "seq": 0,
                "role": "agent",
                "text": "Thanks for calling Acme billing, how can I help?",
                "start_ms": 0,
                "end_ms": 2500,
            },
            {
                "seq": 1,
                "role": "caller",
                "text": "I was charged twice for order 58213.",
                "start_ms": 3100,
                "end_ms": 5600,
                "confidence": 0.93,
            },
            {
                "seq": 2,
                "role": "agent",
                "text": "Let me look that up for you.",
                "start_ms": 6200,
                "end_ms": 7800,
            },
            {
                "seq": 3,
                "role": "agent",
                "text": "I see the duplicate charge and have refunded it.",
                "start_ms": 9000,
                "end_ms": 12500,
            },
        ],
        "function_calls": [
            {
                "seq": 0,
                "turn_seq": 1,
                "name": "lookup_order",
                "arguments": {"order_id": "58213"},
                "result": {"status": "charged_twice"},
                "status": "succeeded",
                "error": None,
                "latency_ms": 310,
            },
        ],
        "escalation": {"escalated": False, "reason": None, "at_ms": None},
        "summary": "Caller was double charged; duplicate refunded.",
        "tags": [],
        "metadata": {},
    }
    payload.update(overrides)
    return payload


def as_json(payload: dict) -> dict:
    """The payload with datetimes as ISO strings, as a client would send it."""

    def convert(value):
        if isinstance(value, dt.datetime):
            return value.isoformat().replace("+00:00", "Z")
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        return value

    return convert(payload)
