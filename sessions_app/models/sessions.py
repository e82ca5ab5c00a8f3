"""Voice sessions, their transcript turns and function calls, and sessions shared with a guest.

Session indexes lead with the tenant and end with the list ordering (``-started_at, id``) so each
filter of the list endpoint is an index range scan in order, with no sort."""

import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models

from sessions_app.models.tenancy import Tenant

# The text-search configuration of the session search vector (PostgreSQL).
SEARCH_CONFIG = "english"


class SessionStatus(models.TextChoices):
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"


class QaState(models.TextChoices):
    UNREVIEWED = "unreviewed"
    IN_REVIEW = "in_review"
    REVIEWED = "reviewed"


class Direction(models.TextChoices):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


def _ordered_index(*fields: str, name: str) -> models.Index:
    return models.Index(fields=["tenant", *fields, "-started_at", "id"], name=name)


class VoiceSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: every (tenant, ...) index below leads with it.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sessions", db_index=False)
    stream_id = models.CharField(max_length=64)
    call_sid = models.CharField(max_length=64, blank=True, default="")
    agent_key = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=SessionStatus.choices, default=SessionStatus.ACTIVE)
    qa_state = models.CharField(max_length=16, choices=QaState.choices, default=QaState.UNREVIEWED)
    direction = models.CharField(max_length=16, choices=Direction.choices, default=Direction.INBOUND)
    from_number = models.CharField(max_length=32, blank=True, default="")
    to_number = models.CharField(max_length=32, blank=True, default="")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    model_provider = models.CharField(max_length=64, blank=True, default="")
    model_name = models.CharField(max_length=128, blank=True, default="")
    prompt_version = models.CharField(max_length=64, blank=True, default="")
    model_params = models.JSONField(default=dict, blank=True)

    tts_provider = models.CharField(max_length=64, blank=True, default="")
    voice_name = models.CharField(max_length=128, blank=True, default="")
    stt_provider = models.CharField(max_length=64, blank=True, default="")
    language = models.CharField(max_length=32, blank=True, default="")

    escalated = models.BooleanField(default=False)
    escalation_reason = models.TextField(null=True, blank=True)
    escalation_reason_redacted = models.TextField(null=True, blank=True)
    escalation_at_ms = models.PositiveIntegerField(null=True, blank=True)

    summary = models.TextField(blank=True, default="")
    summary_redacted = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    metadata_redacted = models.JSONField(default=dict, blank=True)

    # PostgreSQL full text over the redacted summary and transcript, kept in sync by the ingest
    # service and GIN-indexed (migration 0002). Unused (null) on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

    # The verdict of the latest evaluation ("" until reviewed), kept by evaluation_record so lists
    # and dashboards filter and group by it without a subquery per row.
    verdict = models.CharField(max_length=16, blank=True, default="")

    # Maintained by the ingest service so list pages never count child rows per row.
    turn_count = models.PositiveIntegerField(default=0)
    function_call_count = models.PositiveIntegerField(default=0)
    failed_function_call_count = models.PositiveIntegerField(default=0)

    # Set when retention removed the raw conversation; the stub keeps metadata, tags, evaluations.
    purged_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "stream_id"], name="session_stream_id_per_tenant"),
        ]
        indexes = [
            _ordered_index(name="session_tenant_order"),
            _ordered_index("status", name="session_tenant_status"),
            _ordered_index("qa_state", name="session_tenant_qa_state"),
            _ordered_index("agent_key", name="session_tenant_agent"),
            _ordered_index("agent_key", "prompt_version", name="session_tenant_agent_prompt"),
            _ordered_index("verdict", name="session_tenant_verdict"),
            _ordered_index("call_sid", name="session_tenant_call_sid"),
            # Escalations are the rare case worth an index; "not escalated" reads the order index.
            models.Index(
                fields=["tenant", "-started_at", "id"],
                condition=models.Q(escalated=True),
                name="session_tenant_escalated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_key} {self.stream_id}"


class TurnRole(models.TextChoices):
    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"
    TOOL = "tool"


class TranscriptTurn(models.Model):
    # Turns are read by session (the unique (session, seq) index serves that, in order); single-
    # column indexes on either key would only slow the inserts, ~12 per session.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(VoiceSession, on_delete=models.CASCADE, related_name="turns", db_index=False)
    seq = models.PositiveIntegerField()
    role = models.CharField(max_length=16, choices=TurnRole.choices)
    text = models.TextField(blank=True, default="")
    text_redacted = models.TextField(blank=True, default="")
    start_ms = models.PositiveIntegerField(null=True, blank=True)
    end_ms = models.PositiveIntegerField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    interrupted = models.BooleanField(default=False)
    # The recogniser's word timings, [{"text", "start_ms", "end_ms"}], when the writer sends them:
    # they place PII inside the turn, so the redacted recording bleeps only those words.
    words = models.JSONField(null=True, blank=True)
    words_redacted = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="turn_seq_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.seq} {self.role}"


class FunctionCallStatus(models.TextChoices):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class FunctionCall(models.Model):
    # As for turns: (session, seq) and (tenant, name, status) serve every read.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(
        VoiceSession, on_delete=models.CASCADE, related_name="function_calls", db_index=False
    )
    seq = models.PositiveIntegerField()
    turn_seq = models.PositiveIntegerField(null=True, blank=True)
    name = models.CharField(max_length=128)
    arguments = models.JSONField(default=dict, blank=True)
    arguments_redacted = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    result_redacted = models.JSONField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=FunctionCallStatus.choices, default=FunctionCallStatus.SUCCEEDED
    )
    error = models.TextField(null=True, blank=True)
    error_redacted = models.TextField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="function_call_seq_per_session"),
        ]
        indexes = [
            # Covering (PostgreSQL): per-tool figures over a whole tenant read only this index.
            models.Index(
                fields=["tenant", "name", "status"],
                include=["session", "latency_ms"],
                name="function_call_tenant_name",
            )
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.seq} {self.name}"


class SessionShare(models.Model):
    """One session shared with one user who need not hold any tenant role (an outside reviewer)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(VoiceSession, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_shares"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="session_share_once")]
        indexes = [models.Index(fields=["user", "tenant"], name="session_share_user_tenant")]

    def __str__(self) -> str:
        return f"{self.session_id} shared with {self.user_id}"
