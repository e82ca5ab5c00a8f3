"""Writes for QA: tagging sessions and recording evaluations, each with its audit event."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from qa_app.calibration import calibrated, gold_due, session_settle
from qa_app.models import (
    DEFAULT_FAILURE_CATEGORIES,
    Evaluation,
    FailureCategory,
    ReviewClaim,
    SessionFailure,
    SessionTag,
    Severity,
    Tag,
    TagSource,
    Verdict,
)
from qa_app.selectors import failure_categories_for
from sessions_app import changes
from sessions_app.actors import Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.models import QaState, Tenant, VoiceSession

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
    """Attach tags to many sessions at once (ingest and import): two queries whatever the count
    when the tags exist already, three when some are new.

    Tags already on a session are left alone. Names must already be normalized (the API
    serializer does it; ``tag_normalize``).
    """
    wanted = {name for _, names in pairs for name in names}
    if not wanted:
        return
    tags = dict(Tag.objects.filter(tenant=tenant, name__in=wanted).values_list("name", "pk"))
    if len(tags) < len(wanted):
        missing = [Tag(tenant=tenant, name=name) for name in wanted if name not in tags]
        Tag.objects.bulk_create(missing, ignore_conflicts=True)  # a concurrent writer may add some first
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
    offered = [
        category.name for category in failure_categories_for(tenant=session.tenant, include_retired=False)
    ]
    unknown = [category for category in categories if category not in offered]
    if unknown:
        raise ServiceError(
            f"Unknown or retired failure category {unknown[0]!r}; "
            f"the tenant's taxonomy is: {', '.join(offered)}.",
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
    standing = session_settle(session)
    # This reviewer's hold is done; once nobody else is needed, everyone's is.
    holds = ReviewClaim.objects.filter(session=session)
    (holds if not standing.remaining else holds.filter(user=actor.user)).delete()
    # The latest evaluation's categories are the session's failures (a passing re-review clears them).
    SessionFailure.objects.filter(session=session).delete()
    SessionFailure.objects.bulk_create(
        [
            SessionFailure(
                tenant_id=session.tenant_id,
                session=session,
                evaluation=evaluation,
                category=category,
                created_at=evaluation.created_at,
            )
            for category in categories
        ]
    )
    audit_record(
        actor=actor,
        tenant=session.tenant,
        action=AuditAction.EVALUATION_RECORDED,
        target_type="voice_session",
        target_id=session.pk,
        details={"evaluation_id": evaluation.pk, "verdict": verdict},
    )
    changes.mark_changed(session.tenant_id, [session.started_at])  # last: its row lock lasts to the commit
    return evaluation


def queue_claim_next(*, tenant, queryset: QuerySet[VoiceSession], user) -> VoiceSession | None:
    """Hand ``user`` the next session of ``queryset`` they should review, and hold it.

    Without review rules that is the next unreviewed session nobody holds. With rules
    (``qa_app.calibration``) it is the next session the rules picked that still needs reviewers,
    that ``user`` hasn't reviewed, and that fewer people hold than it needs; every GOLD_EVERY-th
    time, a gold session they haven't reviewed comes first, looking like any other.

    The analyst's previous hold is released first (one session at a time). Candidates are taken
    in list order; a session needing k more reviewers has k claim slots, the unique constraints
    decide a race, and the loser moves on to the next slot or candidate, so a session is never
    handed to more people than it needs.
    """
    now = timezone.now()
    ReviewClaim.objects.filter(tenant=tenant, user=user).delete()
    ReviewClaim.objects.filter(tenant=tenant, expires_at__lte=now).delete()
    mine = Evaluation.objects.filter(session_id=OuterRef("pk"), reviewer=user)
    if gold_due(tenant.pk, user):
        gold = queryset.filter(gold_verdict__isnull=False).exclude(Exists(mine)).first()
        if gold is not None:
            # Gold sessions are for everyone: their holds take no slot.
            ReviewClaim.objects.create(
                tenant=tenant, session=gold, user=user, slot=None, expires_at=now + CLAIM_TTL
            )
            return gold
    pending = queue_pending(tenant=tenant, queryset=queryset, user=user)
    while True:
        candidates = list(pending[:QUEUE_CANDIDATES])
        if not candidates:
            return None
        for session in candidates:
            for slot in range(session.slots):
                try:
                    with transaction.atomic():
                        ReviewClaim.objects.create(
                            tenant=tenant, session=session, user=user, slot=slot, expires_at=now + CLAIM_TTL
                        )
                except IntegrityError:
                    continue  # another analyst took this slot a moment ago
                return session


def queue_pending(
    *, tenant, queryset: QuerySet[VoiceSession], user, counting_held: bool = False
) -> QuerySet[VoiceSession]:
    """The sessions of ``queryset`` the queue could hand ``user`` now (gold aside), each annotated
    with its claim ``slots``: what the rules still need that others don't already hold.
    ``counting_held``: also those others hold now (what is left for the queue at all)."""
    held = ReviewClaim.objects.filter(session_id=OuterRef("pk"), slot__isnull=False).exclude(user=user)
    if calibrated(tenant.pk):
        mine = Evaluation.objects.filter(session_id=OuterRef("pk"), reviewer=user)
        pending = queryset.filter(review_demand__remaining__gt=0).exclude(Exists(mine))
        if counting_held:
            return pending
        holders = held.order_by().values("session_id").annotate(n=Count("pk")).values("n")
        return pending.annotate(
            slots=F("review_demand__remaining"), holders=Coalesce(Subquery(holders), 0)
        ).filter(holders__lt=F("slots"))
    pending = queryset.filter(qa_state=QaState.UNREVIEWED)
    if counting_held:
        return pending
    return pending.exclude(Exists(held)).annotate(slots=Value(1))


def claim_holder(*, session: VoiceSession, other_than=None):
    """A live claim on a session (with its user) by someone other than ``other_than``, or None."""
    claims = ReviewClaim.objects.select_related("user").filter(session=session, expires_at__gt=timezone.now())
    if other_than is not None:
        claims = claims.exclude(user=other_than)
    return claims.order_by("claimed_at").first()


CATEGORY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@transaction.atomic
def failure_taxonomy_seed(*, tenant: Tenant) -> int:
    """Give a tenant without a failure taxonomy the default one; returns how many were created.

    Runs when a tenant is created (``tenant_created``), so a read never has to write.
    """
    if FailureCategory.objects.filter(tenant=tenant).exists():
        return 0
    created = FailureCategory.objects.bulk_create(
        [
            FailureCategory(
                tenant=tenant, name=name, label=label, severity=severity, description=text, position=position
            )
            for position, (name, label, severity, text) in enumerate(DEFAULT_FAILURE_CATEGORIES)
        ],
        ignore_conflicts=True,
    )
    return len(created)


def tenant_created(sender, instance: Tenant, created: bool, raw: bool = False, **kwargs) -> None:
    """``post_save`` of a Tenant: the record creates tenants, and the judgment adds its defaults
    (fixtures being loaded, ``raw``, bring their own rows)."""
    if created and not raw:
        failure_taxonomy_seed(tenant=instance)


def failure_category_save(
    *, tenant, name: str, label: str, severity: str, description: str = "", actor: Actor
) -> tuple[FailureCategory, bool]:
    """Add a category, or relabel / re-grade an existing one (its name, the key evaluations store,
    never changes). Returns the category and whether it is new. Audited with before and after."""
    if not CATEGORY_NAME.match(name or ""):
        raise ServiceError(
            "A category name is lowercase letters, digits and '_', starting with a letter.", param="name"
        )
    if severity not in Severity.values:
        raise ServiceError(f"severity must be one of: {', '.join(Severity.values)}.", param="severity")
    label = (label or "").strip() or name.replace("_", " ").capitalize()
    categories = {category.name: category for category in failure_categories_for(tenant=tenant)}
    category = categories.get(name)
    before = (
        {"label": category.label, "severity": category.severity, "description": category.description}
        if category
        else None
    )
    if category is None:
        category = FailureCategory.objects.create(
            tenant=tenant,
            name=name,
            label=label,
            severity=severity,
            description=description,
            position=max((c.position for c in categories.values()), default=-1) + 1,
        )
    else:
        category.label, category.severity, category.description = label, severity, description
        category.save(update_fields=["label", "severity", "description"])
    after = {"label": label, "severity": severity, "description": description}
    if before != after:
        audit_record(
            actor=actor,
            tenant=tenant,
            action=AuditAction.TAXONOMY_CHANGED,
            target_type="failure_category",
            target_id=name,
            details={"before": before, "after": after},
        )
    return category, before is None


@transaction.atomic
def failure_category_retire(*, tenant, name: str, retired: bool, actor: Actor) -> bool:
    """Retire a category (no longer offered to reviewers; old evaluations keep it) or bring it back."""
    category = FailureCategory.objects.filter(tenant=tenant, name=name).first()
    if category is None:
        raise ServiceError(f"No failure category {name!r}.", param="name", code="not_found")
    if (category.retired_at is not None) == retired:
        return False
    category.retired_at = timezone.now() if retired else None
    category.save(update_fields=["retired_at"])
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.TAXONOMY_CHANGED,
        target_type="failure_category",
        target_id=name,
        details={"retired": retired},
    )
    return True
