"""Tool figures: calls, failures and latency percentiles per function name."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from qa_app import rollups
from qa_app.analytics.sources import Source, source_of
from qa_app.statistics import Rate, wilson
from sessions_app.models import VoiceSession


@dataclass(frozen=True)
class ToolStats:
    name: str
    calls: int
    failed_calls: int
    sessions: int  # sessions that called the tool
    failed_sessions: int  # sessions with at least one failed call of it
    latency_samples: int  # calls with a recorded latency
    p50_ms: float | None
    p95_ms: float | None

    @property
    def failure_rate(self) -> Rate:
        """Failed calls of all calls (the tool-call failure rate)."""
        return wilson(self.failed_calls, self.calls)

    @property
    def session_failure_rate(self) -> Rate:
        """Sessions with a failed call of the tool, of the sessions that called it."""
        return wilson(self.failed_sessions, self.sessions)


def tool_stats(
    sessions: QuerySet[VoiceSession] | rollups.Scope | Source, *, percentiles: bool = True
) -> list[ToolStats]:
    """Per function name: calls, failures (in calls and in sessions) and latency p50/p95.

    Most failed calls first, then most calls, then name. One GROUP BY query on PostgreSQL, with
    ``percentile_cont`` in it; elsewhere a second query computes the percentiles by rank. Over a
    rollup scope: the day rows' sums, and the percentiles of its latency samples (two queries).
    """
    rows, latencies = source_of(sessions).tool_rows(percentiles=percentiles)
    result = [
        ToolStats(
            name=row["name"],
            calls=row["calls"],
            failed_calls=row["failed_calls"],
            sessions=row["sessions"],
            failed_sessions=row["failed_sessions"],
            latency_samples=row["latency_samples"],
            p50_ms=latencies.get(row["name"], {}).get(0.5),
            p95_ms=latencies.get(row["name"], {}).get(0.95),
        )
        for row in rows
    ]
    return sorted(result, key=lambda item: (-item.failed_calls, -item.calls, item.name))
