"""The one filter definition for session lists: the API list, the review pages and exports share it."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re

from django import forms
from django.http import QueryDict
from django_filters import rest_framework as filters
from django_filters import utils
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from sessions_app import selectors
from sessions_app.models import CallLog, FunctionCallStatus, QaState, SessionStatus, VoiceSession

STATUS_CHOICES = [*SessionStatus.choices, ("reviewed", "Reviewed")]
BOOLEAN_CHOICES = [("true", "Yes"), ("false", "No")]
FINDING_CHOICES = [("open", "Open"), ("any", "Any")]
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
VERDICT_CHOICES = [("pass", "Pass"), ("fail", "Fail"), ("needs_work", "Needs work")]


def _choice_error(param: str, choices) -> dict[str, str]:
    allowed = ", ".join(value for value, _ in choices)
    return {"invalid_choice": f"{param} must be one of: {allowed} (got %(value)s)."}


class MultipleCharField(forms.Field):
    """A repeatable query parameter (``?tag=a&tag=b``) read as a list of non-empty strings."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [item.strip() for item in value if item and item.strip()]


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601, normalized to UTC so any valid offset reaches the database in range.

    A bare date (``2026-11-01``, what a date picker sends) means that day's midnight UTC.
    """

    def to_python(self, value):
        if isinstance(value, str) and DATE_ONLY.match(value.strip()):
            try:
                return dt.datetime.combine(dt.date.fromisoformat(value.strip()), dt.time(), tzinfo=dt.UTC)
            except ValueError:
                raise forms.ValidationError("Enter a valid date.", code="invalid") from None
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            # Its offset moves the instant past the calendar (0001-01-01T00:30+01:00 is in year 0):
            # still a valid bound, before or after every stored call.
            edge = dt.datetime.min if parsed.year == 1 else dt.datetime.max
            return edge.replace(tzinfo=dt.UTC)


@extend_schema_field({"type": "boolean"})
class BooleanChoiceFilter(filters.ChoiceFilter):
    """``true`` or ``false`` exactly: how OpenAPI serializes a boolean query parameter."""


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class AllTagsFilter(filters.Filter):
    field_class = MultipleCharField

    def filter(self, queryset, value):
        for name in value or []:
            queryset = selectors.sessions_with_tag(queryset, name.lower())
        return queryset


class FastFilterSet(filters.FilterSet):
    """A FilterSet that is cheap to build on every request.

    django-filter deep-copies every filter and builds a new form class per request (several
    milliseconds for twenty filters, a fifth of a list request). Filters here hold no
    per-request state beyond ``parent`` and ``model``, so a shallow copy does, and the form class
    is built once per FilterSet class: Django forms deep-copy their fields per instance anyway.
    """

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data if data is not None else QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: copy.copy(filter_) for name, filter_ in self.base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = queryset.model
            filter_.parent = self
            if filter_.method is not None:
                filter_.method = filter_.method  # rebinds its FilterMethod to this copy

    def get_form_class(self):
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            form_class = super().get_form_class()
            form_class.base_fields = _SharedFields(form_class.base_fields)
            cls._form_class = form_class
        return cls._form_class


class FilterBackend(DjangoFilterBackend):
    """django-filter's DRF backend, validating only the filter parameters a request sends.

    A parameter that is absent can't be invalid and filters nothing, so its form field is dropped
    from this request's form before validation (the form's fields are its own dict: see
    ``_SharedFields``), and with none sent the queryset is returned as it is. A plain page of a
    list skips a form of twenty fields (a quarter of a millisecond); a one-filter lookup validates
    one field.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        absent = [
            name
            for name, widget in _parameter_widgets(filterset_class, queryset.model)
            if widget.value_omitted_from_data(request.query_params, {}, name)
        ]
        if len(absent) == len(_parameter_widgets(filterset_class, queryset.model)):
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        for name in absent:
            del filterset.form.fields[name]
        if not filterset.is_valid() and self.raise_exception:
            raise utils.translate_validation(filterset.errors)
        return filterset.qs


@functools.cache
def _parameter_widgets(filterset_class, model) -> tuple:
    """(parameter name, widget) of each field of the filterset's form: what a request would send."""
    form_class = filterset_class(queryset=model._default_manager.none()).get_form_class()
    return tuple((name, field.widget) for name, field in form_class.base_fields.items())


class _SharedFields(dict):
    """A filter form's fields, shared by every instance instead of deep-copied into each.

    Forms deep-copy their fields so a view may change one instance's field; filter forms only
    validate query parameters and nothing alters their fields, so the copy (a third of a
    millisecond per request for twenty fields) buys nothing.
    """

    def __deepcopy__(self, memo):
        return dict(self)


class VoiceSessionFilterSet(FastFilterSet):
    status = filters.ChoiceFilter(
        choices=STATUS_CHOICES,
        method="filter_status",
        help_text="active, completed or failed call outcome; reviewed means qa_state=reviewed.",
        error_messages=_choice_error("status", STATUS_CHOICES),
    )
    stream_id = filters.CharFilter(help_text="Exact media stream id (joins a realtime stream to a session).")
    call_sid = filters.CharFilter(help_text="Exact Twilio CallSid (joins call state and call logs).")
    agent_key = filters.CharFilter(help_text="Exact agent key.")
    tag = AllTagsFilter(help_text="Sessions carrying this tag; repeat the parameter to require several.")
    qa_state = filters.ChoiceFilter(
        choices=QaState.choices,
        help_text="unreviewed, in_review or reviewed.",
        error_messages=_choice_error("qa_state", QaState.choices),
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
        error_messages=_choice_error("escalated", BOOLEAN_CHOICES),
    )
    q = filters.CharFilter(method="filter_text", help_text="Text in the transcript or the summary.")
    prompt_version = filters.CharFilter(
        help_text="Exact prompt version (with agent_key, for prompt comparisons)."
    )
    model_name = filters.CharFilter(help_text="Exact model name.")
    verdict = filters.ChoiceFilter(
        choices=[(value, label) for value, label in VERDICT_CHOICES],
        help_text="The latest evaluation's verdict: pass, fail or needs_work.",
        error_messages=_choice_error("verdict", VERDICT_CHOICES),
    )
    failure_category = filters.CharFilter(
        method="filter_failure_category",
        help_text="Sessions whose latest evaluation names this failure category (e.g. hallucination).",
    )
    finding = filters.ChoiceFilter(
        choices=FINDING_CHOICES,
        method="filter_finding",
        help_text="open: sessions with unacknowledged tool-boundary findings; any: with findings at all.",
        error_messages=_choice_error("finding", FINDING_CHOICES),
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
        error_messages=_choice_error("tool_status", FunctionCallStatus.choices),
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
        ]

    def filter_status(self, queryset, name, value):
        if value == "reviewed":
            return queryset.filter(qa_state=QaState.REVIEWED)
        return queryset.filter(status=value)

    def filter_escalated(self, queryset, name, value):
        return queryset.filter(escalated=value == "true")

    def filter_failure_category(self, queryset, name, value):
        return selectors.sessions_with_failure(queryset, value.strip())

    def filter_finding(self, queryset, name, value):
        tool = self.form.cleaned_data.get("finding_tool") or None
        return selectors.sessions_with_findings(queryset, open_only=value == "open", tool=tool)

    def filter_finding_tool(self, queryset, name, value):
        if self.form.cleaned_data.get("finding"):
            return queryset  # applied together with finding
        return selectors.sessions_with_findings(queryset, open_only=False, tool=value)

    def filter_tool(self, queryset, name, value):
        status = self.form.cleaned_data.get("tool_status") or None
        return selectors.sessions_with_function_call(queryset, name=value, status=status)

    def filter_tool_status(self, queryset, name, value):
        if self.form.cleaned_data.get("tool"):
            return queryset  # applied together with tool
        return selectors.sessions_with_function_call(queryset, name=None, status=value)

    def filter_text(self, queryset, name, value):
        value = value.strip()
        return selectors.sessions_matching_text(queryset, value) if value else queryset


class CallLogFilterSet(FastFilterSet):
    """Call log filters, shared by GET /api/v1/call-logs and the calls page."""

    status = filters.CharFilter(help_text="Twilio CallStatus: queued, ringing, in-progress, completed, …")
    direction = filters.CharFilter(help_text="inbound, outbound-api or outbound-dial.")
    from_ = filters.CharFilter(field_name="from_number", help_text="Exact caller number (E.164).")
    to = filters.CharFilter(field_name="to_number", help_text="Exact called number (E.164).")
    call_sid = filters.CharFilter(help_text="Exact CallSid.")
    started_after = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="gte", help_text="ISO 8601.")
    started_before = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="lt", help_text="ISO 8601.")

    class Meta:
        model = CallLog
        fields = ["status", "direction", "from_", "to", "call_sid", "started_after", "started_before"]


# "from" is a Python keyword, so the filter is declared as from_ and served under its contract name.
CallLogFilterSet.base_filters["from"] = CallLogFilterSet.base_filters.pop("from_")
