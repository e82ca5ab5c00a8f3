"""Forms of the review pages. Validation that matters lives in the services; these shape input."""

from __future__ import annotations

import json

from django import forms

from qa_app.models import EvaluatorKind, Severity, Verdict
from sessions_app.input_bounds import MAX_JSON_DEPTH, json_value_problem

SCORE_CHOICES = [("", "—")] + [(str(value), str(value)) for value in range(1, 6)]
VERDICT_HINTS = {"pass": "1", "fail": "2", "needs_work": "3"}


class EvaluationForm(forms.Form):
    verdict = forms.ChoiceField(
        label="Verdict",
        choices=[(Verdict.PASS, "Pass"), (Verdict.FAIL, "Fail"), (Verdict.NEEDS_WORK, "Needs work")],
        widget=forms.RadioSelect,
        error_messages={"required": "Pick a verdict: pass, fail or needs work."},
    )
    score = forms.TypedChoiceField(
        label="Score", choices=SCORE_CHOICES, coerce=int, empty_value=None, required=False
    )
    failure_categories = forms.MultipleChoiceField(
        label="Failure categories", required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "What went wrong, what to change…"}),
    )

    def __init__(self, *args, taxonomy, **kwargs):
        """``taxonomy``: the tenant's active FailureCategory rows, in display order."""
        super().__init__(*args, **kwargs)
        self.severities = {category.name: category.severity for category in taxonomy}
        self.fields["failure_categories"].choices = [(category.name, category.label) for category in taxonomy]


class TagForm(forms.Form):
    name = forms.CharField(label="Add tag", max_length=64)


ROLE_CHOICES = [
    ("viewer", "Viewer — reads redacted sessions"),
    ("analyst", "Analyst — also tags and evaluates"),
    ("admin", "Admin — also raw data, keys, members, retention"),
]


class MemberAddForm(forms.Form):
    username = forms.CharField(label="Username", max_length=150)
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES, initial="viewer")
    password = forms.CharField(
        label="Password for a new user",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Only when the user doesn't exist yet; they should change it after signing in.",
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text="What uses it, e.g. “runtime writer (prod)”."
    )
    scopes = forms.MultipleChoiceField(label="Scopes", widget=forms.CheckboxSelectMultiple)
    expires_in_days = forms.IntegerField(
        label="Expires in (days)",
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Empty: never expires.",
    )

    def __init__(self, *args, **kwargs):
        from sessions_app.models import Scope

        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [(scope.value, f"{scope.value} — {scope.label}") for scope in Scope]


class PolicyForm(forms.Form):
    retention_days = forms.IntegerField(
        label="Retention (days)",
        required=False,
        min_value=1,
        max_value=36500,
        help_text="Raw conversation data older than this is purged; empty keeps it forever.",
    )
    redact_on_ingest = forms.BooleanField(label="Redact on ingest (never store raw text)", required=False)


class JudgeEndpointForm(forms.Form):
    """The tenant's OpenAI-compatible endpoint for LLM-judge evaluators; the key is write-only."""

    base_url = forms.CharField(
        label="Base URL", max_length=500, help_text="Requests go to {base URL}/chat/completions."
    )
    model = forms.CharField(label="Model", max_length=200)
    api_key = forms.CharField(
        label="API key",
        required=False,
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Encrypted at rest and never shown again. Leave empty to keep the stored key.",
    )
    clear_key = forms.BooleanField(label="Remove the stored key", required=False)
    timeout_seconds = forms.FloatField(label="Timeout (seconds)", min_value=1, max_value=120, initial=20)

    def cleaned_key(self) -> str | None:
        """None keeps the stored key, "" removes it."""
        if self.cleaned_data.get("clear_key"):
            return ""
        return self.cleaned_data.get("api_key") or None


class ReviewRuleForm(forms.Form):
    """Which calls of an agent (and version) the queue hands to people, and to how many."""

    agent_key = forms.CharField(
        label="Agent", max_length=100, required=False, help_text="Empty: every agent."
    )
    prompt_version = forms.CharField(
        label="Prompt version", max_length=64, required=False, help_text="Empty: every version."
    )
    sample_percent = forms.FloatField(label="Sample (%)", min_value=0, max_value=100, initial=5)
    every_failed = forms.BooleanField(label="Every failed call", required=False, initial=True)
    every_escalated = forms.BooleanField(label="Every escalation", required=False, initial=True)
    every_evaluator_failure = forms.BooleanField(label="Every automatic failure", required=False)
    reviewers = forms.TypedChoiceField(
        label="Reviewers per call", choices=[(1, "1"), (2, "2"), (3, "3")], coerce=int, initial=1
    )
    extra_review_percent = forms.FloatField(
        label="Reviewed once more (%)",
        min_value=0,
        max_value=100,
        initial=0,
        help_text="The share of picked calls that get one more reviewer, to measure agreement.",
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)


class RulingForm(forms.Form):
    """An admin's verdict on a session: an adjudication, or its gold verdict."""

    verdict = forms.ChoiceField(label="Verdict", choices=Verdict.choices)
    notes = forms.CharField(
        label="Notes", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class FailureCategoryForm(forms.Form):
    name = forms.CharField(label="Key", max_length=64, help_text="Stored on evaluations; can't change later.")
    label = forms.CharField(label="Label", max_length=100, required=False)
    severity = forms.ChoiceField(label="Severity", choices=Severity.choices, initial=Severity.MAJOR)
    description = forms.CharField(label="Description", max_length=300, required=False)


class ServiceForm(forms.Form):
    def cleaned_values(self) -> dict:
        """The cleaned data in the units the service takes."""
        return dict(self.cleaned_data)


class SignoffForm(ServiceForm):
    decision = forms.ChoiceField(
        label="Decision", choices=[("go", "Go"), ("no_go", "No-go")], widget=forms.RadioSelect
    )
    comment = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class AttestationForm(ServiceForm):
    gate = forms.ChoiceField(label="Gate", choices=[])
    status = forms.ChoiceField(
        label="Status", choices=[("passed", "Passed"), ("failed", "Failed"), ("pending", "Pending")]
    )
    owner = forms.CharField(label="Owner", max_length=150)
    evidence = forms.CharField(
        label="Evidence", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        from qa_app.readiness import ATTESTED_GATES

        super().__init__(*args, **kwargs)
        self.fields["gate"].choices = [(key, title) for key, title, _ in ATTESTED_GATES]


class ReadinessConfigForm(ServiceForm):
    min_reviewed = forms.IntegerField(label="Minimum reviewed sessions", min_value=1, max_value=100_000)
    min_pass_rate_lower_bound = forms.FloatField(
        label="Pass-rate lower bound at least (%)", min_value=0, max_value=100
    )
    critical_window = forms.IntegerField(
        label="No critical failure in the last N reviews", min_value=1, max_value=10_000
    )
    max_tool_error_rate = forms.FloatField(label="Tool error rate under (%)", min_value=0, max_value=100)
    require_failure_follow_up = forms.BooleanField(
        label="Failed evaluations need a tag or note", required=False
    )
    require_no_open_findings = forms.BooleanField(label="No open tool-boundary findings", required=False)

    RATES = ("min_pass_rate_lower_bound", "max_tool_error_rate")  # percentages here, fractions in the service

    def cleaned_values(self) -> dict:
        values = dict(self.cleaned_data)
        for name in self.RATES:
            values[name] = values[name] / 100
        return values

    def __init__(self, *args, initial=None, **kwargs):
        if initial:
            initial = dict(initial)
            for name in self.RATES:
                if name in initial:
                    initial[name] = round(initial[name] * 100, 2)
        super().__init__(*args, initial=initial, **kwargs)


class _JSONTextField(forms.CharField):
    """JSON of one type typed into a text area, held to what the API holds JSON to
    (``input_bounds``): no NUL, no lone surrogate, 64-bit integers, bounded nesting."""

    json_type: type = list
    noun = "list"
    example = ""

    def to_python(self, value):
        value = super().to_python(value)
        if not value.strip():
            return self.json_type()
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not valid JSON: {error.msg} (line {error.lineno}).") from None
        except RecursionError:
            raise forms.ValidationError(f"Nested deeper than {MAX_JSON_DEPTH} levels.") from None
        if not isinstance(parsed, self.json_type):
            raise forms.ValidationError(f"Give a JSON {self.noun}, e.g. {self.example}.")
        problem = json_value_problem(parsed)
        if problem:
            raise forms.ValidationError(f"Can't be stored: {problem}")
        return parsed


class JSONListField(_JSONTextField):
    json_type = list
    example = '[{"name": "lookup_order", "schema": {...}}]'


class JSONObjectFormField(_JSONTextField):
    json_type = dict
    noun = "object"
    example = '{"max_p95_ms": 1500}'

    def prepare_value(self, value):
        return json.dumps(value, indent=1) if isinstance(value, dict) else value


class ContractForm(forms.Form):
    prompt_version = forms.CharField(
        label="Prompt version",
        max_length=64,
        required=False,
        help_text="Empty: every version without its own.",
    )
    purpose = forms.CharField(label="Purpose", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    allowed_intents = forms.CharField(
        label="Allowed intents",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line.",
    )
    allowed_tools = JSONListField(
        label="Allowed tools",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text='JSON: [{"name": "issue_refund", "schema": {JSON Schema of the arguments, or null}}].',
    )
    escalation_rules = forms.CharField(
        label="Escalation rules", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    refusal_policy = forms.CharField(
        label="Refusal policy", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_allowed_intents(self):
        return [line.strip() for line in self.cleaned_data["allowed_intents"].splitlines() if line.strip()]


class EvaluatorForm(forms.Form):
    """An automatic evaluator of one agent: its name, kind, settings and the versions it covers."""

    name = forms.SlugField(
        label="Name", max_length=64, help_text="Lowercase letters, digits, - and _; names the results."
    )
    kind = forms.ChoiceField(label="Kind", choices=EvaluatorKind.choices)
    config = JSONObjectFormField(
        label="Settings",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=(
            'JSON, e.g. {"max_p95_ms": 1500} or {"phrase": "this call is recorded", "within_agent_turns": 1}.'
        ),
    )
    prompt_versions = forms.MultipleChoiceField(
        label="Prompt versions", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every version.",
    )  # fmt: skip
    readiness_max_fail_percent = forms.FloatField(
        label="Launch gate: at most this many calls fail (%)",
        required=False,
        min_value=0,
        max_value=100,
        help_text="Empty: not a gate. Set: a prompt version is ready only at or under this fail rate.",
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)

    def readiness_max_fail_rate(self) -> float | None:
        percent = self.cleaned_data.get("readiness_max_fail_percent")
        return None if percent is None else percent / 100

    def __init__(self, *args, versions: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prompt_versions"].choices = [(v, v or "(none)") for v in versions]
