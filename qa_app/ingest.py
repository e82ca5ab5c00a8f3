"""Ingest: a session write, and what the judgment derives from it, in one transaction.

The record is written by sessions_app (``records_upsert_many``: merge-by-seq, redaction on
ingest, the changed-day marks); here the same transaction then recomputes the tool-boundary
findings of the written sessions (qa_app.contracts) and attaches the tags their payloads carry.
Every writer of sessions (the API, the importer, the demo) comes through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from qa_app.contracts import sessions_check
from qa_app.evaluators import FINISHED, evaluations_queue
from qa_app.services import sessions_tags_attach
from sessions_app.actors import SYSTEM, Actor
from sessions_app.errors import ServiceError
from sessions_app.models import Tenant
from sessions_app.services import PreparedSession, UpsertResult, Written, records_upsert_many


def sessions_upsert_many(
    *, tenant: Tenant, items: list[Mapping[str, Any] | PreparedSession], actor: Actor = SYSTEM
) -> list[UpsertResult | ServiceError]:
    """Create or update many sessions of one tenant by ``stream_id`` (see ``records_upsert_many``),
    with their contract findings and tags; per item, its UpsertResult or the ServiceError that
    refused it."""

    def judge(written: list[Written]) -> None:
        sessions_check(
            tenant=tenant,
            session_ids=[item.session.pk for item in written],
            new_session_ids={item.session.pk for item in written if item.created},
        )
        tagged = [(item.session, item.payload["tags"]) for item in written if item.payload.get("tags")]
        if tagged:
            sessions_tags_attach(tenant=tenant, pairs=tagged, actor=actor)
        # Finished calls are judged by the automatic evaluators once this commits.
        evaluations_queue(tenant.pk, [item.session.pk for item in written if item.session.status in FINISHED])

    return records_upsert_many(tenant=tenant, items=items, then=judge)


@transaction.atomic(savepoint=False)
def session_upsert(*, tenant: Tenant, data: Mapping[str, Any], actor: Actor = SYSTEM) -> UpsertResult:
    """Create or update one session by ``stream_id``, all or nothing (see ``sessions_upsert_many``).

    Inside a caller's transaction it takes no savepoint of its own: a refusal rolls the caller's
    transaction back too (the API reads the stored document in the same transaction).
    """
    (result,) = sessions_upsert_many(tenant=tenant, items=[data], actor=actor)
    if isinstance(result, ServiceError):
        raise result
    return result
