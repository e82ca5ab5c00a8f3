"""Behaviour of sessions_app.redaction, and its precision/recall on the labelled corpus.

Scoring rule: a gold entity counts as found (true positive) when some predicted span of the same kind
overlaps it by at least 50% of the *gold* span's length. A predicted span counts as correct under the
same rule against any gold span; every other prediction is a false positive. So a prediction that
covers "smith at gmail dot com" of the gold "john smith at gmail dot com" is a hit, while a phone
reported where the gold says card is both a miss (card) and a false alarm (phone).

``python -m tests.sessions_app.test_redaction`` prints the table and the cost per transcript turn.
"""

from __future__ import annotations

import copy
import itertools
import random
import time

import pytest

from sessions_app.redaction import (
    PLACEHOLDERS,
    PiiSpan,
    find_pii,
    redact_phone_number,
    redact_text,
    redact_value,
)
from tests.sessions_app.redaction_corpus import CORPUS, KINDS, Example

MIN_RECALL = 0.95
MIN_PRECISION = 0.90


# ------------------------------------------------------------------------------------------------
# Corpus scoring
# ------------------------------------------------------------------------------------------------


def _hit(pred: PiiSpan, kind: str, start: int, end: int) -> bool:
    overlap = min(pred.end, end) - max(pred.start, start)
    return pred.kind == kind and overlap >= 0.5 * (end - start)


def corpus_errors(corpus: list[Example] = CORPUS) -> list[tuple[str, str, str]]:
    """(problem, kind, text) for every missed entity and every false alarm; for debugging."""
    errors = []
    for example in corpus:
        gold = example.gold()
        preds = find_pii(example.text)
        for kind, start, end in gold:
            if not any(_hit(p, kind, start, end) for p in preds):
                errors.append(("missed", kind, f"{example.text!r} gold={example.text[start:end]!r}"))
        for p in preds:
            if not any(_hit(p, kind, start, end) for kind, start, end in gold):
                errors.append(
                    ("false alarm", p.kind, f"{example.text!r} pred={example.text[p.start : p.end]!r}")
                )
    return errors


def score_corpus(corpus: list[Example] = CORPUS) -> dict[str, dict[str, float]]:
    """Per kind: gold, predicted, tp, fp, fn, precision, recall (see the module docstring)."""
    counts = {k: {"gold": 0, "predicted": 0, "tp": 0, "fp": 0, "fn": 0} for k in KINDS}
    for example in corpus:
        gold = example.gold()
        preds = find_pii(example.text)
        for kind, start, end in gold:
            c = counts[kind]
            c["gold"] += 1
            if any(_hit(p, kind, start, end) for p in preds):
                c["tp"] += 1
            else:
                c["fn"] += 1
        for p in preds:
            c = counts[p.kind]
            c["predicted"] += 1
            if not any(_hit(p, kind, start, end) for kind, start, end in gold):
                c["fp"] += 1
    figures = {}
    for kind, c in counts.items():
        correct = c["predicted"] - c["fp"]
        figures[kind] = {
            **c,
            "precision": correct / c["predicted"] if c["predicted"] else 1.0,
            "recall": c["tp"] / c["gold"] if c["gold"] else 1.0,
        }
    return figures


def format_table(figures: dict[str, dict[str, float]]) -> str:
    lines = [
        f"{'kind':<6} {'gold':>5} {'pred':>5} {'tp':>5} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}"
    ]
    for kind, f in figures.items():
        lines.append(
            f"{kind:<6} {f['gold']:>5} {f['predicted']:>5} {f['tp']:>5} {f['fp']:>4} {f['fn']:>4} "
            f"{f['precision']:>9.3f} {f['recall']:>7.3f}"
        )
    negatives = sum(1 for e in CORPUS if not e.spans)
    lines.append(f"{len(CORPUS)} utterances, {negatives} without PII")
    return "\n".join(lines)


def microseconds_per_turn(turns: list[str], repeat: int = 200) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for text in turns:
            redact_text(text)
    return (time.perf_counter() - start) / (repeat * len(turns)) * 1e6


def test_corpus_meets_precision_and_recall_for_every_kind():
    figures = score_corpus()
    print("\n" + format_table(figures))
    failing = {k: f for k, f in figures.items() if f["recall"] < MIN_RECALL or f["precision"] < MIN_PRECISION}
    assert not failing, format_table(figures) + "\n" + "\n".join(map(str, corpus_errors()))


def test_corpus_is_large_covers_every_kind_and_has_many_negatives():
    figures = score_corpus()
    assert len(CORPUS) >= 300
    assert sum(1 for e in CORPUS if not e.spans) >= 100
    assert all(figures[k]["gold"] >= 40 for k in KINDS)


def test_corpus_labels_point_at_real_pii():
    for example in CORPUS:
        for kind, start, end in example.gold():
            assert kind in KINDS
            assert example.text[start:end].strip() == example.text[start:end], example.text
        for kind, sub in example.spans:
            digits = "".join(ch for ch in sub if ch.isdigit())
            written = digits and len(digits) == len(sub.replace(" ", "").replace("-", ""))
            if kind == "card" and written:
                assert 13 <= len(digits) <= 19 and _luhn_ok(digits), sub
            if kind == "ssn" and written:
                assert len(digits) == 9 and digits[:3] not in ("000", "666") and digits[0] != "9", sub


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def test_redacting_the_corpus_leaves_nothing_detectable():
    for example in CORPUS:
        once = redact_text(example.text)
        assert find_pii(once) == [], once


# ------------------------------------------------------------------------------------------------
# Cards
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["4111 1111 1111 1112", "4111-1111-1111-1112", "4532778812345678", "card number 4532 7788 1234 5678"],
)
def test_luhn_invalid_sixteen_digits_is_not_a_card(text):
    assert [s.kind for s in find_pii(text)] == []


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "3782 822463 10005",
        "four one one one one one one one one one one one one one one one",
        "five five five five, five five five five, five five five five, four four four four",
    ],
)
def test_luhn_valid_card_is_redacted_in_digit_and_spoken_forms(card):
    assert redact_text(f"the card is {card}, thanks") == "the card is [CARD], thanks"


def test_card_last_four_is_not_a_card():
    assert redact_text("the card ending in 4242") == "the card ending in 4242"


def test_card_beats_phone_when_spans_overlap():
    spans = find_pii("call 4111 1111 1111 1111")
    assert [s.kind for s in spans] == ["card"]


def test_card_followed_by_expiry_and_cvv_keeps_only_the_card_masked():
    assert redact_text("4111 1111 1111 1111 0527 123") == "[CARD] 0527 123"


# ------------------------------------------------------------------------------------------------
# Phones
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "four one five five five five zero one three two",
        "four one five, five five five, oh one three two",
        "4 1 5 5 5 5 0 1 3 2",
        "415 five five five 0132",
        "four one five, double five five, oh one three two",
        "triple seven, two two four, six oh one eight",
        "one eight hundred, five five five, oh one nine nine",
        "nine one seven, uh, five five five, oh one two three",
    ],
)
def test_spoken_phone_number_is_redacted(phone):
    assert redact_text(f"yeah it's {phone}, thanks") == "yeah it's [PHONE], thanks"


@pytest.mark.parametrize(
    "phone",
    ["(415) 555-0132", "415-555-0132", "415.555.0132", "+1 415 555 0132", "4155550132", "1-800-555-0199"],
)
def test_written_phone_formats_are_redacted(phone):
    assert redact_text(f"call me at {phone} today") == "call me at [PHONE] today"


def test_international_e164_number_is_redacted():
    assert redact_text("my UK mobile is +44 20 7946 0958.") == "my UK mobile is [PHONE]."


def test_seven_digit_number_is_a_phone_only_after_a_phone_word():
    assert redact_text("my number is five five five oh one three two") == "my number is [PHONE]"
    assert redact_text("call me at 555-0132") == "call me at [PHONE]"
    assert redact_text("it weighed 5550132 grams") == "it weighed 5550132 grams"


@pytest.mark.parametrize(
    "text",
    [
        "order 58213",
        "order number A-10442",
        "order #4471-22",
        "Your order number is 5821344219.",
        "the confirmation number is eight eight four two one oh nine three seven seven",
        "tracking 1Z999AA10123456784",
        "invoice 2024-00871",
        "account number 4417 2290 1183",
    ],
)
def test_order_number_is_not_redacted(text):
    assert redact_text(text) == text


def test_phone_word_wins_over_an_account_word_nearby():
    assert redact_text("the phone number on my account is 4155550132") == (
        "the phone number on my account is [PHONE]"
    )


def test_punctuated_phone_after_an_id_word_is_still_a_phone():
    assert redact_text("send the code to 213-555-0107") == "send the code to [PHONE]"


@pytest.mark.parametrize(
    "text",
    [
        "$129.99",
        "I paid 49.99, 59.99 and 69.99",
        "forty nine ninety nine",
        "at 3:30",
        "two thirty pm",
        "March 4th 2024",
        "12/05/2024",
        "2 items and three boxes",
        "zip 94107",
        "give me one second",
        "it was 2019 or 2020",
    ],
)
def test_prices_times_dates_and_quantities_are_not_redacted(text):
    assert redact_text(text) == text


def test_phone_with_trailing_small_number_masks_only_the_phone():
    assert redact_text("my number is 415 555 0132 2 pm works") == "my number is [PHONE] 2 pm works"


def test_ssn_and_phone_in_one_run_are_told_apart():
    assert redact_text("123-45-6789, 415-555-0132") == "[SSN], [PHONE]"


# ------------------------------------------------------------------------------------------------
# Emails
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "jane.doe@example.com",
        "john dot smith at gmail dot com",
        "j smith at example dot org",
        "maria underscore lopez at outlook dot com",
        "jane at acme dot co dot uk",
        "h e n r y at gmail dot com",
    ],
)
def test_spoken_and_written_email_is_redacted(email):
    assert redact_text(f"my email is {email}, thanks") == "my email is [EMAIL], thanks"


@pytest.mark.parametrize(
    "text",
    [
        "meet at noon",
        "look at that",
        "I'm at home dot",
        "you can track it at ups dot com",
        "check the status at www dot acme dot com",
    ],
)
def test_at_without_a_mailbox_is_not_an_email(text):
    assert redact_text(text) == text


# ------------------------------------------------------------------------------------------------
# SSNs
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My social is 078-05-1120.", "My social is [SSN]."),
        ("123 45 6789", "[SSN]"),
        ("my social is one two three four five six seven eight nine", "my social is [SSN]"),
        ("ssn 123456789", "ssn [SSN]"),
        ("123456789, that's my social", "[SSN], that's my social"),
    ],
)
def test_ssn_is_redacted(text, expected):
    assert redact_text(text) == expected


def test_spoken_nine_digits_without_ssn_context_is_not_an_ssn():
    text = "the part is one two three four five six seven eight nine"
    assert redact_text(text) == text


@pytest.mark.parametrize("ssn", ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000"])
def test_invalid_ssn_is_not_redacted(ssn):
    assert redact_text(f"my social is {ssn}") == f"my social is {ssn}"


# ------------------------------------------------------------------------------------------------
# API contract
# ------------------------------------------------------------------------------------------------


def test_find_pii_spans_are_sorted_non_overlapping_and_use_original_offsets():
    text = "card 4111 1111 1111 1111, mail jane.doe@example.com, cell 415-555-0132, ssn 078-05-1120"
    spans = find_pii(text)
    assert [s.kind for s in spans] == ["card", "email", "phone", "ssn"]
    assert [text[s.start : s.end] for s in spans] == [
        "4111 1111 1111 1111",
        "jane.doe@example.com",
        "415-555-0132",
        "078-05-1120",
    ]
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


@pytest.mark.parametrize("value", [None, ""])
def test_redact_text_passes_none_through(value):
    assert redact_text(value) == value


def test_redact_text_leaves_text_without_pii_untouched():
    text = "Thanks for calling! Your refund of $45.67 posts in 5 to 7 business days."
    assert redact_text(text) is text


def test_placeholders_are_the_published_ones():
    assert PLACEHOLDERS == {"phone": "[PHONE]", "email": "[EMAIL]", "card": "[CARD]", "ssn": "[SSN]"}


def test_redact_phone_number_masks_any_non_empty_number():
    assert redact_phone_number("+14155550123") == "[PHONE]"
    assert redact_phone_number("anonymous") == "[PHONE]"
    assert redact_phone_number("") == ""
    assert redact_phone_number(None) is None


# ------------------------------------------------------------------------------------------------
# redact_value
# ------------------------------------------------------------------------------------------------


def test_redact_value_walks_nested_json_and_keeps_keys():
    value = {
        "customer": {"name": "Jane", "notes": ["call (415) 555-0132", {"mail": "jane.doe@example.com"}]},
        "items": [{"sku": "A-1", "qty": 2}],
        "ok": True,
    }
    redacted = redact_value(value)
    assert redacted == {
        "customer": {"name": "Jane", "notes": ["call [PHONE]", {"mail": "[EMAIL]"}]},
        "items": [{"sku": "A-1", "qty": 2}],
        "ok": True,
    }


def test_redact_value_returns_a_new_structure_and_leaves_the_input_alone():
    value = {"a": ["my cell is 415-555-0132"], "b": {"c": "x"}}
    before = copy.deepcopy(value)
    redacted = redact_value(value)
    assert value == before
    assert redacted is not value and redacted["a"] is not value["a"] and redacted["b"] is not value["b"]


@pytest.mark.parametrize(
    ("key", "value", "placeholder"),
    [
        ("phone", "ask reception", "[PHONE]"),
        ("phone_number", "555-0132", "[PHONE]"),
        ("Phone-Number", "x", "[PHONE]"),
        ("phoneNumber", "x", "[PHONE]"),
        ("caller_number", "x", "[PHONE]"),
        ("from", "+14155550123", "[PHONE]"),
        ("TO", "+14155550123", "[PHONE]"),
        ("email", "jane (at) example", "[EMAIL]"),
        ("customer_email", "x", "[EMAIL]"),
        ("card_number", 4111111111111111, "[CARD]"),
        ("cc", "4111", "[CARD]"),
        ("credit-card", "x", "[CARD]"),
        ("ssn", "unknown", "[SSN]"),
        ("SSN", 123456789, "[SSN]"),
    ],
)
def test_redact_value_masks_sensitive_keys(key, value, placeholder):
    assert redact_value({key: value}) == {key: placeholder}


def test_redact_value_keeps_empty_and_non_scalar_values_under_sensitive_keys_walkable():
    assert redact_value({"phone": "", "email": None, "card": {"last4": "4242"}, "to": True}) == {
        "phone": "",
        "email": None,
        "card": {"last4": "4242"},
        "to": True,
    }


def test_redact_value_masks_phone_and_card_like_ints_only():
    redacted = redact_value({"a": 4155550132, "b": 14155550132, "c": 4111111111111111, "d": 58213, "e": 12})
    assert redacted == {"a": "[PHONE]", "b": "[PHONE]", "c": "[CARD]", "d": 58213, "e": 12}


def test_redact_value_leaves_bools_none_floats_and_clock_ints():
    value = {"ok": False, "x": None, "price": 129.99, "ts": 1732492800, "at_ms": 1732492800000, "n": 3}
    assert redact_value(value) == value


def test_redact_value_uses_the_key_as_context_for_identifiers():
    assert redact_value({"order_id": "5821344219"}) == {"order_id": "5821344219"}
    assert redact_value({"note": "5821344219"}) == {"note": "[PHONE]"}


def test_redact_value_handles_scalars_and_lists_at_the_top():
    assert redact_value("call 415-555-0132") == "call [PHONE]"
    assert redact_value(["jane.doe@example.com", 1, None]) == ["[EMAIL]", 1, None]
    assert redact_value(None) is None


# ------------------------------------------------------------------------------------------------
# Robustness
# ------------------------------------------------------------------------------------------------

_FRAGMENTS = [
    "four", "one", "five", "oh", "double", "triple", "hundred", "thousand", "thirty", "dot", "at",
    "underscore", "com", "gmail", "social", "ssn", "phone", "order", "number", "uh", "4111", "1111",
    "415", "555", "0132", "@", "(", ")", "-", ",", ".", "+", "$", "[PHONE]", "[EMAIL]", "[CARD]", "[SSN]",
    "j", "smith", "co", "uk", "9", "1", "0", "12", "2024", ":", "/", "\n",
]  # fmt: skip


def _random_strings(rng: random.Random, count: int):
    for i in range(count):
        if i % 2:
            yield "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 60)))
        else:
            yield " ".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(0, 40)))


def test_redact_text_never_raises_on_random_input_and_is_idempotent():
    rng = random.Random(1234)
    for text in _random_strings(rng, 4000):
        once = redact_text(text)
        assert isinstance(once, str)
        assert redact_text(once) == once, (text, once)
        for span in find_pii(text):
            assert 0 <= span.start < span.end <= len(text)


if __name__ == "__main__":
    print(format_table(score_corpus()))
    typical = [e.text for e in CORPUS if not e.spans and len(e.text) < 140][:40]
    everything = [e.text for e in CORPUS]
    print(f"{microseconds_per_turn(typical):.1f} us per turn without PII, "
          f"{microseconds_per_turn(everything, 20):.1f} us per corpus turn")  # fmt: skip
