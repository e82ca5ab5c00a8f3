# TEMPORARY STUB so the lead engineer can run the app; helper-1 replaces this whole file.
import re

PLACEHOLDERS = {"phone": "[PHONE]", "email": "[EMAIL]", "card": "[CARD]", "ssn": "[SSN]"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_PHONE = re.compile(r"\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b|\+\d{11}")
_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")


def redact_text(text):
    if not text:
        return text
    text = _EMAIL.sub("[EMAIL]", text)
    text = _CARD.sub("[CARD]", text)
    text = _SSN.sub("[SSN]", text)
    return _PHONE.sub("[PHONE]", text)


def redact_value(value):
    if isinstance(value, dict):
        return {k: ("[CARD]" if "card" in k else redact_value(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_phone_number(number):
    return "[PHONE]" if number else number
