"""Filters for the record's lists, and the parts every filter set here and in qa_app is built from.

The session list's one filter definition (the API list, the review pages and exports share it) is
``qa_app.filters.VoiceSessionFilterSet``: it filters on tags, verdicts and findings as well.
"""

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

from sessions_app.models import CallLog

BOOLEAN_CHOICES = [("true", "Yes"), ("false", "No")]
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def choice_error(param: str, choices) -> dict[str, str]:
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
