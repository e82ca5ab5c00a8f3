"""Agent contracts (the allowed tools and their argument schemas) and the findings against them."""

from django.conf import settings
from django.db import models

from sessions_app.models import Tenant, VoiceSession


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
