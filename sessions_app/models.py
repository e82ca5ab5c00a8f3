"""Tenants, their API keys, the voice sessions they persist, and the audit trail.

Every tenant-owned table carries ``tenant_id`` so the schema can later be distributed by tenant
(Citus). Session indexes lead with the tenant and end with the list ordering (``-started_at, id``)
so each filter of the list endpoint is an index range scan in order, with no sort.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from sessions_app.encryption import EncryptedTextField

# The text-search configuration of the session search vector (PostgreSQL).
SEARCH_CONFIG = "english"


def default_failure_taxonomy() -> list[str]:
    """Referenced by migration 0001 only: the taxonomy now lives in ``qa_app.FailureCategory``."""
    return ["other"]


class Tenant(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days to keep raw conversation data; empty keeps it forever."
    )
    redact_on_ingest = models.BooleanField(
        default=False, help_text="Store only redacted text: the raw transcript never reaches the database."
    )
    # Encrypted at rest (it can't be a digest: Twilio signs each webhook with the token itself).
    twilio_auth_token = EncryptedTextField(
        blank=True, default="", help_text="Used to verify X-Twilio-Signature; never displayed in full."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        permissions = [
            ("view_sessions", "View the tenant's sessions (redacted)"),
            ("review_sessions", "Tag and evaluate the tenant's sessions"),
            ("view_raw_transcripts", "View unredacted transcripts and tool payloads"),
            ("manage_api_keys", "Create and revoke the tenant's API keys"),
            ("manage_members", "Manage the tenant's members and roles"),
            ("export_sessions", "Export the tenant's sessions"),
            ("view_audit", "Read the tenant's audit trail"),
        ]

    def __str__(self) -> str:
        return self.slug


class TenantUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign key permission rows: fast joins and no orphans (unlike generic ones)."""

    content_object = models.ForeignKey(Tenant, on_delete=models.CASCADE)


class TenantGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Tenant, on_delete=models.CASCADE)


class Scope(models.TextChoices):
    SESSIONS_READ = "sessions:read", "Read sessions (redacted)"
    SESSIONS_READ_RAW = "sessions:read_raw", "Read sessions unredacted"
    SESSIONS_WRITE = "sessions:write", "Write sessions (ingestion)"
    QA_WRITE = "qa:write", "Tag and evaluate sessions"
    AUDIT_READ = "audit:read", "Read the audit trail"


class ApiKey(models.Model):
    """A tenant-scoped runtime credential. Only the SHA-256 digest of the whole key is stored."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (vsk_{self.prefix}_…)"

    @property
    def label(self) -> str:
        """How the key appears in audit trails and reviewer columns: never the secret."""
        return f"api-key:{self.prefix}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class AdminKey(models.Model):
    """A platform admin credential for ``x-admin-key``, accepted only under /api/v1/admin/."""

    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "platform admin key"

    def __str__(self) -> str:
        return f"{self.name} (vsa_{self.prefix}_…)"

    @property
    def label(self) -> str:
        return f"admin-key:{self.prefix}"


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


class CallEventKind(models.TextChoices):
    CALL_STATUS = "call_status"
    STREAM_STATUS = "stream_status"


class CallLog(models.Model):
    """A Twilio call as its status callbacks describe it, joined to voice sessions by call_sid."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="call_logs")
    call_sid = models.CharField(max_length=64)
    account_sid = models.CharField(max_length=64, blank=True, default="")
    direction = models.CharField(max_length=32, blank=True, default="")
    from_number = models.CharField(max_length=32, blank=True, default="")
    to_number = models.CharField(max_length=32, blank=True, default="")
    status = models.CharField(max_length=32, blank=True, default="")
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    # The SequenceNumber of the callback that set status: a late, older callback can't undo it.
    last_sequence_number = models.IntegerField(null=True, blank=True)
    started_at = models.DateTimeField(help_text="Time of the earliest callback seen for the call.")
    last_event_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "call_sid"], name="call_log_call_sid_per_tenant"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-started_at", "-id"], name="call_log_tenant_order"),
            models.Index(fields=["tenant", "status", "-started_at", "-id"], name="call_log_tenant_status"),
        ]

    def __str__(self) -> str:
        return self.call_sid


class CallEvent(models.Model):
    """One Twilio callback, stored once: a redelivery matches its unique key and is dropped."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    call_log = models.ForeignKey(CallLog, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=CallEventKind.choices)
    call_sid = models.CharField(max_length=64)
    stream_sid = models.CharField(max_length=64, blank=True, default="")
    sequence_number = models.IntegerField(null=True, blank=True)
    event = models.CharField(max_length=32, help_text="CallStatus or StreamEvent.")
    error = models.TextField(blank=True, default="")
    occurred_at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    payload_redacted = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "sequence_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "call_sid", "sequence_number"],
                condition=models.Q(kind="call_status", sequence_number__isnull=False),
                name="call_event_sequence_once",
            ),
            models.UniqueConstraint(
                fields=["tenant", "stream_sid", "event"],
                condition=models.Q(kind="stream_status"),
                name="stream_event_once",
            ),
        ]
        indexes = [
            models.Index(fields=["call_log", "occurred_at"], name="call_event_log_order"),
            models.Index(fields=["tenant", "stream_sid"], name="call_event_stream_sid"),
        ]

    def __str__(self) -> str:
        return f"{self.call_sid} {self.event}"


# --- the audit trail -------------------------------------------------------------------------------
# Append-only: history is evidence, so nothing updates or deletes these records (the managers refuse
# bulk changes, instances refuse a second save, and database triggers refuse raw SQL: migration 0009).


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an append-only record."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} is append-only")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} is append-only")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} is append-only")


class AuditEvent(AppendOnlyModel):
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "alice" or "api-key:AbCd1234" or "system": readable after the actor is gone.
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True, default="")
    target_id = models.CharField(max_length=128, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        # The table kept its name when the model moved here from qa_app (migration 0014).
        db_table = "qa_app_auditevent"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="audit_tenant_created"),
            models.Index(fields=["tenant", "action", "-created_at"], name="audit_tenant_action"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label}"


class ChangedDay(models.Model):
    """A tenant's UTC day of ``started_at`` whose sessions changed since derived figures read it.

    Written by every write that changes what a day holds (sessions_app.changes), read and
    cleared by whatever derives figures from the sessions (qa_app.rollups recomputes them).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    marked_at = models.DateTimeField()

    class Meta:
        # Moved here from qa_app's StaleRollupDay (migration 0015), table and constraint unchanged.
        db_table = "qa_app_stalerollupday"
        constraints = [models.UniqueConstraint(fields=["tenant", "day"], name="stale_rollup_day_once")]

    def __str__(self) -> str:
        return f"{self.tenant_id}:{self.day}"
