"""The overview: counts by status, QA state and verdict, escalations, and their rates."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from qa_app import rollups
from qa_app.analytics.sources import Source, source_of
from qa_app.models import (
    Verdict,
)
from qa_app.statistics import Rate, wilson
from sessions_app.models import QaState, SessionStatus, VoiceSession


@dataclass(frozen=True)
class Overview:
    total: int
    by_status: dict[str, int]  # every SessionStatus value, in declaration order
    by_qa_state: dict[str, int]  # every QaState value
    verdicts: dict[str, int]  # among reviewed sessions: pass, fail, needs_work
    escalated: int
    coverage: Rate  # reviewed of all sessions
    pass_rate: Rate  # passed of reviewed
    escalation_rate: Rate  # escalated of all sessions

    @property
    def reviewed(self) -> int:
        return self.by_qa_state[QaState.REVIEWED]


def _overview_aggregates(count) -> dict:
    """The overview's aggregates, each ``count(condition)`` (``None``: every row)."""
    reviewed = Q(qa_state=QaState.REVIEWED)
    return {
        "total": count(None),
        "escalated": count(Q(escalated=True)),
        **{f"status_{value}": count(Q(status=value)) for value in SessionStatus.values},
        **{f"qa_{value}": count(Q(qa_state=value)) for value in QaState.values},
        **{f"verdict_{value}": count(reviewed & Q(verdict=value)) for value in Verdict.values},
    }


def overview(sessions: QuerySet[VoiceSession] | rollups.Scope | Source) -> Overview:
    """Counts by status, QA state and verdict, and escalations. One aggregate query.

    Over a rollup scope, the same counts are sums of ``SessionDayStats`` rows.
    """
    source = source_of(sessions)
    counts = source.aggregate(**_overview_aggregates(source.count))
    by_qa_state = {value: counts[f"qa_{value}"] for value in QaState.values}
    verdicts = {value: counts[f"verdict_{value}"] for value in Verdict.values}
    total, reviewed_count = counts["total"], by_qa_state[QaState.REVIEWED]
    return Overview(
        total=total,
        by_status={value: counts[f"status_{value}"] for value in SessionStatus.values},
        by_qa_state=by_qa_state,
        verdicts=verdicts,
        escalated=counts["escalated"],
        coverage=wilson(reviewed_count, total),
        pass_rate=wilson(verdicts[Verdict.PASS], reviewed_count),
        escalation_rate=wilson(counts["escalated"], total),
    )
