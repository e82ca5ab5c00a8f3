"""Where in a call's audio PII was said: the spans the redacted recording replaces with a tone.

A turn's PII is placed by its word timings when it has them (only the words that hold it, padded
a little so a word's edges never leak), else by the turn's own start and end (the whole turn). A
turn whose text holds PII but that has no timing at all can't be placed: it is reported, and the
caller withholds the rendition rather than serve audio that might still say it.

PII is what the transcript detector finds, or a placeholder already in the text: a tenant that
redacts on ingest stores only ``[PHONE]`` and its kin, and those words must be bleeped too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sessions_app.redaction.text import PLACEHOLDERS, find_pii
from sessions_app.redaction.words import pii_word_spans

# Padding each side of a word span: recognisers' word edges are tens of ms off.
WORD_PADDING_MS = 80

_PLACEHOLDER_TEXTS = frozenset(PLACEHOLDERS.values())


@dataclass(frozen=True)
class AudioSpan:
    start_ms: int
    end_ms: int
    turn_seq: int
    kind: str


@dataclass(frozen=True)
class AudioPii:
    spans: list[AudioSpan]
    # Turns with PII in their text and no start/end to place it.
    untimed_turns: list[int]


def _has_placeholder(text: str) -> bool:
    return any(placeholder in text for placeholder in _PLACEHOLDER_TEXTS)


def _text_kind(text: str) -> str | None:
    found = find_pii(text)
    if found:
        return found[0].kind
    return "redacted" if _has_placeholder(text) else None


def _word_spans(turn: Mapping) -> list[AudioSpan]:
    words = turn.get("words") or []
    spans = []
    for span in pii_word_spans(words):
        first, last = words[span.first], words[span.last]
        spans.append(
            AudioSpan(
                max(0, first["start_ms"] - WORD_PADDING_MS),
                last["end_ms"] + WORD_PADDING_MS,
                turn["seq"],
                span.kind,
            )
        )
    for word in words:
        if str(word.get("text") or "").strip() in _PLACEHOLDER_TEXTS:
            spans.append(
                AudioSpan(
                    max(0, word["start_ms"] - WORD_PADDING_MS),
                    word["end_ms"] + WORD_PADDING_MS,
                    turn["seq"],
                    "redacted",
                )
            )
    return spans


def audio_pii(turns: Iterable[Mapping]) -> AudioPii:
    """The spans to bleep for these turns (raw text and words, as stored)."""
    spans: list[AudioSpan] = []
    untimed: list[int] = []
    for turn in turns:
        text = turn.get("text") or ""
        kind = _text_kind(text) if text else None
        placed = _word_spans(turn)
        if placed:
            spans.extend(placed)
            # Words can miss what the text holds (a recogniser that split differently): then the
            # whole turn goes, as it would without words.
            if kind is None or len(placed) >= _count(text):
                continue
        elif kind is None:
            continue
        if turn.get("start_ms") is not None and turn.get("end_ms") is not None:
            spans.append(AudioSpan(turn["start_ms"], turn["end_ms"], turn["seq"], kind))
        else:
            untimed.append(turn["seq"])
    spans.sort(key=lambda span: (span.start_ms, span.end_ms))
    return AudioPii(spans=spans, untimed_turns=untimed)


def _count(text: str) -> int:
    return len(find_pii(text)) + sum(text.count(placeholder) for placeholder in _PLACEHOLDER_TEXTS)
