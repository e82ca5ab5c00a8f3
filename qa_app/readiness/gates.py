"""What a launch must pass: the attested production gates of the checklist, the thresholds a
computed gate is held to, and the shapes of a gate and of a version's readiness."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qa_app.models import (
    ReadinessConfig,
    ReadinessSignoff,
)

EXAMPLES = 5

# The production gates of the launch checklist, recorded by people: (key, title, required evidence).
ATTESTED_GATES: list[tuple[str, str, list[str]]] = [
    (
        "security_review",
        "Security review",
        [
            "Credential scopes: runtime writers hold sessions:write only; readers and admins apart",
            "Twilio signature verification on for every webhook",
            "PII handling: redaction on, retention set, raw access limited to named people",
        ],
    ),
    (
        "agent_behavior",
        "Agent behavior",
        [
            "Approved prompt version and model",
            "Approved voice (TTS) and speech recognition (STT)",
            "Allowed tools match the agent contract",
            "Escalation language reviewed",
        ],
    ),
    (
        "operational_readiness",
        "Operational readiness",
        ["Dashboards", "Alerts on error and escalation rates", "Runbooks", "A named support owner"],
    ),
    (
        "rollout_approval",
        "Rollout approval",
        ["Traffic limits for the first stage", "Rollback plan", "Stop conditions"],
    ),
]
ATTESTED_KEYS = [key for key, _, _ in ATTESTED_GATES]


@dataclass
class Gate:
    key: str
    title: str
    kind: str  # "computed" or "attested"
    passed: bool
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url of the sessions behind it)
    examples: list[str] = field(default_factory=list)  # session ids
    required_evidence: list[str] = field(default_factory=list)
    status: str = ""  # attested gates: passed / failed / pending
    owner: str = ""
    recorded_by: str = ""
    recorded_at: Any = None


@dataclass
class Readiness:
    agent_key: str
    prompt_version: str
    config: ReadinessConfig
    gates: list[Gate]
    signoff: ReadinessSignoff | None
    broken_since_signoff: list[str]

    @property
    def ready(self) -> bool:
        return all(gate.passed for gate in self.gates)

    @property
    def passed_count(self) -> int:
        return sum(1 for gate in self.gates if gate.passed)

    @property
    def signoff_valid(self) -> bool | None:
        if self.signoff is None:
            return None
        return not self.broken_since_signoff

    @property
    def computed(self) -> list[Gate]:
        return [gate for gate in self.gates if gate.kind == "computed"]

    @property
    def attested(self) -> list[Gate]:
        return [gate for gate in self.gates if gate.kind == "attested"]


THRESHOLDS = (
    "min_reviewed",
    "min_pass_rate_lower_bound",
    "critical_window",
    "max_tool_error_rate",
    "require_failure_follow_up",
    "require_no_open_findings",
)
