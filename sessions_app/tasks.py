"""Background jobs of the record (Celery): work that must not hold up the request that caused it.

Each job is queued after its transaction commits (``transaction.on_commit``), so a worker never
looks for a row that isn't there yet, and carries only ids: the job reads the current state and
gives up when it has gone stale.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(
    bind=True,
    name="sessions_app.recording_process",
    max_retries=3,
    default_retry_delay=10,
    acks_late=True,
)
def recording_process_job(self, recording_id: int, generation: int) -> None:
    from sessions_app.services.recordings import recording_process

    try:
        recording_process(recording_id, generation)
    except Exception as error:
        # recording_process has already counted the attempt and gives up on the last one.
        raise self.retry(exc=error) from error
