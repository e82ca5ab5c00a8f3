"""PII in word timings: which words of a turn the detector finds PII in, and their redacted form.

A turn may carry the recogniser's word timings (``[{"text", "start_ms", "end_ms"}]``). The words
are read as one text joined by spaces, so a number spoken over several words ("four one five …")
is found as the transcript's detector finds it in the turn's text. The spans say where in the audio
the PII was said (what the redacted recording bleeps); the redacted words collapse each span into
one placeholder word that keeps the span's timing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sessions_app.redaction.text import PLACEHOLDERS, find_pii

_MAX_PASSES = 4


@dataclass(frozen=True)
class WordSpan:
    """Words ``first``..``last`` (inclusive) of a turn hold PII of ``kind``."""

    kind: str
    first: int
    last: int


def _offsets(words: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    parts, offsets, position = [], [], 0
    for word in words:
        text = str(word.get("text") or "")
        offsets.append((position, position + len(text)))
        parts.append(text)
        position += len(text) + 1
    return " ".join(parts), offsets


def pii_word_spans(words: list[dict] | None) -> list[WordSpan]:
    """The runs of words that hold PII, in order."""
    if not words:
        return []
    text, offsets = _offsets(words)
    spans = []
    for pii in find_pii(text):
        hit = [i for i, (start, end) in enumerate(offsets) if start < pii.end and end > pii.start]
        if hit:
            spans.append(WordSpan(pii.kind, hit[0], hit[-1]))
    return spans


def redact_words(words: list[dict] | None) -> list[dict] | None:
    """``words`` with each PII span collapsed into one placeholder word over the span's time; None
    and [] pass through. Repeated until nothing is found, as ``redact_text`` is."""
    if not words:
        return words
    for _ in range(_MAX_PASSES):
        spans = pii_word_spans(words)
        if not spans:
            break
        out, position = [], 0
        for span in spans:
            out.extend(words[position : span.first])
            first, last = words[span.first], words[span.last]
            out.append(
                {
                    "text": PLACEHOLDERS[span.kind],
                    "start_ms": first.get("start_ms"),
                    "end_ms": last.get("end_ms"),
                }
            )
            position = span.last + 1
        out.extend(words[position:])
        words = out
    return words
