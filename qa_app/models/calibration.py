"""Calibrated human review: which calls people review and how many times (rules and demands),
what an admin settles when reviewers disagree (adjudications), and the sessions whose right
verdict an admin knows (gold), mixed into queues to measure each reviewer."""

from django.conf import settings
from django.db import models

from qa_app.models.review import Verdict
from sessions_app.models import AppendOnlyModel, Tenant, VoiceSession


class ReviewRule(models.Model):
    """Which finished calls of an agent (and prompt version) go to the review queue.

    The most specific active rule of a call decides: agent and version, then agent, then the
    tenant's catch-all (both empty). A call is picked when it failed (``every_failed``), was
    escalated (``every_escalated``), failed an automatic evaluator (``every_evaluator_failure``),
    or falls in the ``sample_percent`` sample; a picked call needs ``reviewers`` people, one more
    for ``extra_review_percent`` of them (the share reviewed twice, for agreement).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    agent_key = models.CharField(max_length=100, blank=True, default="")
    prompt_version = models.CharField(max_length=64, blank=True, default="")
    sample_percent = models.FloatField(default=5.0)
    every_failed = models.BooleanField(default=True)
    every_escalated = models.BooleanField(default=True)
    every_evaluator_failure = models.BooleanField(default=False)
    reviewers = models.PositiveSmallIntegerField(default=1)
    extra_review_percent = models.FloatField(default=0.0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agent_key", "prompt_version"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "agent_key", "prompt_version"], name="review_rule_per_scope"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent_key or '*'}/{self.prompt_version or '*'}: {self.sample_percent:g}%"


class DemandReason(models.TextChoices):
    FAILED = "failed", "Failed call"
    ESCALATED = "escalated", "Escalated"
    EVALUATOR = "evaluator", "Failed an automatic evaluator"
    SAMPLED = "sampled", "Sampled"
    # Reviewed though no rule picked it (opened from the list): the row tracks its reviews all the same.
    MANUAL = "manual", "Reviewed without a rule"


class ReviewDemand(models.Model):
    """A call a rule picked for review, and how many people still have to review it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.OneToOneField(VoiceSession, on_delete=models.CASCADE, related_name="review_demand")
    rule = models.ForeignKey(ReviewRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=16, choices=DemandReason.choices)
    reviewers_needed = models.PositiveSmallIntegerField(default=1)
    # reviewers_needed minus the distinct people who have reviewed it; the queue hands out > 0.
    remaining = models.PositiveSmallIntegerField(default=1)
    # Its reviewers' newest verdicts differ and no admin has ruled: in the adjudication queue.
    disputed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "remaining"], name="demand_tenant_remaining"),
            models.Index(fields=["tenant", "disputed"], name="demand_tenant_disputed"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.remaining} of {self.reviewers_needed}"


class Adjudication(AppendOnlyModel):
    """An admin's ruling on a session whose reviewers disagreed; the newest is the session's verdict."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(VoiceSession, on_delete=models.CASCADE, related_name="adjudications")
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    notes = models.TextField(blank=True, default="")
    adjudicator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    adjudicator_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.verdict} on {self.session_id}"


class GoldVerdict(models.Model):
    """A session's known right verdict. Never shown to reviewers: it is how they are measured."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    session = models.OneToOneField(VoiceSession, on_delete=models.CASCADE, related_name="gold_verdict")
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    notes = models.TextField(blank=True, default="")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"gold {self.verdict} on {self.session_id}"
