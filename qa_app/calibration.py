"""Calibrated human review: queue rules, reviewers per call, blind-first, adjudication, gold
sessions, and how far reviewers (and evaluators) agree.

- **Rules** (``ReviewRule``) pick finished calls for review after they are judged: every failed or
  escalated call, every automatic failure, and a fixed share of the rest. The share is decided
  by a hash of the session and the rule, so judging a call again never changes whether it was
  picked. A picked call gets a ``ReviewDemand`` saying how many people must review it.
- **The session's verdict** (``session_settle``), after every evaluation: a gold verdict if an
  admin set one; else the newest adjudication; else, once each reviewer's newest verdict agrees,
  that verdict. Reviewers who disagree make the session *disputed* (verdict "", state
  ``in_review``) until an admin adjudicates it.
- **Blind first** (``is_blind``): a reviewer sees no automatic result and no other review of a
  session until they have submitted their own. Tenant admins, who adjudicate, always see.
- **Gold sessions** are handed out by the queue every ``GOLD_EVERY``-th session, looking like any
  other; a reviewer's first verdict on each is their accuracy.
- **Agreement**: Cohen's kappa of each pair of reviewers over the sessions both reviewed, and of
  each evaluator against the human verdicts; ``reviews_needed`` per agent and prompt version.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from qa_app.models import (
    Adjudication,
    AutomaticEvaluation,
    AutomaticResult,
    DemandReason,
    Evaluation,
    Evaluator,
    GoldVerdict,
    ReviewDemand,
    ReviewRule,
    Verdict,
)
from qa_app.statistics import Agreement, ReviewsNeeded, cohen_kappa, reviews_needed
from sessions_app.actors import SYSTEM, Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.models import QaState, SessionStatus, Tenant, VoiceSession

# Every this many sessions a reviewer is handed, one is a gold session they haven't reviewed.
GOLD_EVERY = 5
MAX_REVIEWERS = 3
FINISHED = (SessionStatus.COMPLETED, SessionStatus.FAILED)
VERDICTS = tuple(Verdict.values)
# Evaluators say pass or fail; a human "needs work" is not a pass.
BINARY = ("pass", "fail")


# --- rules -----------------------------------------------------------------------------------------


def _percent(value, param: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ServiceError(f"{param} is a percentage from 0 to 100.", param=param)
    return float(value)


@transaction.atomic
def review_rule_save(
    *,
    tenant: Tenant,
    agent_key: str = "",
    prompt_version: str = "",
    sample_percent: float = 5.0,
    every_failed: bool = True,
    every_escalated: bool = True,
    every_evaluator_failure: bool = False,
    reviewers: int = 1,
    extra_review_percent: float = 0.0,
    active: bool = True,
    actor: Actor = SYSTEM,
) -> tuple[ReviewRule, bool]:
    """Add or change the rule of one scope (agent and version; empty is every one). Audited.
    Applies to calls judged from now on; returns the rule and whether it is new."""
    agent_key, prompt_version = (agent_key or "").strip(), (prompt_version or "").strip()
    if len(agent_key) > 100:
        raise ServiceError("agent_key is at most 100 characters.", param="agent_key")
    if len(prompt_version) > 64:
        raise ServiceError("prompt_version is at most 64 characters.", param="prompt_version")
    if prompt_version and not agent_key:
        raise ServiceError("A prompt version belongs to an agent: give agent_key too.", param="agent_key")
    values = {
        "sample_percent": _percent(sample_percent, "sample_percent"),
        "extra_review_percent": _percent(extra_review_percent, "extra_review_percent"),
        "every_failed": bool(every_failed),
        "every_escalated": bool(every_escalated),
        "every_evaluator_failure": bool(every_evaluator_failure),
        "active": bool(active),
    }
    if isinstance(reviewers, bool) or not isinstance(reviewers, int) or not 1 <= reviewers <= MAX_REVIEWERS:
        raise ServiceError(f"reviewers is from 1 to {MAX_REVIEWERS}.", param="reviewers")
    if reviewers == MAX_REVIEWERS and values["extra_review_percent"]:
        raise ServiceError(
            f"At {MAX_REVIEWERS} reviewers there is no extra one to add.", param="extra_review_percent"
        )
    values["reviewers"] = reviewers
    rule, created = ReviewRule.objects.select_for_update().get_or_create(
        tenant=tenant, agent_key=agent_key, prompt_version=prompt_version, defaults=values
    )
    before = {name: getattr(rule, name) for name in values}
    if not created:
        if before == values:
            return rule, False
        for name, value in values.items():
            setattr(rule, name, value)
        rule.save()
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.REVIEW_RULE_CHANGED,
        target_type="review_rule",
        target_id=f"{agent_key or '*'}/{prompt_version or '*'}",
        details={"before": {} if created else before, "after": values},
    )
    return rule, created


@transaction.atomic
def review_rule_remove(*, tenant: Tenant, rule_id: int, actor: Actor = SYSTEM) -> bool:
    rule = ReviewRule.objects.filter(tenant=tenant, pk=rule_id).first()
    if rule is None:
        return False
    rule.delete()
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.REVIEW_RULE_CHANGED,
        target_type="review_rule",
        target_id=f"{rule.agent_key or '*'}/{rule.prompt_version or '*'}",
        details={"removed": True},
    )
    return True


def rule_for(rules: Iterable[ReviewRule], agent_key: str, prompt_version: str) -> ReviewRule | None:
    """The most specific active rule covering a call."""
    best, rank = None, -1
    for rule in rules:
        if not rule.active or (rule.agent_key and rule.agent_key != agent_key):
            continue
        if rule.prompt_version and rule.prompt_version != prompt_version:
            continue
        specificity = bool(rule.agent_key) + bool(rule.prompt_version)
        if specificity > rank:
            best, rank = rule, specificity
    return best


def fraction(session_id, salt: str) -> float:
    """A number in [0, 1) fixed by the session and ``salt``: the same call is always in or out."""
    digest = hashlib.blake2b(f"{salt}:{session_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def pick(rule: ReviewRule, session_id, *, failed: bool, escalated: bool, evaluator_failed: bool):
    """(reason, reviewers needed) when the rule picks this call, else None."""
    if failed and rule.every_failed:
        reason = DemandReason.FAILED
    elif escalated and rule.every_escalated:
        reason = DemandReason.ESCALATED
    elif evaluator_failed and rule.every_evaluator_failure:
        reason = DemandReason.EVALUATOR
    elif fraction(session_id, f"sample-{rule.pk}") * 100 < rule.sample_percent:
        reason = DemandReason.SAMPLED
    else:
        return None
    extra = fraction(session_id, f"extra-{rule.pk}") * 100 < rule.extra_review_percent
    return reason, rule.reviewers + extra


def demands_create(tenant_id: int, session_ids: list) -> int:
    """Put the finished calls that the tenant's rules pick into the review queue (calls already
    there keep their demand). Three queries at most; returns how many were added."""
    rules = list(ReviewRule.objects.filter(tenant_id=tenant_id, active=True))
    if not rules or not session_ids:
        return 0
    sessions = list(
        VoiceSession.objects.filter(
            tenant_id=tenant_id, pk__in=session_ids, status__in=FINISHED, review_demand__isnull=True
        ).values_list("pk", "agent_key", "prompt_version", "status", "escalated")
    )
    auto_failed = set()
    if any(rule.every_evaluator_failure for rule in rules) and sessions:
        auto_failed = set(
            AutomaticEvaluation.objects.filter(
                tenant_id=tenant_id,
                session_id__in=[row[0] for row in sessions],
                result=AutomaticResult.FAIL,
                evaluator_version__version=F("evaluator__current_version"),
            ).values_list("session_id", flat=True)
        )
    demands = []
    for pk, agent_key, prompt_version, status, escalated in sessions:
        rule = rule_for(rules, agent_key, prompt_version)
        picked = rule and pick(
            rule,
            pk,
            failed=status == SessionStatus.FAILED,
            escalated=escalated,
            evaluator_failed=pk in auto_failed,
        )
        if picked:
            reason, needed = picked
            demands.append(
                ReviewDemand(
                    tenant_id=tenant_id,
                    session_id=pk,
                    rule=rule,
                    reason=reason,
                    reviewers_needed=needed,
                    remaining=needed,
                )
            )
    return len(ReviewDemand.objects.bulk_create(demands, ignore_conflicts=True))


def calibrated(tenant_id: int) -> bool:
    """Whether the tenant's queue hands out only what its rules picked."""
    return ReviewRule.objects.filter(tenant_id=tenant_id, active=True).exists()


# --- the session's verdict ---------------------------------------------------------------------------


def rater(evaluation: Evaluation) -> tuple[str, object]:
    """Who gave an evaluation, as a key that survives a renamed user."""
    if evaluation.reviewer_id is not None:
        return ("user", evaluation.reviewer_id)
    if evaluation.reviewer_key_id is not None:
        return ("key", evaluation.reviewer_key_id)
    return ("label", evaluation.reviewer_label)


def newest_by_rater(evaluations: Iterable[Evaluation]) -> dict:
    """Each rater's newest evaluation, from evaluations given newest first."""
    newest: dict = {}
    for evaluation in evaluations:
        newest.setdefault(rater(evaluation), evaluation)
    return newest


@dataclass(frozen=True)
class Standing:
    qa_state: str
    verdict: str  # "" while there is none
    disputed: bool
    remaining: int


def standing(*, verdicts: list[str], needed: int, gold: str | None, adjudicated: str | None) -> Standing:
    """Where a session stands, from each rater's newest verdict."""
    remaining = max(0, needed - len(verdicts))
    if gold is not None:
        return Standing(QaState.REVIEWED, gold, False, remaining)
    if adjudicated is not None:
        return Standing(QaState.REVIEWED, adjudicated, False, 0)
    if not verdicts:
        return Standing(QaState.UNREVIEWED, "", False, remaining)
    if len(set(verdicts)) > 1:
        return Standing(QaState.IN_REVIEW, "", True, remaining)
    return Standing(QaState.IN_REVIEW if remaining else QaState.REVIEWED, verdicts[0], False, remaining)


def session_settle(session: VoiceSession) -> Standing:
    """Work out and store the session's state and verdict after a review, a ruling or a gold
    change (inside that change's transaction)."""
    demand = ReviewDemand.objects.select_for_update().filter(session=session).first()
    if demand is None:
        demand = ReviewDemand.objects.create(
            tenant_id=session.tenant_id, session=session, reason=DemandReason.MANUAL, reviewers_needed=1
        )
    newest = newest_by_rater(Evaluation.objects.filter(session=session).order_by("-created_at", "-id"))
    gold = GoldVerdict.objects.filter(session=session).values_list("verdict", flat=True).first()
    adjudicated = (
        Adjudication.objects.filter(session=session)
        .order_by("-created_at", "-id")
        .values_list("verdict", flat=True)
        .first()
    )
    found = standing(
        verdicts=[e.verdict for e in newest.values()],
        needed=demand.reviewers_needed,
        gold=gold,
        adjudicated=adjudicated,
    )
    if (demand.remaining, demand.disputed) != (found.remaining, found.disputed):
        demand.remaining, demand.disputed = found.remaining, found.disputed
        demand.save(update_fields=["remaining", "disputed"])
    VoiceSession.objects.filter(pk=session.pk).update(
        qa_state=found.qa_state, verdict=found.verdict, updated_at=timezone.now()
    )
    session.qa_state, session.verdict = found.qa_state, found.verdict
    return found


@transaction.atomic
def adjudicate(*, session: VoiceSession, verdict: str, notes: str = "", actor: Actor) -> Adjudication:
    """An admin's ruling: it becomes the session's verdict. Audited."""
    if verdict not in Verdict.values:
        raise ServiceError(f"verdict must be one of: {', '.join(Verdict.values)}.", param="verdict")
    if not Evaluation.objects.filter(session=session).exists():
        raise ServiceError(
            "Nobody has reviewed this session: there is nothing to adjudicate.", param="verdict"
        )
    ruling = Adjudication.objects.create(
        tenant_id=session.tenant_id,
        session=session,
        verdict=verdict,
        notes=(notes or "").strip()[:5000],
        adjudicator=actor.user,
        adjudicator_label=actor.label,
    )
    session_settle(session)
    audit_record(
        actor=actor,
        tenant=session.tenant,
        action=AuditAction.ADJUDICATED,
        target_type="voice_session",
        target_id=session.pk,
        details={"verdict": verdict, "adjudication_id": ruling.pk},
    )
    return ruling


@transaction.atomic
def gold_set(*, session: VoiceSession, verdict: str | None, notes: str = "", actor: Actor) -> bool:
    """Mark the session's right verdict (None: no longer gold). Audited; returns whether it changed."""
    current = GoldVerdict.objects.select_for_update().filter(session=session).first()
    if verdict is None:
        if current is None:
            return False
        current.delete()
    else:
        if verdict not in Verdict.values:
            raise ServiceError(f"verdict must be one of: {', '.join(Verdict.values)}.", param="verdict")
        notes = (notes or "").strip()[:5000]
        if current is not None and (current.verdict, current.notes) == (verdict, notes):
            return False
        GoldVerdict.objects.update_or_create(
            session=session,
            defaults={
                "tenant_id": session.tenant_id,
                "verdict": verdict,
                "notes": notes,
                "set_by": actor.user,
            },
        )
    session_settle(session)
    audit_record(
        actor=actor,
        tenant=session.tenant,
        action=AuditAction.GOLD_CHANGED,
        target_type="voice_session",
        target_id=session.pk,
        details={"before": current.verdict if current else None, "after": verdict},
    )
    return True


def is_blind(access, user, session: VoiceSession) -> bool:
    """Whether this reader must review the session before seeing how others (people or
    evaluators) judged it: a reviewer who hasn't submitted, and isn't a tenant admin."""
    if not access.can_review or access.has("manage_members"):
        return False
    return not Evaluation.objects.filter(session=session, reviewer=user).exists()


def gold_due(tenant_id: int, user) -> bool:
    """Whether the next session handed to ``user`` should be a gold one (every GOLD_EVERY-th)."""
    reviewed = (
        Evaluation.objects.filter(tenant_id=tenant_id, reviewer=user).values("session").distinct().count()
    )
    return reviewed % GOLD_EVERY == GOLD_EVERY - 1


# --- agreement --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairAgreement:
    first: str
    second: str
    agreement: Agreement


@dataclass(frozen=True)
class EvaluatorAgreement:
    evaluator: Evaluator
    agreement: Agreement


@dataclass(frozen=True)
class Accuracy:
    reviewer: str
    correct: int
    judged: int

    @property
    def rate(self) -> float | None:
        return self.correct / self.judged if self.judged else None


@dataclass(frozen=True)
class VersionReviews:
    agent_key: str
    prompt_version: str
    needed: ReviewsNeeded


def _ratings(tenant: Tenant) -> tuple[dict, dict]:
    """{session: {rater: verdict}} of each rater's newest verdict, and each rater's display name."""
    by_session: dict = defaultdict(dict)
    names: dict = {}
    for evaluation in (
        Evaluation.objects.filter(tenant=tenant)
        .order_by("-created_at", "-id")
        .only("session_id", "reviewer_id", "reviewer_key_id", "reviewer_label", "verdict")
    ):
        key = rater(evaluation)
        names.setdefault(key, evaluation.reviewer_label)
        by_session[evaluation.session_id].setdefault(key, evaluation.verdict)
    return by_session, names


def reviewer_agreement(tenant: Tenant) -> list[PairAgreement]:
    """Kappa of each pair of reviewers who reviewed a session in common, most sessions first."""
    by_session, names = _ratings(tenant)
    pairs: dict = defaultdict(list)
    for ratings in by_session.values():
        for a, b in itertools.combinations(sorted(ratings, key=lambda key: (names[key], str(key))), 2):
            pairs[(a, b)].append((ratings[a], ratings[b]))
    found = [
        PairAgreement(names[a], names[b], cohen_kappa(labels, VERDICTS)) for (a, b), labels in pairs.items()
    ]
    return sorted(found, key=lambda pair: (-pair.agreement.n, pair.first, pair.second))


def _binary(verdict: str) -> str:
    return "pass" if verdict == Verdict.PASS else "fail"


def evaluator_agreement(tenant: Tenant) -> list[EvaluatorAgreement]:
    """Kappa of each evaluator's current version against the sessions' human verdicts (pass
    against fail or needs work), over the sessions with both."""
    evaluators = list(Evaluator.objects.filter(tenant=tenant).order_by("agent_key", "name"))
    rows = AutomaticEvaluation.objects.filter(
        tenant=tenant,
        evaluator__in=evaluators,
        evaluator_version__version=F("evaluator__current_version"),
        result__in=BINARY,
        session__verdict__isnull=False,
        session__qa_state=QaState.REVIEWED,
    ).values_list("evaluator_id", "result", "session__verdict")
    labels: dict = defaultdict(list)
    for evaluator_id, result, verdict in rows:
        labels[evaluator_id].append((result, _binary(verdict)))
    return [EvaluatorAgreement(e, cohen_kappa(labels.get(e.pk, []), BINARY)) for e in evaluators]


def gold_accuracy(tenant: Tenant) -> list[Accuracy]:
    """Each reviewer's first verdict on each gold session against the gold verdict."""
    gold = dict(GoldVerdict.objects.filter(tenant=tenant).values_list("session_id", "verdict"))
    first: dict = {}
    names: dict = {}
    for evaluation in (
        Evaluation.objects.filter(tenant=tenant, session_id__in=list(gold))
        .order_by("created_at", "id")
        .only("session_id", "reviewer_id", "reviewer_key_id", "reviewer_label", "verdict")
    ):
        key = rater(evaluation)
        names.setdefault(key, evaluation.reviewer_label)
        first.setdefault((key, evaluation.session_id), evaluation.verdict)
    tally: dict = defaultdict(lambda: [0, 0])
    for (key, session_id), verdict in first.items():
        tally[key][0] += verdict == gold[session_id]
        tally[key][1] += 1
    found = [Accuracy(names[key], correct, judged) for key, (correct, judged) in tally.items()]
    return sorted(found, key=lambda a: (a.rate if a.rate is not None else 2, a.reviewer))


def reviews_needed_by_version(tenant: Tenant, margin: float = 0.05) -> list[VersionReviews]:
    """Per agent and prompt version: reviewed sessions, their pass rate, and how many more
    reviews until it is known within ±``margin``."""
    rows = (
        VoiceSession.objects.filter(tenant=tenant, qa_state=QaState.REVIEWED)
        .exclude(verdict="")
        .values("agent_key", "prompt_version")
        .annotate(trials=Count("pk"), passes=Count("pk", filter=Q(verdict=Verdict.PASS)))
        .order_by("agent_key", "prompt_version")
    )
    return [
        VersionReviews(
            row["agent_key"], row["prompt_version"], reviews_needed(row["passes"], row["trials"], margin)
        )
        for row in rows
    ]


def disputed_sessions(tenant: Tenant):
    """The adjudication queue: sessions whose reviewers disagree, oldest dispute first."""
    return (
        VoiceSession.objects.filter(tenant=tenant, review_demand__disputed=True)
        .select_related("review_demand")
        .order_by("started_at", "pk")
    )
