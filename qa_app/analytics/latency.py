"""Response latency as the recordings heard it: per agent and prompt version, the p50 and p95 of
the measured gap from the caller's end of speech to the agent's first sound, how many turns were
measured, and how many of them disagree with the pipeline's own timings (flagged).

Percentiles are continuous (linear interpolation between the nearest ranks, as the tool figures'
are): PostgreSQL computes them in the GROUP BY; elsewhere the measured values are read in order
and interpolated here (development databases hold few).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from qa_app.analytics.sources import PercentileCont
from sessions_app.db import is_postgresql
from sessions_app.models import RecordingTurnTiming, VoiceSession


@dataclass(frozen=True)
class MeasuredLatency:
    agent_key: str
    prompt_version: str
    turns: int  # agent turns with a measured response
    flagged: int  # of them, where the audio and the pipeline's timings differ beyond the threshold
    sessions: int
    p50_ms: float | None
    p95_ms: float | None


def _interpolated(ordered: list[int], p: float) -> float | None:
    if not ordered:
        return None
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def measured_latency(sessions: QuerySet[VoiceSession]) -> list[MeasuredLatency]:
    """One query: the figures per agent and prompt version of ``sessions``, slowest p95 first."""
    timings = RecordingTurnTiming.objects.filter(session__in=sessions.values("pk"), measured_ms__isnull=False)
    group = timings.values(agent_key=F("session__agent_key"), prompt_version=F("session__prompt_version"))
    counts = {
        "turns": Count("pk"),
        "flagged": Count("pk", filter=Q(flagged=True)),
        "sessions": Count("session", distinct=True),
    }
    if is_postgresql(timings.db):
        rows = group.annotate(**counts, percentiles=PercentileCont("measured_ms", [0.5, 0.95])).order_by()
        result = [
            MeasuredLatency(
                row["agent_key"],
                row["prompt_version"],
                row["turns"],
                row["flagged"],
                row["sessions"],
                *row["percentiles"],
            )
            for row in rows
        ]
    else:
        values: dict[tuple, list[int]] = defaultdict(list)
        flagged: dict[tuple, int] = defaultdict(int)
        seen: dict[tuple, set] = defaultdict(set)
        for agent, version, measured, flag, session_id in timings.order_by("measured_ms").values_list(
            "session__agent_key", "session__prompt_version", "measured_ms", "flagged", "session_id"
        ):
            values[(agent, version)].append(measured)
            flagged[(agent, version)] += bool(flag)
            seen[(agent, version)].add(session_id)
        result = [
            MeasuredLatency(
                agent,
                version,
                len(ordered),
                flagged[(agent, version)],
                len(seen[(agent, version)]),
                _interpolated(ordered, 0.5),
                _interpolated(ordered, 0.95),
            )
            for (agent, version), ordered in values.items()
        ]
    return sorted(result, key=lambda item: (-(item.p95_ms or 0), item.agent_key, item.prompt_version))
