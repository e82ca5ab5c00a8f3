"""What an accepted value must stay within, so that nothing stored can break a later read.

- **Times.** A session's ``started_at``/``ended_at`` and a callback's ``Timestamp`` lie between
  2000-01-01 and one day from now. A year-9999 start was once accepted and then broke every
  date-range read of its tenant (the day after it overflows Python's calendar, and a time
  zone west of UTC pushes PostgreSQL past year 9999, which Python can't load at all).
- **JSON values** (metadata, model params, tool arguments and results): no NUL character in a
  key or a string (PostgreSQL can't store one), no unpaired surrogate (not UTF-8, so it can't
  be stored or sent), no integer outside 64 bits (the JSON renderer refuses it) and no nesting
  deeper than ``MAX_JSON_DEPTH``.

Each check returns a message for the caller to attach to the field it names, or None.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(days=1)  # clocks of callers drift; a day ahead is still plausible
MAX_JSON_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
TOO_EARLY = "must be on or after 2000-01-01T00:00:00Z."
TOO_LATE = "must not be more than one day in the future."


def latest_timestamp(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + FUTURE_SLACK


def timestamp_problem(value: dt.datetime, *, now: dt.datetime | None = None) -> str | None:
    """Why ``value`` (aware) can't be stored as a call time, or None when it can."""
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:  # year 9999 west of UTC, or year 1 east of it: past the calendar
        return TOO_LATE if value.year == dt.MAXYEAR else TOO_EARLY
    if utc < EARLIEST:
        return TOO_EARLY
    if utc > latest_timestamp(now):
        return TOO_LATE
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters."
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "must not contain unpaired surrogate characters."
    return None


def json_value_problem(value) -> str | None:
    """Why this parsed JSON value can't be stored and served back, or None when it can.

    Iterative, so a hostile depth can't exhaust the interpreter's stack before it is refused.
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                return f"must not nest deeper than {MAX_JSON_DEPTH} levels."
            if isinstance(item, dict):
                for key, child in item.items():
                    if isinstance(key, str):
                        problem = _text_problem(key)
                        if problem:
                            return f"keys {problem}"
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                return problem
        elif isinstance(item, int) and not isinstance(item, bool) and not INT64_MIN <= item <= INT64_MAX:
            return "integers must fit in 64 bits."
    return None


def is_ascii_digits(text: str) -> bool:
    """``"123"``, and not ``"³"`` or ``"١٢"``: ``str.isdigit`` says yes to superscripts, which
    ``int()`` then refuses (a 500 where an id was expected), and to other scripts' digits, which
    ``int()`` reads as a second spelling of the same id."""
    return text.isascii() and text.isdigit()
