"""Tags, evaluations (append-only: history is evidence) and review-queue claims."""

from django.conf import settings
from django.db import models

from sessions_app.models import ApiKey, AppendOnlyModel, Tenant, VoiceSession


class Tag(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="tag_name_per_tenant")]

    def __str__(self) -> str:
        return self.name


class TagSource(models.TextChoices):
    API = "api"
    REVIEW = "review"
    INGEST = "ingest"
    IMPORT = "import"


class SessionTag(models.Model):
    """The session-tag link, with who added it, how and when."""

    # No single-column indexes on tenant and session: the composite ones below lead with them.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(
        VoiceSession, on_delete=models.CASCADE, related_name="session_tags", db_index=False
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="session_tags")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=TagSource.choices, default=TagSource.API)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tag__name"]
        constraints = [models.UniqueConstraint(fields=["session", "tag"], name="session_tag_once")]
        indexes = [models.Index(fields=["tenant", "tag", "session"], name="session_tag_tenant_tag")]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.tag_id}"


class Verdict(models.TextChoices):
    PASS = "pass"
    FAIL = "fail"
    NEEDS_WORK = "needs_work"


class Evaluation(AppendOnlyModel):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(VoiceSession, on_delete=models.CASCADE, related_name="evaluations")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the history stays readable after a user or key is gone.
    reviewer_label = models.CharField(max_length=150)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    failure_categories = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="evaluation_tenant_created")]

    def __str__(self) -> str:
        return f"{self.verdict} on {self.session_id}"


class ReviewClaim(models.Model):
    """An analyst's hold on a session handed out by the review queue, so no one else is handed it.

    A session that needs k more reviewers has k slots; each claim takes one (the unique
    constraints settle races between analysts, and one analyst holds a session once). A claim
    lapses at ``expires_at`` so an abandoned tab doesn't hide a session for good.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(
        VoiceSession, on_delete=models.CASCADE, related_name="review_claims", db_index=False
    )
    # None: a gold session's hold, which takes no slot (every reviewer is to review it).
    slot = models.PositiveSmallIntegerField(null=True, default=0)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "slot"], name="claim_slot_once"),
            models.UniqueConstraint(fields=["session", "user"], name="claim_once_per_user"),
        ]
        indexes = [
            models.Index(fields=["tenant", "user"], name="claim_tenant_user"),
            models.Index(fields=["tenant", "expires_at"], name="claim_tenant_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} held by {self.user_id}"
