"""Formatting for the review pages: durations, offsets and latencies from milliseconds."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(ms: int | None) -> str:
    """95000 -> "1m 35s"; 4200 -> "4s"; None -> "—"."""
    if ms is None:
        return "—"
    seconds = round(ms / 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


@register.filter
def offset(ms: int | None) -> str:
    """Position in the call: 83400 -> "1:23.4"."""
    if ms is None:
        return ""
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes}:{rest / 1000:04.1f}"


@register.filter
def latency(ms: int | None) -> str:
    """310 -> "310 ms"; 2400 -> "2.4 s"."""
    if ms is None:
        return "—"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


@register.filter
def label(value: str | None) -> str:
    """needs_work -> "needs work"."""
    return (value or "").replace("_", " ")


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def duration_minutes(value) -> str:
    """A timedelta as people say it: "15 minutes", "1 minute", "2 hours"."""
    minutes = max(1, round(value.total_seconds() / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@register.filter
def json_compact(value) -> str:
    """A JSON value on one line, for a table cell."""
    import json

    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), sort_keys=True)


@register.filter
def percent_points(value) -> str:
    """0.0962 -> "9.6 pts": a rate's margin, in percentage points."""
    if value is None:
        return "—"
    return f"{value * 100:.1f} pts"
