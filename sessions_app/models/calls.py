"""Twilio calls: a call log per CallSid and the status callbacks (events) that built it."""

from django.db import models

from sessions_app.models.tenancy import Tenant


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
