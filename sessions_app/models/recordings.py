"""A session's call recording, the redacted rendition made from it, and what the audio measured.

The media lives in the ``recordings`` storage (``STORAGES``: local files by default, an
S3-compatible bucket in production), never at a public URL: the app serves it per tenant and role.
``raw_name`` is the file as received; ``redacted_name`` the rendition in which every span of PII is
a tone, which is all a reader without raw access ever hears.
"""

from django.db import models

from sessions_app.models.sessions import VoiceSession
from sessions_app.models.tenancy import Tenant


class RecordingStatus(models.TextChoices):
    # Stored, waiting for the background worker (or, from Twilio, for its media to be fetched).
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    # Retention removed the media; the row keeps the duration and what was measured.
    PURGED = "purged"


class RecordingSource(models.TextChoices):
    UPLOAD = "upload"
    TWILIO = "twilio"


class Recording(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.OneToOneField(VoiceSession, on_delete=models.CASCADE, related_name="recording")
    status = models.CharField(max_length=16, choices=RecordingStatus.choices, default=RecordingStatus.PENDING)
    source = models.CharField(max_length=16, choices=RecordingSource.choices, default=RecordingSource.UPLOAD)
    # Bumped by every new upload or fetch; a background job that finds another generation is stale.
    generation = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)

    content_type = models.CharField(max_length=64, blank=True, default="")
    # Which speaker each channel holds, in channel order ("caller,agent"; a mono file: "mixed").
    channel_roles = models.CharField(max_length=64, default="caller,agent")
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")

    raw_name = models.CharField(max_length=255, blank=True, default="")
    redacted_name = models.CharField(max_length=255, blank=True, default="")
    redacted_size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    # [[start_ms, end_ms], ...] replaced by the tone in the rendition, and the turns that had PII but
    # no timings to place it (their whole turn is bleeped; without the turn's times, all of it).
    bleeped_spans = models.JSONField(default=list, blank=True)
    # Waveform peaks per channel, so the player draws without downloading the audio.
    peaks = models.JSONField(default=list, blank=True)

    # Measured from a two-channel recording (null for mono): response latency per agent turn is in
    # ``RecordingTurnTiming``; these summarise it for lists and filters.
    response_p50_ms = models.PositiveIntegerField(null=True, blank=True)
    response_p95_ms = models.PositiveIntegerField(null=True, blank=True)
    response_max_ms = models.PositiveIntegerField(null=True, blank=True)
    talk_over_ms = models.PositiveIntegerField(null=True, blank=True)
    longest_silence_ms = models.PositiveIntegerField(null=True, blank=True)
    # [[start_ms, end_ms], ...]: stretches inside the call where neither side spoke for at least
    # RECORDING_LONG_SILENCE_MS.
    silences = models.JSONField(default=list, blank=True)
    flagged_turns = models.PositiveIntegerField(default=0)

    # From Twilio's recording-status callback.
    provider_sid = models.CharField(max_length=64, blank=True, default="")
    source_url = models.URLField(max_length=500, blank=True, default="")

    processed_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "response_max_ms"], name="recording_tenant_latency"),
            models.Index(fields=["tenant", "provider_sid"], name="recording_tenant_provider_sid"),
        ]

    def __str__(self) -> str:
        return f"recording of {self.session_id} ({self.status})"


class RecordingTurnTiming(models.Model):
    """One agent turn as the audio heard it: the gap from the caller's end of speech to the agent's
    first sound, beside the gap the pipeline's own turn timings report."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(VoiceSession, on_delete=models.CASCADE, related_name="+", db_index=False)
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="turn_timings")
    turn_seq = models.PositiveIntegerField()
    caller_end_ms = models.PositiveIntegerField(null=True, blank=True)
    agent_start_ms = models.PositiveIntegerField(null=True, blank=True)
    measured_ms = models.IntegerField(null=True, blank=True)
    reported_ms = models.IntegerField(null=True, blank=True)
    talk_over_ms = models.PositiveIntegerField(default=0)
    # |measured - reported| > RECORDING_LATENCY_FLAG_MS.
    flagged = models.BooleanField(default=False)

    class Meta:
        ordering = ["session", "turn_seq"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "turn_seq"], name="recording_turn_timing_once"),
        ]
        indexes = [models.Index(fields=["session", "turn_seq"], name="recording_timing_session")]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.turn_seq} {self.measured_ms} ms"
