"""The session shape, declared once for validation on write and for the OpenAPI schema.

Writes go through these fields' validation. Reads are built by ``presentation`` (plain dicts from
column tuples, several times faster than nested ModelSerializers); the schema test and
schemathesis hold the two to the same shape.
"""

from __future__ import annotations

from rest_framework import serializers

from qa_app.models import Verdict
from qa_app.services import tag_normalize
from sessions_app.models import Direction, FunctionCallStatus, SessionStatus, TurnRole
from sessions_app.services import ServiceError

MAX_INT = 2_147_483_647
MAX_TEXT = 20_000
MAX_TURNS = 5_000
MAX_CALLS = 2_000


class EnumField(serializers.ChoiceField):
    """A choice field whose error lists the allowed values."""

    def __init__(self, choices, **kwargs):
        super().__init__(choices, **kwargs)
        allowed = ", ".join(str(value) for value in self.choices)
        self.error_messages["invalid_choice"] = f'"{{input}}" is not allowed; use one of: {allowed}.'


def _ms_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_INT, allow_null=True, required=False, **kwargs)


class JSONObjectField(serializers.JSONField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value


class TranscriptTurnSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=0, max_value=MAX_INT)
    role = EnumField(TurnRole.choices)
    text = serializers.CharField(allow_blank=True, required=False, max_length=MAX_TEXT, trim_whitespace=False)
    start_ms = _ms_field()
    end_ms = _ms_field()
    confidence = serializers.FloatField(min_value=0, max_value=1, allow_null=True, required=False)
    interrupted = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        start, end = attrs.get("start_ms"), attrs.get("end_ms")
        if start is not None and end is not None and end < start:
            raise serializers.ValidationError({"end_ms": "end_ms must not be before start_ms."})
        return attrs


class FunctionCallSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=0, max_value=MAX_INT)
    turn_seq = serializers.IntegerField(min_value=0, max_value=MAX_INT, allow_null=True, required=False)
    name = serializers.CharField(max_length=128)
    arguments = serializers.JSONField(
        required=False, help_text="The tool's arguments as the model sent them."
    )
    result = serializers.JSONField(required=False, allow_null=True)
    status = EnumField(FunctionCallStatus.choices, required=False, default=FunctionCallStatus.SUCCEEDED)
    error = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=MAX_TEXT)
    latency_ms = _ms_field()


class ModelContextSerializer(serializers.Serializer):
    provider = serializers.CharField(allow_blank=True, required=False, max_length=64)
    name = serializers.CharField(allow_blank=True, required=False, max_length=128)
    prompt_version = serializers.CharField(allow_blank=True, required=False, max_length=64)
    params = JSONObjectField(required=False)


class VoiceContextSerializer(serializers.Serializer):
    provider = serializers.CharField(allow_blank=True, required=False, max_length=64)
    voice = serializers.CharField(allow_blank=True, required=False, max_length=128)
    stt = serializers.CharField(allow_blank=True, required=False, max_length=64)
    language = serializers.CharField(allow_blank=True, required=False, max_length=32)


class EscalationSerializer(serializers.Serializer):
    escalated = serializers.BooleanField(required=False)
    reason = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=MAX_TEXT)
    at_ms = _ms_field()


class EvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    verdict = EnumField(Verdict.choices)
    score = serializers.IntegerField(min_value=1, max_value=5, allow_null=True, required=False)
    failure_categories = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=20
    )
    notes = serializers.CharField(allow_blank=True, required=False, max_length=MAX_TEXT)
    reviewer = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class TagSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64, help_text="Normalized to lower case, spaces become dashes.")

    def validate_name(self, value: str) -> str:
        try:
            return tag_normalize(value)
        except ServiceError as error:
            raise serializers.ValidationError(error.message) from None


class TagListSerializer(serializers.Serializer):
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)


def _unique_seqs(items: list[dict], field: str) -> None:
    seen: set[int] = set()
    for index, item in enumerate(items):
        if item["seq"] in seen:
            raise serializers.ValidationError(
                {field: {index: {"seq": [f"seq {item['seq']} appears twice."]}}}
            )
        seen.add(item["seq"])


class VoiceSessionSerializer(serializers.Serializer):
    """A voice session. On write, ``stream_id`` identifies it; server fields are read-only."""

    id = serializers.UUIDField(read_only=True)
    stream_id = serializers.CharField(max_length=64, help_text="Media stream id; unique per tenant.")
    call_sid = serializers.CharField(max_length=64, allow_blank=True, required=False)
    agent_key = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$",
        max_length=100,
        required=False,
        help_text="Required when the session is created.",
        error_messages={"invalid": "agent_key may hold letters, digits, '-', '_', '.' and ':'."},
    )
    status = EnumField(SessionStatus.choices, required=False)
    qa_state = serializers.CharField(read_only=True)
    direction = EnumField(Direction.choices, required=False)
    from_number = serializers.CharField(max_length=32, allow_blank=True, required=False)
    to_number = serializers.CharField(max_length=32, allow_blank=True, required=False)
    started_at = serializers.DateTimeField(required=False, help_text="Defaults to now on create.")
    ended_at = serializers.DateTimeField(allow_null=True, required=False)
    duration_ms = serializers.IntegerField(read_only=True, allow_null=True)
    model = ModelContextSerializer(required=False)
    voice = VoiceContextSerializer(required=False)
    transcript = serializers.ListField(child=TranscriptTurnSerializer(), required=False, max_length=MAX_TURNS)
    function_calls = serializers.ListField(
        child=FunctionCallSerializer(), required=False, max_length=MAX_CALLS
    )
    escalation = EscalationSerializer(required=False)
    summary = serializers.CharField(
        allow_blank=True, required=False, max_length=MAX_TEXT, trim_whitespace=False
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=50)
    evaluations = EvaluationSerializer(many=True, read_only=True)
    metadata = JSONObjectField(required=False)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            readable = set(self.fields) - writable
            unknown = sorted(set(data) - writable - readable)
            if unknown:
                raise serializers.ValidationError({unknown[0]: ["Unknown field."]})
            data = {key: value for key, value in data.items() if key in writable}
        return super().to_internal_value(data)

    def validate_tags(self, value: list[str]) -> list[str]:
        normalized = []
        for index, name in enumerate(value):
            try:
                normalized.append(tag_normalize(name))
            except ServiceError as error:
                raise serializers.ValidationError({index: [error.message]}) from None
        return normalized

    def validate(self, attrs):
        _unique_seqs(attrs.get("transcript", []), "transcript")
        _unique_seqs(attrs.get("function_calls", []), "function_calls")
        started, ended = attrs.get("started_at"), attrs.get("ended_at")
        if started and ended and ended < started:
            raise serializers.ValidationError({"ended_at": ["ended_at must not be before started_at."]})
        return attrs
