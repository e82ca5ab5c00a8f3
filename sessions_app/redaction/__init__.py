"""Redaction: finding PII in caller text (``text``), and which columns hold a redacted twin of it
(``columns``). Text is redacted once, on ingest; a reader without raw access gets the twin."""

from sessions_app.redaction.text import (
    PLACEHOLDERS,
    PiiSpan,
    find_pii,
    redact_phone_number,
    redact_text,
    redact_value,
)

__all__ = ["PLACEHOLDERS", "PiiSpan", "find_pii", "redact_phone_number", "redact_text", "redact_value"]
