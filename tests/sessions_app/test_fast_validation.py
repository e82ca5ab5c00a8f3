"""The validation fast path for turns and tool calls gives exactly DRF's results and errors."""

import copy
import random

import pytest
from rest_framework import serializers

from sessions_app.payloads import FunctionCallSerializer, TranscriptTurnSerializer

TURN = {"seq": 3, "role": "caller", "text": "  I was charged twice  ", "start_ms": 1200, "end_ms": 2400,
        "confidence": 0.91, "interrupted": False}  # fmt: skip
CALL = {"seq": 0, "turn_seq": 3, "name": " lookup_order ", "arguments": {"order_id": "58213"},
        "result": {"status": "shipped"}, "status": "failed", "error": "timeout",
        "latency_ms": 312}  # fmt: skip
ODD_VALUES = [None, "", " ", "5", 5, 5.0, -1, 2**31, True, False, [], {}, "x" * 130, "a\x00b", "\ud800", 0.5,
              1.5, "caller", "robot", "succeeded", float("inf"), float("nan"),
              {"x": [float("inf")]}]  # fmt: skip


def drf_only(serializer_class):
    """The same fields and validate(), on plain DRF, without the fast path."""
    fields = {name: copy.deepcopy(field) for name, field in serializer_class._declared_fields.items()}
    return type(f"Slow{serializer_class.__name__}", (serializers.Serializer,),
                {**fields, "validate": serializer_class.validate})  # fmt: skip


def outcome(serializer, data):
    try:
        return "ok", serializer.run_validation(data)
    except serializers.ValidationError as error:
        return "error", error.detail


@pytest.mark.parametrize(("serializer_class", "base"), [(TranscriptTurnSerializer, TURN),
                                                         (FunctionCallSerializer, CALL)])  # fmt: skip
def test_fast_path_matches_drf_on_valid_odd_and_missing_values(serializer_class, base):
    rng = random.Random(11)
    serializer = serializer_class()
    cases = [dict(base)]
    for field in base:
        cases.append({k: v for k, v in base.items() if k != field})
        cases.extend({**base, field: value} for value in ODD_VALUES)
    for _ in range(300):
        case = dict(base)
        for field in rng.sample(list(base), rng.randint(1, 3)):
            case[field] = rng.choice(ODD_VALUES)
        cases.append(case)
    cases.append({**base, "unknown": 1})
    slow = drf_only(serializer_class)()
    for case in cases:
        assert outcome(serializer, case) == outcome(slow, case), case


def test_fast_path_actually_runs_for_canonical_input(monkeypatch):
    calls = []
    original = serializers.Serializer.to_internal_value
    monkeypatch.setattr(serializers.Serializer, "to_internal_value",
                        lambda self, data: calls.append(1) or original(self, data))  # fmt: skip
    TranscriptTurnSerializer().run_validation(TURN)
    assert calls == []
