"""The failure taxonomy: categories per tenant, with the default set, and each session's failures."""

from django.db import models

from qa_app.models.review import Evaluation
from sessions_app.models import Tenant, VoiceSession


class Severity(models.TextChoices):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


# The taxonomy a tenant starts from: (name, label, severity, description).
DEFAULT_FAILURE_CATEGORIES = [
    ("wrong_tool", "Wrong tool", Severity.MAJOR, "Called a tool that doesn't fit the caller's request."),
    ("wrong_tool_args", "Wrong tool arguments", Severity.MAJOR, "Right tool, wrong or malformed arguments."),
    ("hallucination", "Hallucination", Severity.CRITICAL, "Stated something untrue or not backed by a tool."),
    ("missed_escalation", "Missed escalation", Severity.CRITICAL, "Should have handed off to a person."),
    ("unnecessary_escalation", "Unnecessary escalation", Severity.MINOR, "Handed off a call it could solve."),
    ("policy_violation", "Policy violation", Severity.CRITICAL, "Broke a business, legal or safety policy."),
    ("asr_error", "Speech recognition error", Severity.MINOR, "Misheard the caller."),
    ("tts_or_latency", "Voice or latency", Severity.MINOR, "Slow replies, talk-over, bad speech."),
    ("caller_abandoned", "Caller abandoned", Severity.MINOR, "The caller hung up before resolution."),
    ("other", "Other", Severity.MINOR, "Anything else; say what in the notes."),
]
SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.MAJOR: 1, Severity.MINOR: 2}


class FailureCategory(models.Model):
    """One entry of a tenant's failure taxonomy.

    ``name`` is the stable key that evaluations store, so relabelling never breaks history; a
    retired category is no longer offered to reviewers but old evaluations keep showing it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="failure_categories")
    name = models.SlugField(max_length=64)
    label = models.CharField(max_length=100)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.MAJOR)
    description = models.CharField(max_length=300, blank=True, default="")
    position = models.PositiveSmallIntegerField(default=0)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "failure categories"
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="failure_category_per_tenant")]

    def __str__(self) -> str:
        return self.name


class SessionFailure(models.Model):
    """A failure category of a session's latest evaluation: what dashboards count and lists filter by.

    Kept by ``evaluation_record``: a new evaluation replaces the session's rows, so a re-review
    that passes clears them, and counts never double up across evaluations.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(VoiceSession, on_delete=models.CASCADE, related_name="failures")
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "category"], name="session_failure_once"),
        ]
        indexes = [
            models.Index(fields=["tenant", "category", "session"], name="session_failure_category"),
            models.Index(fields=["tenant", "created_at"], name="session_failure_created"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.category}"
