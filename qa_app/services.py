"""Writes for QA: tagging sessions and recording evaluations, each with its audit event."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from qa_app.audit import AuditAction, audit_record
from qa_app.models import Evaluation, ReviewClaim, SessionTag, Tag, TagSource, Verdict
from sessions_app.actors import Actor
from sessions_app.models import QaState, VoiceSession
from sessions_app.services import ServiceError

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")
SCORE_RANGE = range(1, 6)
CLAIM_TTL = dt.timedelta(minutes=20)
QUEUE_CANDIDATES = 25


def tag_normalize(name: str) -> str:
    """Tags compare case-insensitively and use dashes for spaces: "Angry Caller" -> "angry-caller"."""
    normalized = re.sub(r"\s+", "-", (name or "").strip().lower())
    if not TAG_PATTERN.match(normalized):
        raise ServiceError(
            "A tag is 1-64 characters (letters, digits, '-', '_', '.', ':') starting with a letter or digit.",
            param="name",
        )
    return normalized


def _source_for(actor: Actor) -> str:
    return TagSource.REVIEW if actor.user is not None else TagSource.API


def sessions_tags_attach(
    *, tenant, pairs: list[tuple[VoiceSession, Iterable[str]]], actor: Actor, source: str | None = None
) -> None:
    """Attach tags to many sessions at once (ingest and import): three queries whatever the count.

    Tags already on a session are left alone. Names must already be normalized (the API
    serializer does it; ``tag_normalize``).
    """
    wanted = {name for _, names in pairs for name in names}
    if not wanted:
        return
    Tag.objects.bulk_create([Tag(tenant=tenant, name=name) for name in wanted], ignore_conflicts=True)
    tags = dict(Tag.objects.filter(tenant=tenant, name__in=wanted).values_list("name", "pk"))
    SessionTag.objects.bulk_create(
        [
            SessionTag(
                tenant=tenant,
                session=session,
                tag_id=tags[name],
                added_by=actor.user,
                added_by_key=actor.api_key,
                source=source or TagSource.INGEST,
            )
            for session, names in pairs
            for name in dict.fromkeys(names)
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def session_tag_add(*, session: VoiceSession, name: str, actor: Actor) -> tuple[str, bool]:
    """Tag a session. Returns the normalized name and whether the link is new (a re-add is a no-op)."""
    normalized = tag_normalize(name)
    tag, _ = Tag.objects.get_or_create(tenant_id=session.tenant_id, name=normalized)
    _, created = SessionTag.objects.get_or_create(
        session=session,
        tag=tag,
        defaults={
            "tenant_id": session.tenant_id,
            "added_by": actor.user,
            "added_by_key": actor.api_key,
            "source": _source_for(actor),
        },
    )
    if created:
        audit_record(
            actor=actor,
            tenant=session.tenant,
            action=AuditAction.TAG_ADDED,
            target_type="voice_session",
            target_id=session.pk,
            details={"tag": normalized},
        )
    return normalized, created


@transaction.atomic
def session_tag_remove(*, session: VoiceSession, name: str, actor: Actor) -> bool:
    """Remove a tag from a session. Returns False when the session did not carry it."""
    normalized = (name or "").strip().lower()
    deleted, _ = SessionTag.objects.filter(session=session, tag__name=normalized).delete()
    if deleted:
        audit_record(
            actor=actor,
            tenant=session.tenant,
            action=AuditAction.TAG_REMOVED,
            target_type="voice_session",
            target_id=session.pk,
            details={"tag": normalized},
        )
    return bool(deleted)


@transaction.atomic
def evaluation_record(
    *,
    session: VoiceSession,
    actor: Actor,
    verdict: str,
    score: int | None = None,
    failure_categories: Iterable[str] = (),
    notes: str = "",
) -> Evaluation:
    """Append an evaluation and mark the session reviewed.

    Failure categories must come from the tenant's taxonomy, so trend charts stay comparable.
    """
    if verdict not in Verdict.values:
        raise ServiceError(f"verdict must be one of: {', '.join(Verdict.values)}.", param="verdict")
    if score is not None and score not in SCORE_RANGE:
        raise ServiceError("score must be an integer from 1 to 5.", param="score")
    categories = list(dict.fromkeys(failure_categories))
    taxonomy = session.tenant.failure_taxonomy
    unknown = [category for category in categories if category not in taxonomy]
    if unknown:
        raise ServiceError(
            f"Unknown failure category {unknown[0]!r}; the tenant's taxonomy is: {', '.join(taxonomy)}.",
            param="failure_categories",
        )
    evaluation = Evaluation.objects.create(
        tenant_id=session.tenant_id,
        session=session,
        reviewer=actor.user,
        reviewer_key=actor.api_key,
        reviewer_label=actor.label,
        verdict=verdict,
        score=score,
        failure_categories=categories,
        notes=notes or "",
    )
    VoiceSession.objects.filter(pk=session.pk).update(
        qa_state=QaState.REVIEWED, verdict=verdict, updated_at=timezone.now()
    )
    session.qa_state, session.verdict = QaState.REVIEWED, verdict
    ReviewClaim.objects.filter(session=session).delete()  # reviewed: the queue's hold is done
    audit_record(
        actor=actor,
        tenant=session.tenant,
        action=AuditAction.EVALUATION_RECORDED,
        target_type="voice_session",
        target_id=session.pk,
        details={"evaluation_id": evaluation.pk, "verdict": verdict},
    )
    return evaluation


def queue_claim_next(*, tenant, queryset: QuerySet[VoiceSession], user) -> VoiceSession | None:
    """Hand ``user`` the next unreviewed session of ``queryset`` that nobody else holds, and hold it.

    The analyst's previous hold is released first (one session at a time). Candidates are taken
    in list order; the one-claim-per-session constraint decides a race, and the loser simply
    moves on to the next candidate, so two analysts are never handed the same session.
    """
    now = timezone.now()
    ReviewClaim.objects.filter(tenant=tenant, user=user).delete()
    ReviewClaim.objects.filter(tenant=tenant, expires_at__lte=now).delete()
    held = ReviewClaim.objects.filter(session_id=OuterRef("pk"))
    while True:
        candidates = list(
            queryset.filter(qa_state=QaState.UNREVIEWED).exclude(Exists(held))[:QUEUE_CANDIDATES]
        )
        if not candidates:
            return None
        for session in candidates:
            try:
                with transaction.atomic():
                    ReviewClaim.objects.create(
                        tenant=tenant, session=session, user=user, expires_at=now + CLAIM_TTL
                    )
            except IntegrityError:
                continue  # another analyst took it a moment ago
            return session


def claim_holder(*, session: VoiceSession):
    """The live claim on a session (with its user), or None."""
    return (
        ReviewClaim.objects.select_related("user")
        .filter(session=session, expires_at__gt=timezone.now())
        .first()
    )


def claim_release(*, session: VoiceSession, user) -> None:
    ReviewClaim.objects.filter(session=session, user=user).delete()
