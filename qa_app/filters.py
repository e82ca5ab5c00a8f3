"""The one filter definition for session lists (the API list and export, the review pages, the
export command and the dashboard share it), and the audit trail's (the API and the audit page)."""

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from qa_app import selectors as qa_selectors
from qa_app.models import AutomaticResult
from sessions_app import selectors
from sessions_app.filters import (
    BOOLEAN_CHOICES,
    BooleanChoiceFilter,
    FastFilterSet,
    MultipleCharField,
    UtcIsoDateTimeFilter,
    choice_error,
)
from sessions_app.models import AuditEvent, FunctionCallStatus, QaState, SessionStatus, VoiceSession

STATUS_CHOICES = [*SessionStatus.choices, ("reviewed", "Reviewed")]
FINDING_CHOICES = [("open", "Open"), ("any", "Any")]
MAX_FILTER_MS = 86_400_000  # a day
AUTOMATIC_RESULT_CHOICES = AutomaticResult.choices
VERDICT_CHOICES = [("pass", "Pass"), ("fail", "Fail"), ("needs_work", "Needs work")]


class AuditEventFilterSet(filters.FilterSet):
    action = filters.CharFilter(help_text="Exact action, e.g. session.raw_revealed or api_key.created.")
    actor = filters.CharFilter(
        field_name="actor_label", help_text="A username, api-key:PREFIX or admin-key:PREFIX."
    )
    target_type = filters.CharFilter(help_text="voice_session, api_key, user, tenant, …")
    target_id = filters.CharFilter()
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", help_text="ISO 8601, inclusive.")
    until = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", help_text="ISO 8601, exclusive.")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "target_type", "target_id", "since", "until"]


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class AllTagsFilter(filters.Filter):
    field_class = MultipleCharField

    def filter(self, queryset, value):
        for name in value or []:
            queryset = qa_selectors.sessions_with_tag(queryset, name.lower())
        return queryset


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_FILTER_MS})
class MillisecondsFilter(filters.NumberFilter):
    field_class = forms.IntegerField


class VoiceSessionFilterSet(FastFilterSet):
    status = filters.ChoiceFilter(
        choices=STATUS_CHOICES,
        method="filter_status",
        help_text="active, completed or failed call outcome; reviewed means qa_state=reviewed.",
        error_messages=choice_error("status", STATUS_CHOICES),
    )
    stream_id = filters.CharFilter(help_text="Exact media stream id (joins a realtime stream to a session).")
    call_sid = filters.CharFilter(help_text="Exact Twilio CallSid (joins call state and call logs).")
    agent_key = filters.CharFilter(help_text="Exact agent key.")
    tag = AllTagsFilter(help_text="Sessions carrying this tag; repeat the parameter to require several.")
    qa_state = filters.ChoiceFilter(
        choices=QaState.choices,
        help_text="unreviewed, in_review or reviewed.",
        error_messages=choice_error("qa_state", QaState.choices),
    )
    started_after = UtcIsoDateTimeFilter(
        field_name="started_at", lookup_expr="gte", help_text="ISO 8601; sessions started at or after."
    )
    started_before = UtcIsoDateTimeFilter(
        field_name="started_at",
        lookup_expr="lt",
        help_text="ISO 8601; sessions started before. An empty window matches nothing.",
    )
    escalated = BooleanChoiceFilter(
        choices=BOOLEAN_CHOICES,
        method="filter_escalated",
        help_text="true or false.",
        error_messages=choice_error("escalated", BOOLEAN_CHOICES),
    )
    q = filters.CharFilter(method="filter_text", help_text="Text in the transcript or the summary.")
    prompt_version = filters.CharFilter(
        help_text="Exact prompt version (with agent_key, for prompt comparisons)."
    )
    model_name = filters.CharFilter(help_text="Exact model name.")
    verdict = filters.ChoiceFilter(
        choices=[(value, label) for value, label in VERDICT_CHOICES],
        help_text="The latest evaluation's verdict: pass, fail or needs_work.",
        error_messages=choice_error("verdict", VERDICT_CHOICES),
    )
    failure_category = filters.CharFilter(
        method="filter_failure_category",
        help_text="Sessions whose latest evaluation names this failure category (e.g. hallucination).",
    )
    finding = filters.ChoiceFilter(
        choices=FINDING_CHOICES,
        method="filter_finding",
        help_text="open: sessions with unacknowledged tool-boundary findings; any: with findings at all.",
        error_messages=choice_error("finding", FINDING_CHOICES),
    )
    finding_tool = filters.CharFilter(
        method="filter_finding_tool",
        help_text="Sessions with a tool-boundary finding on this tool (with finding=open: open ones only).",
    )
    tool = filters.CharFilter(method="filter_tool", help_text="Sessions that called this function (by name).")
    tool_status = filters.ChoiceFilter(
        choices=FunctionCallStatus.choices,
        method="filter_tool_status",
        help_text="With tool: only calls with this status (succeeded or failed); alone: any such call.",
        error_messages=choice_error("tool_status", FunctionCallStatus.choices),
    )
    evaluator = filters.CharFilter(
        method="filter_evaluator",
        help_text="Sessions this automatic evaluator judged (with evaluator_result: with that result).",
    )
    evaluator_result = filters.ChoiceFilter(
        choices=AUTOMATIC_RESULT_CHOICES,
        method="filter_evaluator_result",
        help_text="pass, fail, not_applicable or error: of the evaluator named, or alone of any evaluator.",
        error_messages=choice_error("evaluator_result", AUTOMATIC_RESULT_CHOICES),
    )
    latency_over_ms = MillisecondsFilter(
        method="filter_latency_over",
        min_value=0,
        max_value=MAX_FILTER_MS,
        help_text=(
            "Sessions whose recording measured an agent response slower than this many ms (the gap "
            "from the caller's end of speech to the agent's first sound)."
        ),
    )

    class Meta:
        model = VoiceSession
        fields = [
            "status",
            "stream_id",
            "call_sid",
            "agent_key",
            "tag",
            "qa_state",
            "started_after",
            "started_before",
            "escalated",
            "q",
            "prompt_version",
            "model_name",
            "verdict",
            "failure_category",
            "finding",
            "finding_tool",
            "tool",
            "tool_status",
            "latency_over_ms",
            "evaluator",
            "evaluator_result",
        ]

    def filter_status(self, queryset, name, value):
        if value == "reviewed":
            return queryset.filter(qa_state=QaState.REVIEWED)
        return queryset.filter(status=value)

    def filter_escalated(self, queryset, name, value):
        return queryset.filter(escalated=value == "true")

    def filter_failure_category(self, queryset, name, value):
        return qa_selectors.sessions_with_failure(queryset, value.strip())

    def filter_finding(self, queryset, name, value):
        tool = self.form.cleaned_data.get("finding_tool") or None
        return qa_selectors.sessions_with_findings(queryset, open_only=value == "open", tool=tool)

    def filter_finding_tool(self, queryset, name, value):
        if self.form.cleaned_data.get("finding"):
            return queryset  # applied together with finding
        return qa_selectors.sessions_with_findings(queryset, open_only=False, tool=value)

    def filter_tool(self, queryset, name, value):
        status = self.form.cleaned_data.get("tool_status") or None
        return selectors.sessions_with_function_call(queryset, name=value, status=status)

    def filter_tool_status(self, queryset, name, value):
        if self.form.cleaned_data.get("tool"):
            return queryset  # applied together with tool
        return selectors.sessions_with_function_call(queryset, name=None, status=value)

    def filter_evaluator(self, queryset, name, value):
        result = self.form.cleaned_data.get("evaluator_result") or None
        return qa_selectors.sessions_with_automatic_result(queryset, evaluator=value.strip(), result=result)

    def filter_evaluator_result(self, queryset, name, value):
        if self.form.cleaned_data.get("evaluator"):
            return queryset  # applied together with evaluator
        return qa_selectors.sessions_with_automatic_result(queryset, result=value)

    def filter_latency_over(self, queryset, name, value):
        return selectors.sessions_with_measured_latency_over(queryset, int(value))

    def filter_text(self, queryset, name, value):
        value = value.strip()
        return selectors.sessions_matching_text(queryset, value) if value else queryset
