"""What the automatic evaluators said of a set of sessions: per evaluator (its current version),
how many calls it judged, failed, passed, couldn't judge (not applicable) or got no verdict on
(the LLM judge's errors), and its fail rate (failed / judged) with a Wilson interval."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from qa_app.models import AutomaticEvaluation, AutomaticResult
from qa_app.statistics import Rate, wilson
from sessions_app.models import VoiceSession


@dataclass(frozen=True)
class EvaluatorResults:
    name: str
    agent_key: str
    version: int
    judged: int
    failed: int
    passed: int
    not_applicable: int
    errors: int

    @property
    def fail_rate(self) -> Rate:
        return wilson(self.failed, self.judged)


def evaluator_results(sessions: QuerySet[VoiceSession]) -> list[EvaluatorResults]:
    """One query: each evaluator's results over ``sessions``, the highest fail rate first."""
    rows = (
        AutomaticEvaluation.objects.filter(
            session__in=sessions.values("pk"), evaluator_version__version=F("evaluator__current_version")
        )
        .values(
            name=F("evaluator__name"),
            agent_key=F("evaluator__agent_key"),
            version=F("evaluator__current_version"),
        )
        .annotate(
            judged=Count("pk"),
            failed=Count("pk", filter=Q(result=AutomaticResult.FAIL)),
            passed=Count("pk", filter=Q(result=AutomaticResult.PASS)),
            not_applicable=Count("pk", filter=Q(result=AutomaticResult.NOT_APPLICABLE)),
            errors=Count("pk", filter=Q(result=AutomaticResult.ERROR)),
        )
        .order_by()
    )
    found = [EvaluatorResults(**row) for row in rows]
    return sorted(found, key=lambda item: (-(item.failed / item.judged if item.judged else 0), item.name))
