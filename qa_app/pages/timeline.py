"""One session's timeline: transcript turns and tool calls interleaved in the order they happened.

Built from the API's session document (``sessions_app.presentation``), so the page shows exactly
what the API serves, with the same redaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

SLOW_RESPONSE_MS = 2000


@dataclass
class Entry:
    kind: str  # "turn", "call" or "escalation"
    item: dict[str, Any] = field(default_factory=dict)
    at_ms: int | None = None
    gap_ms: int | None = None  # for agent turns: silence since the caller's previous turn ended
    slow: bool = False
    arguments_json: str = ""
    result_json: str = ""
    findings: list = field(default_factory=list)  # tool-boundary findings on this call
    heard: Any = None  # for agent turns: the response latency the recording measured
    automatic: list = field(default_factory=list)  # automatic evaluators' evidence at this turn or call


def pretty_json(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _call_entry(call: dict[str, Any], at_ms: int | None) -> Entry:
    return Entry(
        kind="call",
        item=call,
        at_ms=at_ms,
        arguments_json=pretty_json(call.get("arguments")),
        result_json=pretty_json(call.get("result")),
    )


def session_timeline(document: dict[str, Any]) -> list[Entry]:
    """Turns in ``seq`` order; each tool call right after the turn that triggered it (``turn_seq``),
    calls without a turn at the end; the escalation marked before the first turn at or after its
    moment, and each long silence the recording heard before the turn that ended it. Agent turns
    carry the gap since the previous caller turn ended: response latency.
    """
    calls_after: dict[int | None, list[dict]] = {}
    turn_seqs = {turn["seq"] for turn in document["transcript"]}
    for call in document["function_calls"]:
        anchor = call.get("turn_seq") if call.get("turn_seq") in turn_seqs else None
        calls_after.setdefault(anchor, []).append(call)

    escalation = document["escalation"]
    escalation_at = escalation.get("at_ms") if escalation.get("escalated") else None
    escalation_placed = not escalation.get("escalated")

    recording = document.get("recording") or {}
    silences = list((recording.get("measured") or {}).get("long_silences") or [])

    entries: list[Entry] = []
    previous_caller_end: int | None = None
    for turn in document["transcript"]:
        start = turn.get("start_ms")
        # A long silence the recording heard, before the first turn that starts after it began.
        while silences and start is not None and start >= silences[0][0]:
            begin, end = silences.pop(0)
            entries.append(Entry(kind="silence", at_ms=begin, gap_ms=end - begin))
        if (
            not escalation_placed
            and escalation_at is not None
            and start is not None
            and start >= escalation_at
        ):
            entries.append(Entry(kind="escalation", item=escalation, at_ms=escalation_at))
            escalation_placed = True
        entry = Entry(kind="turn", item=turn, at_ms=start)
        if turn["role"] == "agent" and previous_caller_end is not None and start is not None:
            entry.gap_ms = max(0, start - previous_caller_end)
            entry.slow = entry.gap_ms > SLOW_RESPONSE_MS
            previous_caller_end = None
        if turn["role"] == "caller":
            previous_caller_end = turn.get("end_ms") if turn.get("end_ms") is not None else start
        entries.append(entry)
        for call in calls_after.get(turn["seq"], []):
            entries.append(_call_entry(call, turn.get("end_ms")))
    for begin, end in silences:
        entries.append(Entry(kind="silence", at_ms=begin, gap_ms=end - begin))
    for call in calls_after.get(None, []):
        entries.append(_call_entry(call, None))
    _place_evidence(entries, document.get("automatic_evaluations") or [])
    if not escalation_placed:
        entries.append(Entry(kind="escalation", item=escalation, at_ms=escalation_at))
    return entries


def _place_evidence(entries: list[Entry], results: list[dict]) -> None:
    """Each automatic result's evidence on the turn or tool call it names (the newest version of
    each evaluator only: results come newest version first)."""
    at = {(e.kind, e.item.get("seq")): e for e in entries if e.kind in ("turn", "call")}
    seen = set()
    for result in results:
        if result["evaluator"] in seen:
            continue
        seen.add(result["evaluator"])
        for item in result["evidence"]:
            entry = at.get((item["target"], item["seq"]))
            if entry is not None:
                entry.automatic.append(
                    {"evaluator": result["evaluator"], "result": result["result"], "note": item["note"]}
                )
