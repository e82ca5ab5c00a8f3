"""Automatic evaluators: rules a tenant admin sets per agent, run on every finished call.

An ``Evaluator`` is the named rule; each change makes a new ``EvaluatorVersion`` (its kind, its
settings and which agent versions it covers, frozen), and every ``AutomaticEvaluation`` keeps the
version it came from, so a changed threshold never rewrites what the old one said.
"""

from django.conf import settings
from django.db import models

from sessions_app.encryption import EncryptedTextField
from sessions_app.models import Tenant, VoiceSession


class EvaluatorKind(models.TextChoices):
    RESPONSE_LATENCY = "response_latency", "Response latency limit (p95 per call)"
    LONGEST_SILENCE = "longest_silence", "Longest silence"
    INTERRUPTIONS = "interruptions", "Interruptions"
    TOOL_FAILURE = "tool_failure", "Tool failure"
    REQUIRED_PHRASE = "required_phrase", "Phrase said within the first agent turns"
    FORBIDDEN_PHRASE = "forbidden_phrase", "Phrase never said"
    ESCALATION_ON_REQUEST = "escalation_on_request", "Escalates when the caller asks for a person"
    CALL_LENGTH = "call_length", "Call length"
    CONTRACT_FINDINGS = "contract_findings", "Open contract findings"
    LLM_JUDGE = "llm_judge", "LLM judge (a rubric, over the tenant's chat-completions endpoint)"


class Evaluator(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    name = models.SlugField(max_length=64)
    agent_key = models.CharField(max_length=100)
    # The version in force; its row holds the rule itself.
    current_version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)
    # A launch gate when set: a prompt version is ready only if at most this share of its judged
    # calls fail (qa_app.readiness). Not part of the rule, so changing it makes no new version.
    readiness_max_fail_rate = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agent_key", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="evaluator_name_per_tenant")]
        indexes = [models.Index(fields=["tenant", "agent_key"], name="evaluator_tenant_agent")]

    def __str__(self) -> str:
        return f"{self.name} v{self.current_version}"


class EvaluatorVersion(models.Model):
    """One frozen version of an evaluator. Never updated: a change is a new row."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=32, choices=EvaluatorKind.choices)
    config = models.JSONField(default=dict, blank=True)
    # Empty: every prompt version of the agent.
    prompt_versions = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["evaluator", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["evaluator", "version"], name="evaluator_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.evaluator_id} v{self.version} ({self.kind})"


class AutomaticResult(models.TextChoices):
    PASS = "pass"
    FAIL = "fail"
    # The rule had nothing to judge (no caller asked for a person; no timings to measure).
    NOT_APPLICABLE = "not_applicable"
    # The judge gave no verdict (an LLM that timed out, refused or answered something unreadable).
    ERROR = "error"


class AutomaticEvaluation(models.Model):
    """What one evaluator version said about one session. Evaluating again with the same version
    replaces it; a new version's result sits beside the old one's (history is evidence)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(
        VoiceSession, on_delete=models.CASCADE, related_name="automatic_evaluations", db_index=False
    )
    # No index of their own: every read goes by (tenant, evaluator, result) or by (session, version),
    # and one index fewer to maintain matters at a result per evaluator per call.
    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE, related_name="results", db_index=False)
    evaluator_version = models.ForeignKey(
        EvaluatorVersion, on_delete=models.CASCADE, related_name="results", db_index=False
    )
    result = models.CharField(max_length=16, choices=AutomaticResult.choices)
    score = models.FloatField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True, default="")
    # [{"target": "turn"|"call", "seq": n, "note": "..."}]: where the evaluator looked.
    evidence = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "evaluator_version"], name="automatic_evaluation_per_version"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "evaluator", "result"], name="auto_eval_tenant_result"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.evaluator_id}: {self.result}"


class JudgeEndpoint(models.Model):
    """The OpenAI-compatible chat-completions endpoint a tenant's LLM-judge evaluators call."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="judge_endpoint")
    # The API base, e.g. https://api.openai.com/v1; requests go to {base_url}/chat/completions.
    base_url = models.URLField(max_length=500)
    model = models.CharField(max_length=200)
    # Encrypted at rest: it is sent as is, so it can't be a digest.
    api_key = EncryptedTextField(blank=True, default="")
    timeout_seconds = models.FloatField(default=20.0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.model} at {self.base_url}"
