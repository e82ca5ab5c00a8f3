"""The voice session as written and read: the record's payload plus its tags and evaluations.

Declared once for validation on write and for the OpenAPI schema. Reads are built by
``qa_app.documents`` (plain dicts from column tuples, several times faster than nested
ModelSerializers); the schema test and schemathesis hold the two to the same shape.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qa_app.models import AutomaticResult, EvaluatorKind, Verdict
from qa_app.services import tag_normalize
from sessions_app import fields
from sessions_app.errors import ServiceError
from sessions_app.models import Direction, SessionStatus
from sessions_app.payloads import (
    MAX_CALLS,
    MAX_TEXT,
    MAX_TURNS,
    CallTimeField,
    EnumField,
    EscalationSerializer,
    FunctionCallSerializer,
    JSONObjectField,
    ModelContextSerializer,
    RecordingSerializer,
    TranscriptTurnSerializer,
    VoiceContextSerializer,
    unique_seqs,
)


class EvaluationSerializer(fields.StrictBody):
    id = fields.IntegerField(read_only=True)
    verdict = EnumField(Verdict.choices)
    score = fields.IntegerField(min_value=1, max_value=5, allow_null=True, required=False)
    failure_categories = serializers.ListField(
        child=fields.CharField(max_length=64), required=False, max_length=20
    )
    notes = fields.CharField(allow_blank=True, required=False, max_length=MAX_TEXT)
    reviewer = fields.CharField(read_only=True)
    created_at = fields.DateTimeField(read_only=True)


class EvidenceSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=["turn", "call"])
    seq = serializers.IntegerField()
    note = serializers.CharField()


class AutomaticEvaluationSerializer(serializers.Serializer):
    """Documentation of an automatic evaluator's result (built by ``documents``)."""

    evaluator = serializers.CharField()
    version = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=EvaluatorKind.choices)
    result = serializers.ChoiceField(choices=AutomaticResult.choices)
    score = serializers.FloatField(allow_null=True)
    summary = serializers.CharField(allow_blank=True)
    evidence = EvidenceSerializer(many=True)
    created_at = serializers.DateTimeField()


# A tag as sent: white space around it is trimmed, then it is 1-64 of these characters starting
# with a letter or digit; ``tag_normalize`` lowers it and turns spaces into dashes. The schema
# states exactly that (the length inside the pattern, since it counts after trimming).
TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,63}$"
TAG_INPUT_PATTERN = f"^[{fields.WHITESPACE}]*[A-Za-z0-9][A-Za-z0-9 _.:-]{{0,63}}[{fields.WHITESPACE}]*$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": TAG_INPUT_PATTERN,
        "description": "Stored in lower case, spaces as dashes: ' Angry Caller' is 'angry-caller'.",
    }
)
class TagField(fields.RegexField):
    def __init__(self, **kwargs):
        super().__init__(
            TAG_PATTERN,  # bounds the length too (1-64 after trimming), which maxLength can't
            error_messages={
                "invalid": "A tag is 1-64 characters (letters, digits, spaces, '-', '_', '.', ':') "
                "starting with a letter or digit."
            },
            **kwargs,
        )


class TagSerializer(fields.StrictBody):
    name = TagField()

    def validate_name(self, value: str) -> str:
        try:
            return tag_normalize(value)
        except ServiceError as error:
            raise serializers.ValidationError(error.message) from None


class TagListSerializer(serializers.Serializer):
    tags = serializers.ListField(child=fields.CharField(), read_only=True)


class VoiceSessionSerializer(fields.StrictBody):
    """A voice session. On write, ``stream_id`` identifies it; server fields are read-only."""

    id = serializers.UUIDField(read_only=True)
    stream_id = fields.CharField(max_length=64, help_text="Media stream id; unique per tenant.")
    call_sid = fields.CharField(max_length=64, allow_blank=True, required=False)
    agent_key = fields.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$",
        max_length=100,
        required=False,
        help_text="Required when the session is created.",
        error_messages={"invalid": "agent_key may hold letters, digits, '-', '_', '.' and ':'."},
    )
    status = EnumField(SessionStatus.choices, required=False)
    qa_state = fields.CharField(read_only=True)
    direction = EnumField(Direction.choices, required=False)
    from_number = fields.CharField(max_length=32, allow_blank=True, required=False)
    to_number = fields.CharField(max_length=32, allow_blank=True, required=False)
    started_at = CallTimeField(
        required=False, help_text="Defaults to now on create. From 2000-01-01 to a day from now."
    )
    ended_at = CallTimeField(allow_null=True, required=False, help_text="From 2000-01-01 to a day from now.")
    duration_ms = fields.IntegerField(read_only=True, allow_null=True)
    model = ModelContextSerializer(required=False)
    voice = VoiceContextSerializer(required=False)
    transcript = serializers.ListField(child=TranscriptTurnSerializer(), required=False, max_length=MAX_TURNS)
    function_calls = serializers.ListField(
        child=FunctionCallSerializer(), required=False, max_length=MAX_CALLS
    )
    escalation = EscalationSerializer(required=False)
    summary = fields.CharField(allow_blank=True, required=False, max_length=MAX_TEXT, trim_whitespace=False)
    tags = serializers.ListField(child=TagField(), required=False, max_length=50)
    evaluations = EvaluationSerializer(many=True, read_only=True)
    automatic_evaluations = AutomaticEvaluationSerializer(
        many=True, read_only=True, help_text="What the automatic evaluators said, each with its version."
    )
    recording = RecordingSerializer(
        read_only=True, allow_null=True, help_text="The call recording's state, or null without one."
    )
    metadata = JSONObjectField(required=False)
    created_at = fields.DateTimeField(read_only=True)
    updated_at = fields.DateTimeField(read_only=True)

    def validate_tags(self, value: list[str]) -> list[str]:
        normalized = []
        for index, name in enumerate(value):
            try:
                normalized.append(tag_normalize(name))
            except ServiceError as error:
                raise serializers.ValidationError({index: [error.message]}) from None
        return normalized

    def validate(self, attrs):
        unique_seqs(attrs.get("transcript", []), "transcript")
        unique_seqs(attrs.get("function_calls", []), "function_calls")
        started, ended = attrs.get("started_at"), attrs.get("ended_at")
        if started and ended and ended < started:
            raise serializers.ValidationError({"ended_at": ["ended_at must not be before started_at."]})
        return attrs
