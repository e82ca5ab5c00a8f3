"""Launch readiness: thresholds per agent version, sign-offs and attested gates (append-only)."""

from django.conf import settings
from django.db import models

from sessions_app.models import AppendOnlyModel, Tenant


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
