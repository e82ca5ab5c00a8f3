"""Tags, evaluations, contracts and readiness: the judgment QA produces about sessions.

Evaluations, sign-offs and attestations are append-only (``sessions_app.models.AppendOnlyModel``):
history is evidence, so nothing here updates or deletes them.
"""

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

    One claim per session (the unique constraint settles races between analysts); a claim lapses
    at ``expires_at`` so an abandoned tab doesn't hide a session for good.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    session = models.OneToOneField(VoiceSession, on_delete=models.CASCADE, related_name="review_claim")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "user"], name="claim_tenant_user"),
            models.Index(fields=["tenant", "expires_at"], name="claim_tenant_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} held by {self.user_id}"


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


class AgentContract(models.Model):
    """What an agent is for and what it may do: the reference sessions are checked against.

    ``prompt_version`` empty means every version of the agent without a contract of its own.
    ``allowed_tools`` is a list of ``{"name": str, "schema": JSON Schema | null}``.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    agent_key = models.CharField(max_length=100)
    prompt_version = models.CharField(max_length=64, blank=True, default="")
    purpose = models.TextField(blank=True, default="")
    allowed_intents = models.JSONField(default=list, blank=True)
    allowed_tools = models.JSONField(default=list, blank=True)
    escalation_rules = models.TextField(blank=True, default="")
    refusal_policy = models.TextField(blank=True, default="")
    revision = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "agent_key", "prompt_version"], name="contract_per_agent_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent_key} {self.prompt_version or '(all versions)'}"

    @property
    def tool_names(self) -> list[str]:
        return [tool["name"] for tool in self.allowed_tools]


class FindingKind(models.TextChoices):
    TOOL_NOT_ALLOWED = "tool_not_allowed", "Tool outside the contract"
    TOOL_ARGS_INVALID = "tool_args_invalid", "Arguments break the tool's schema"


class ContractFinding(models.Model):
    """A tool-boundary finding: a session's tool call that its agent's contract doesn't allow.

    Recomputed when a session is written and when its contract changes; a finding that still
    applies keeps its acknowledgement, one that no longer applies disappears.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(VoiceSession, on_delete=models.CASCADE, related_name="findings")
    contract = models.ForeignKey(AgentContract, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=32, choices=FindingKind.choices)
    call_seq = models.PositiveIntegerField()
    tool_name = models.CharField(max_length=128)
    detail = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledgement = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["session_id", "call_seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "call_seq", "kind"], name="finding_once_per_call"),
        ]
        indexes = [
            models.Index(fields=["tenant", "acknowledged_at", "session"], name="finding_tenant_open"),
            models.Index(fields=["tenant", "tool_name"], name="finding_tenant_tool"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.tool_name} in {self.session_id}"


class ReadinessConfig(models.Model):
    """The computed launch gates' thresholds for one agent and prompt version ("" = defaults for all)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    agent_key = models.CharField(max_length=100)
    prompt_version = models.CharField(max_length=64, blank=True, default="")
    min_reviewed = models.PositiveIntegerField(default=30)
    min_pass_rate_lower_bound = models.FloatField(default=0.8)
    critical_window = models.PositiveIntegerField(default=20)
    max_tool_error_rate = models.FloatField(default=0.05)
    require_failure_follow_up = models.BooleanField(default=True)
    require_no_open_findings = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "agent_key", "prompt_version"], name="readiness_config_per_agent_version"
            )
        ]

    def __str__(self) -> str:
        return f"readiness {self.agent_key} {self.prompt_version}"


class Decision(models.TextChoices):
    GO = "go"
    NO_GO = "no_go", "No-go"


class ReadinessSignoff(AppendOnlyModel):
    """A tenant admin's go / no-go, with the gates as they stood: evidence for the launch review."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    agent_key = models.CharField(max_length=100)
    prompt_version = models.CharField(max_length=64, blank=True, default="")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_by_label = models.CharField(max_length=150)
    gates = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["tenant", "agent_key", "prompt_version", "-created_at"], name="signoff_lookup"
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.agent_key} {self.prompt_version}"


class AttestationStatus(models.TextChoices):
    PASSED = "passed"
    FAILED = "failed"
    PENDING = "pending"


class ReadinessAttestation(AppendOnlyModel):
    """A person's record for one of the production launch gates (security, behavior, ops, rollout).

    Append-only: the latest per gate counts, and the history shows who changed it and why.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    agent_key = models.CharField(max_length=100)
    prompt_version = models.CharField(max_length=64, blank=True, default="")
    gate = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=AttestationStatus.choices)
    owner = models.CharField(max_length=150)
    evidence = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["tenant", "agent_key", "prompt_version", "gate", "-created_at"],
                name="attestation_lookup",
            )
        ]

    def __str__(self) -> str:
        return f"{self.gate} {self.status} {self.agent_key} {self.prompt_version}"


# --- dashboard rollups --------------------------------------------------------------------------
# Daily aggregates of the dashboard's figures, per tenant, UTC day of ``started_at``, agent, prompt
# version and model: a year's dashboard sums a few thousand rows instead of grouping every session
# and tool call. They are derived data, rebuilt a day at a time from the sessions (qa_app.rollups):
# a write marks its days changed (sessions_app.changes), and the next read recomputes those days first.


class DayRollup(models.Model):
    """The key every rollup row starts with: the sessions of one tenant, day, agent, prompt and model."""

    # No single-column tenant index: every rollup's indexes lead with the tenant.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    agent_key = models.CharField(max_length=100)
    prompt_version = models.CharField(max_length=64, blank=True)
    model_name = models.CharField(max_length=128, blank=True)

    class Meta:
        abstract = True


class SessionDayStats(DayRollup):
    """Sessions by status, QA state, latest verdict and escalation."""

    status = models.CharField(max_length=16)
    qa_state = models.CharField(max_length=16)
    verdict = models.CharField(max_length=16, blank=True)
    escalated = models.BooleanField()
    sessions = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="session_day_stats_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_key} {self.status}: {self.sessions}"


class FailureDayStats(DayRollup):
    """Sessions whose latest evaluation names a failure category, and the failing ones among them."""

    category = models.CharField(max_length=64)
    sessions = models.PositiveIntegerField()
    fail = models.PositiveIntegerField()
    needs_work = models.PositiveIntegerField()
    first_failing = models.DateTimeField(null=True)  # earliest started_at of the failing sessions
    last_failing = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="failure_day_stats_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_key} {self.category}: {self.sessions}"


class ToolDayStats(DayRollup):
    """Tool calls by function name: calls, failures, the sessions that made them, latency samples."""

    name = models.CharField(max_length=128)
    calls = models.PositiveIntegerField()
    failed_calls = models.PositiveIntegerField()
    sessions = models.PositiveIntegerField()  # a session has one day, so days add up exactly
    failed_sessions = models.PositiveIntegerField()
    latency_samples = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="tool_day_stats_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_key} {self.name}: {self.calls}"


class ToolLatencySample(DayRollup):
    """One tool call's latency, keyed like the rollups: exact percentiles without joining sessions.

    Latencies don't compress by day (a day of one agent holds a handful of calls per tool, nearly
    all with different latencies), so this is one narrow row per call; the index serves
    ``percentile_cont`` in (name, latency) order.
    """

    name = models.CharField(max_length=128)
    latency_ms = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "name", "latency_ms"],
                include=["day", "agent_key", "prompt_version", "model_name"],
                name="tool_latency_sample_order",
            ),
            models.Index(fields=["tenant", "day"], name="tool_latency_sample_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name}: {self.latency_ms} ms"


class InvitationState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"


class TenantInvitation(models.Model):
    """A tenant admin's offer of a role to an existing user, who joins only by accepting it.

    Adding an existing username used to grant the role at once, so any admin could pull any
    user of any tenant into theirs. One pending invitation per tenant and user.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=16, choices=InvitationState.choices, default=InvitationState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user"],
                condition=models.Q(state="pending"),
                name="one_pending_invitation",
            )
        ]
        indexes = [models.Index(fields=["user", "state"], name="invitation_user_state")]

    def __str__(self) -> str:
        return f"{self.user_id} to {self.tenant_id} as {self.role} ({self.state})"
