"""Which columns carry caller text, and which of them a reader gets: the one list of redacted twins.

Every column that may hold PII has a twin holding the same content redacted, written once on
ingest (``services.records``, through ``Twins.written``). A reader with raw access reads the column,
everyone else its twin (``presentation``, ``calls``, the review pages, the admin: ``Twins.read``);
the retention purge empties both (``Twins.blank``). Phone numbers have no twin: they are masked as
they are read (``redact_phone_number``), and replaced on ingest when the tenant redacts on ingest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sessions_app.redaction.text import redact_text, redact_value
from sessions_app.redaction.words import redact_words


@dataclass(frozen=True)
class Twins:
    """The raw columns of one table that have a redacted twin: raw name -> (twin, redactor)."""

    columns: Mapping[str, tuple[str, Callable[[Any], Any]]]

    @property
    def raw(self) -> tuple[str, ...]:
        return tuple(self.columns)

    @property
    def redacted(self) -> tuple[str, ...]:
        return tuple(twin for twin, _ in self.columns.values())

    def read(self, name: str, *, raw: bool) -> str:
        """The column a reader gets for ``name``: itself when ``raw`` or when it has no twin."""
        return name if raw or name not in self.columns else self.columns[name][0]

    def read_all(self, names: Iterable[str], *, raw: bool) -> tuple[str, ...]:
        return tuple(self.read(name, raw=raw) for name in names)

    def written(self, values: Mapping[str, Any], *, redact_on_ingest: bool) -> dict[str, Any]:
        """The stored values of the raw columns present in ``values``, with their twins. When the
        tenant redacts on ingest the raw text never reaches the database: the raw column holds the
        redacted form too."""
        stored = {}
        for raw, (twin, redact) in self.columns.items():
            if raw in values:
                redacted = redact(values[raw])
                stored[raw] = redacted if redact_on_ingest else values[raw]
                stored[twin] = redacted
        return stored

    def blank(self, emptied: Mapping[str, Any]) -> dict[str, Any]:
        """Both columns of every pair set to its empty value, for a purge. ``emptied`` must name
        every raw column, so a twin added here cannot be left behind by a purge that forgot it."""
        if set(emptied) != set(self.columns):
            raise ValueError(f"a purge must empty exactly {sorted(self.columns)}, not {sorted(emptied)}")
        return {column: value for raw, value in emptied.items() for column in (raw, self.columns[raw][0])}


SESSION = Twins(
    {
        "summary": ("summary_redacted", redact_text),
        "escalation_reason": ("escalation_reason_redacted", redact_text),
        "metadata": ("metadata_redacted", redact_value),
    }
)
TURN = Twins({"text": ("text_redacted", redact_text), "words": ("words_redacted", redact_words)})
CALL = Twins(
    {
        "arguments": ("arguments_redacted", redact_value),
        "result": ("result_redacted", redact_value),
        "error": ("error_redacted", redact_text),
    }
)
PHONES = ("from_number", "to_number")
