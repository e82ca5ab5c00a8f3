"""The record's part of a written session: turns, function calls, model, voice and escalation.

Writes go through these fields' validation, whichever surface takes them (the API, the importer,
the demo seeder). The whole session payload, with its tags and read-only evaluations, is
``qa_app.payloads.VoiceSessionSerializer``, which builds on these.
"""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from sessions_app import fields
from sessions_app.input_bounds import json_value_problem, timestamp_problem
from sessions_app.models import FunctionCallStatus, RecordingStatus, TurnRole

MAX_INT = 2_147_483_647
MAX_TEXT = 20_000
MAX_TURNS = 5_000
MAX_CALLS = 2_000


class EnumField(fields.ChoiceField):
    """A choice field whose error lists the allowed values."""

    def __init__(self, choices, **kwargs):
        super().__init__(choices, **kwargs)
        allowed = ", ".join(str(value) for value in self.choices)
        self.error_messages["invalid_choice"] = f'"{{input}}" is not allowed; use one of: {allowed}.'


def _ms_field(**kwargs) -> serializers.IntegerField:
    return fields.IntegerField(min_value=0, max_value=MAX_INT, allow_null=True, required=False, **kwargs)


class StorableJSONField(serializers.JSONField):
    """Any JSON value that can be stored and served back (``input_bounds.json_value_problem``)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        problem = json_value_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class JSONObjectField(StorableJSONField):
    """A JSON object; ``null`` (when allowed) stands for the empty object."""

    def validate_empty_values(self, data):
        if data is None and self.allow_null:
            return True, {}
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value


class CallTimeField(fields.DateTimeField):
    """A call's time, between 2000-01-01 and a day from now (``input_bounds.timestamp_problem``)."""

    default_error_messages = {
        # DRF's own message for a time its time zone pushes past the calendar (year 1 or 9999).
        "overflow": "must be between 2000-01-01T00:00:00Z and one day from now.",
    }

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        problem = timestamp_problem(parsed)
        if problem:
            raise serializers.ValidationError(problem)
        return parsed


def _fast_check(field: serializers.Field):
    """A checker that accepts exactly the canonical JSON values ``field`` accepts, unchanged.

    It returns the value DRF would return, or ``_SLOW`` for anything else (coercions, errors,
    odd types), which then takes DRF's full path, so results and error messages are DRF's own.
    """
    if isinstance(field, serializers.BooleanField):
        return lambda v: v if type(v) is bool else _SLOW
    if isinstance(field, serializers.IntegerField):
        low, high = field.min_value, field.max_value
        return lambda v: (
            v if type(v) is int and (low is None or v >= low) and (high is None or v <= high) else _SLOW
        )
    if isinstance(field, serializers.FloatField):
        low, high = field.min_value, field.max_value

        def check_float(v):
            if type(v) not in (int, float) or not math.isfinite(v):
                return _SLOW
            if (low is not None and v < low) or (high is not None and v > high):
                return _SLOW
            return float(v)

        return check_float
    if isinstance(field, serializers.ChoiceField):
        choices = field.choice_strings_to_values
        return lambda v: choices[v] if type(v) is str and v in choices else _SLOW
    if isinstance(field, serializers.JSONField):

        def check_json(v):
            try:
                return field.to_internal_value(v)  # DRF's own (cheap) serializability check
            except serializers.ValidationError:
                return _SLOW

        return check_json
    if type(field) in (serializers.CharField, fields.CharField) and field.min_length is None:
        max_length, allow_blank, trim = field.max_length, field.allow_blank, field.trim_whitespace

        def check_char(v):
            if type(v) is not str or "\x00" in v or (max_length is not None and len(v) > max_length):
                return _SLOW
            if not v.isascii():
                try:
                    v.encode("utf-8")  # lone surrogates: DRF refuses them
                except UnicodeEncodeError:
                    return _SLOW
            value = v.strip() if trim else v
            if not allow_blank and not (value if trim else v.strip()):
                return _SLOW
            return value

        return check_char
    return None


_SLOW = object()
# Validators the checkers above already apply; a field with any other validator takes DRF's path.
_COVERED_VALIDATORS = (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
)


def _always_slow(value):
    return _SLOW


class FastPathMixin:
    """Validate well-typed payloads without DRF's per-field machinery, with DRF's results.

    Transcript turns and tool calls are the bulk of every write and import, and DRF spends tens
    of microseconds per field on them. The fast path checks each value against the very field
    declared below (types, bounds, choices, lengths) and falls back to DRF for anything it can't
    vouch for, so DRF stays the single source of the rules and of every error message.
    ``validate()`` and validators still run as usual.
    """

    def _fast_plan(self):
        plan = getattr(type(self), "_fast_plan_cache", None)
        if plan is None:
            plan = []
            for name, field in self.fields.items():
                if field.read_only:
                    continue
                check = _fast_check(field)
                if check is None and not field.required:
                    # A nested optional field (a turn's words): absent, the fast path still holds;
                    # present, DRF validates the whole item.
                    plan.append((name, field, _always_slow))
                    continue
                if check is None or not all(isinstance(v, _COVERED_VALIDATORS) for v in field.validators):
                    plan = False
                    break
                plan.append((name, field, check))
            type(self)._fast_plan_cache = plan
        return plan

    def _nothing_to_run(self) -> bool:
        """No serializer-level validators and no read-only defaults to merge in before them."""
        cls = type(self)
        if "_idle_validators" not in cls.__dict__:
            cls._idle_validators = not self.validators and not any(
                field.read_only and field.default is not serializers.empty for field in self.fields.values()
            )
        return cls._idle_validators

    def run_validation(self, data=serializers.empty):
        # DRF's wrapper around to_internal_value checks for empty values (a dict is not one) and
        # merges read-only defaults into the value for validators there are none of; per turn,
        # that costs more than validating the turn. Only ``validate()`` is left to run.
        if type(data) is not dict or not self._nothing_to_run():
            return super().run_validation(data)
        value = self.to_internal_value(data)
        try:
            return self.validate(value)
        except (serializers.ValidationError, DjangoValidationError) as exc:
            raise serializers.ValidationError(detail=serializers.as_serializer_error(exc)) from exc

    def to_internal_value(self, data):
        plan = self._fast_plan() if type(data) is dict else False
        if plan:
            attrs = {}
            for name, field, check in plan:
                if name not in data:
                    if field.required:
                        break
                    if field.default is not serializers.empty:
                        attrs[name] = field.get_default()
                    continue
                value = data[name]
                if value is None:
                    if not field.allow_null:
                        break
                    attrs[name] = None
                    continue
                value = check(value)
                if value is _SLOW:
                    break
                attrs[name] = value
            else:
                if len(data) == sum(1 for name, _, _ in plan if name in data):
                    return attrs
        return super().to_internal_value(data)


MAX_WORDS = 5_000


class WordTimingSerializer(serializers.Serializer):
    text = fields.CharField(allow_blank=True, max_length=1_000, trim_whitespace=False)
    start_ms = fields.IntegerField(min_value=0, max_value=MAX_INT)
    end_ms = fields.IntegerField(min_value=0, max_value=MAX_INT)

    def validate(self, attrs):
        if attrs["end_ms"] < attrs["start_ms"]:
            raise serializers.ValidationError({"end_ms": "end_ms must not be before start_ms."})
        return attrs


class TranscriptTurnSerializer(FastPathMixin, serializers.Serializer):
    seq = fields.IntegerField(min_value=0, max_value=MAX_INT)
    role = EnumField(TurnRole.choices)
    text = fields.CharField(allow_blank=True, required=False, max_length=MAX_TEXT, trim_whitespace=False)
    start_ms = _ms_field()
    end_ms = _ms_field()
    confidence = fields.FloatField(min_value=0, max_value=1, allow_null=True, required=False)
    interrupted = fields.BooleanField(required=False, default=False)
    words = serializers.ListField(
        child=WordTimingSerializer(),
        required=False,
        allow_null=True,
        max_length=MAX_WORDS,
        help_text=(
            "The recogniser's word timings, in order. Optional; with them the redacted recording "
            "bleeps only the words that hold PII, without them the whole turn."
        ),
    )

    def validate(self, attrs):
        start, end = attrs.get("start_ms"), attrs.get("end_ms")
        if start is not None and end is not None and end < start:
            raise serializers.ValidationError({"end_ms": "end_ms must not be before start_ms."})
        return attrs


class FunctionCallSerializer(FastPathMixin, serializers.Serializer):
    seq = fields.IntegerField(min_value=0, max_value=MAX_INT)
    turn_seq = fields.IntegerField(min_value=0, max_value=MAX_INT, allow_null=True, required=False)
    name = fields.CharField(max_length=128)
    arguments = StorableJSONField(required=False, help_text="The tool's arguments as the model sent them.")
    result = StorableJSONField(required=False, allow_null=True)
    status = EnumField(FunctionCallStatus.choices, required=False, default=FunctionCallStatus.SUCCEEDED)
    error = fields.CharField(allow_null=True, allow_blank=True, required=False, max_length=MAX_TEXT)
    latency_ms = _ms_field()


class ModelContextSerializer(serializers.Serializer):
    provider = fields.CharField(allow_blank=True, required=False, max_length=64)
    name = fields.CharField(allow_blank=True, required=False, max_length=128)
    prompt_version = fields.CharField(allow_blank=True, required=False, max_length=64)
    params = JSONObjectField(
        required=False, allow_null=True, help_text="null clears them (the empty object)."
    )


class VoiceContextSerializer(serializers.Serializer):
    provider = fields.CharField(allow_blank=True, required=False, max_length=64)
    voice = fields.CharField(allow_blank=True, required=False, max_length=128)
    stt = fields.CharField(allow_blank=True, required=False, max_length=64)
    language = fields.CharField(allow_blank=True, required=False, max_length=32)


class EscalationSerializer(serializers.Serializer):
    escalated = fields.BooleanField(required=False)
    reason = fields.CharField(allow_null=True, allow_blank=True, required=False, max_length=MAX_TEXT)
    at_ms = _ms_field()


def unique_seqs(items: list[dict], field: str) -> None:
    seen: set[int] = set()
    for index, item in enumerate(items):
        if item["seq"] in seen:
            raise serializers.ValidationError(
                {field: {index: {"seq": [f"seq {item['seq']} appears twice."]}}}
            )
        seen.add(item["seq"])


class RecordingMeasuredSerializer(serializers.Serializer):
    response_p50_ms = serializers.IntegerField(allow_null=True)
    response_p95_ms = serializers.IntegerField(allow_null=True)
    response_max_ms = serializers.IntegerField(allow_null=True)
    talk_over_ms = serializers.IntegerField(allow_null=True)
    longest_silence_ms = serializers.IntegerField(allow_null=True)
    long_silences = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="[start_ms, end_ms] of each stretch of 3 s or more in which neither side spoke.",
    )
    flagged_turns = serializers.IntegerField()


class RecordingSerializer(serializers.Serializer):
    """Documentation of a recording; built by ``presentation.recording_as_dict``."""

    status = serializers.ChoiceField(choices=RecordingStatus.choices)
    source = serializers.CharField()
    content_type = serializers.CharField()
    channels = serializers.IntegerField(allow_null=True)
    channel_roles = serializers.ListField(child=serializers.CharField())
    sample_rate = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    size_bytes = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField()
    error = serializers.CharField(allow_blank=True)
    bleeped_spans = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))
    measured = RecordingMeasuredSerializer()
    url = serializers.CharField()
    processed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
