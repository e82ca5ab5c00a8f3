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


# Twilio stores a recording a little after the call; the session may be written later still.
FETCH_RETRIES = 8


@shared_task(bind=True, name="sessions_app.recording_fetch", max_retries=FETCH_RETRIES, acks_late=True)
def recording_fetch_job(self, tenant_id: int, job: dict) -> None:
    from sessions_app.services.recordings import FetchLater, recording_fetch

    try:
        recording_fetch(tenant_id, job, last_attempt=self.request.retries >= FETCH_RETRIES)
    except FetchLater as error:
        # 10 s, 20 s, 40 s … up to ten minutes between tries.
        raise self.retry(exc=error, countdown=min(600, 10 * 2**self.request.retries)) from error
