"""Background jobs of the judgment (Celery): the automatic evaluators, after a write commits."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    bind=True, name="qa_app.sessions_evaluate", max_retries=3, default_retry_delay=15, acks_late=True
)
def sessions_evaluate_job(self, tenant_id: int, session_ids: list[str]) -> int:
    from qa_app.calibration import demands_create
    from qa_app.evaluators import sessions_evaluate

    try:
        judged = sessions_evaluate(tenant_id=tenant_id, session_ids=session_ids)
        # Then the review rules pick calls for people (a rule may pick every automatic failure).
        demands_create(tenant_id, session_ids)
        return judged
    except Exception as error:  # a database hiccup: judged again shortly (results are replaced)
        raise self.retry(exc=error) from error


@shared_task(name="qa_app.agent_backfill", acks_late=True)
def agent_backfill_job(tenant_id: int, agent_key: str, evaluator: str, days: int) -> int:
    """Judge an agent's finished calls of the last ``days`` days with one evaluator (just saved)."""
    import datetime as dt

    from django.utils import timezone

    from qa_app.evaluators import FINISHED, current_versions, sessions_evaluate
    from sessions_app.models import VoiceSession

    versions = [v for v in current_versions(tenant_id) if v.evaluator.name == evaluator]
    if not versions:
        return 0
    ids = list(
        VoiceSession.objects.filter(
            tenant_id=tenant_id,
            agent_key=agent_key,
            status__in=FINISHED,
            started_at__gte=timezone.now() - dt.timedelta(days=days),
        ).values_list("pk", flat=True)
    )
    judged = 0
    for start in range(0, len(ids), 1000):
        judged += sessions_evaluate(
            tenant_id=tenant_id, session_ids=ids[start : start + 1000], versions=versions
        )
    return judged
