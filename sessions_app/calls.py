"""Twilio call state: status callbacks become call events and call logs, joined to sessions.

Voice status callbacks (CallSid, CallStatus, SequenceNumber, …) and Media Stream status
callbacks (StreamSid, CallSid, StreamEvent, …) are each stored once: a redelivery hits a unique
key and is acknowledged without a second row. Events and sessions join whichever arrives first:
a stream callback records which CallSid a StreamSid belongs to and gives that call_sid to a
session posted with only its stream_id; a session posted later looks the link up on write.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sessions_app.input_bounds import is_ascii_digits, timestamp_problem
from sessions_app.models import CallEvent, CallEventKind, CallLog, Tenant, VoiceSession
from sessions_app.redaction import columns, redact_phone_number, redact_value

# Twilio parameters that carry a phone number (or a SIP address that contains one).
NUMBER_PARAMS = ("From", "To", "Caller", "Called", "ForwardedFrom", "CallerName")


class CallbackError(ValueError):
    def __init__(self, message: str, param: str):
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass(frozen=True)
class CallbackResult:
    call_log: CallLog
    event: CallEvent | None  # None when the callback was a redelivery
    duplicate: bool


def _timestamp(raw: str | None) -> dt.datetime:
    """Twilio sends RFC 2822 ("Mon, 16 Aug 2010 03:45:01 +0000") or ISO 8601; absent means now.

    Anything else, an impossible date ("2026-02-30") or a time outside the window every stored
    call time keeps to (``input_bounds``), is refused: a signature vouches for the sender, not
    for the value.
    """
    if not raw:
        return timezone.now()
    try:
        parsed = parse_datetime(raw)
    except ValueError:  # well-formed but impossible: 2026-02-30, hour 25
        parsed = None
    if parsed is None:
        try:
            parsed = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            raise CallbackError(
                "Timestamp must be an RFC 2822 or ISO 8601 date and time.", param="Timestamp"
            ) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    problem = timestamp_problem(parsed)
    if problem:
        raise CallbackError(f"Timestamp {problem}", param="Timestamp")
    return parsed


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and is_ascii_digits(raw.strip()) and len(raw.strip()) < 10 else None


def _redacted_payload(params: Mapping[str, str]) -> dict:
    redacted = redact_value(dict(params))
    for name in NUMBER_PARAMS:
        if params.get(name):
            redacted[name] = redact_phone_number(params[name])
    return redacted


def _required(params: Mapping[str, str], name: str) -> str:
    value = (params.get(name) or "").strip()
    if not value or len(value) > 64:
        raise CallbackError(f"{name} is required (at most 64 characters).", param=name)
    return value


@transaction.atomic
def call_callback_record(*, tenant: Tenant, kind: str, params: Mapping[str, str]) -> CallbackResult:
    """Store one Twilio callback (once) and bring the call log and any joined session up to date."""
    call_sid = _required(params, "CallSid")
    stream_sid = _required(params, "StreamSid") if kind == CallEventKind.STREAM_STATUS else ""
    event_name = (
        params.get("CallStatus") if kind == CallEventKind.CALL_STATUS else params.get("StreamEvent")
    ) or ""
    if not event_name:
        raise CallbackError(
            "CallStatus is required." if kind == CallEventKind.CALL_STATUS else "StreamEvent is required.",
            param="CallStatus" if kind == CallEventKind.CALL_STATUS else "StreamEvent",
        )
    account_sid = (params.get("AccountSid") or "").strip()
    if len(account_sid) > 64:
        raise CallbackError("AccountSid is at most 64 characters.", param="AccountSid")
    occurred_at = _timestamp(params.get("Timestamp"))
    sequence = _int(params.get("SequenceNumber")) if kind == CallEventKind.CALL_STATUS else None

    call_log, _ = CallLog.objects.select_for_update().get_or_create(
        tenant=tenant, call_sid=call_sid, defaults={"started_at": occurred_at, "last_event_at": occurred_at}
    )
    candidate = CallEvent(
        tenant=tenant,
        call_log=call_log,
        kind=kind,
        call_sid=call_sid,
        stream_sid=stream_sid,
        sequence_number=sequence,
        event=event_name[:32],
        error=params.get("StreamError") or params.get("ErrorMessage") or "",
        occurred_at=occurred_at,
        payload=dict(params),
        payload_redacted=_redacted_payload(params),
    )
    try:
        with transaction.atomic():  # a savepoint: a redelivery's unique-key conflict rolls back only this
            candidate.save(force_insert=True)
    except IntegrityError:
        return CallbackResult(call_log=call_log, event=None, duplicate=True)

    call_log.started_at = min(call_log.started_at, occurred_at)
    call_log.last_event_at = max(call_log.last_event_at, occurred_at)
    call_log.account_sid = account_sid or call_log.account_sid
    if kind == CallEventKind.CALL_STATUS:
        for param, field in (("From", "from_number"), ("To", "to_number"), ("Direction", "direction")):
            if params.get(param):
                setattr(call_log, field, params[param][:32])
        newer = call_log.last_sequence_number is None or (
            sequence is not None and sequence >= call_log.last_sequence_number
        )
        if newer:
            call_log.status = event_name[:32]
            call_log.last_sequence_number = sequence
            duration = _int(params.get("CallDuration"))
            if duration is not None:
                call_log.duration_seconds = duration
    call_log.save()
    if kind == CallEventKind.STREAM_STATUS:
        # The stream's session, posted with only its stream_id, gains its call_sid.
        VoiceSession.objects.filter(tenant=tenant, stream_id=stream_sid, call_sid="").update(
            call_sid=call_sid, updated_at=timezone.now()
        )
    return CallbackResult(call_log=call_log, event=candidate, duplicate=False)


def call_sids_for_streams(*, tenant: Tenant, stream_ids: list[str]) -> dict[str, str]:
    """The CallSid each stream belongs to, from stream callbacks already received."""
    return dict(
        CallEvent.objects.filter(tenant=tenant, kind=CallEventKind.STREAM_STATUS, stream_sid__in=stream_ids)
        .order_by("stream_sid", "occurred_at")
        .values_list("stream_sid", "call_sid")
    )


def call_logs_for(*, tenant: Tenant) -> QuerySet[CallLog]:
    """The tenant's calls, newest first."""
    return CallLog.objects.filter(tenant=tenant).order_by("-started_at", "-id")


def is_call_log_id(ref: str) -> bool:
    """Call records are addressed by id or by CallSid ("CA…"); a short run of digits is an id."""
    return is_ascii_digits(ref) and len(ref) <= 18


def call_log_by_ref(*, tenant: Tenant, ref: str) -> CallLog | None:
    calls = call_logs_for(tenant=tenant)
    return (calls.filter(pk=int(ref)) if is_call_log_id(ref) else calls.filter(call_sid=ref)).first()


def sessions_for_calls(*, tenant: Tenant, call_sids: list[str], raw: bool) -> dict[str, dict]:
    """The newest session of each call_sid, as {call_sid: {id, escalated, summary}}: one query."""
    summary = columns.SESSION.read("summary", raw=raw)
    rows = (
        VoiceSession.objects.filter(tenant=tenant, call_sid__in=call_sids)
        .order_by("call_sid", "-started_at")
        .values("call_sid", "id", "escalated", summary)
    )
    joined: dict[str, dict] = {}
    for row in rows:
        if row["call_sid"] not in joined:
            joined[row["call_sid"]] = {
                "id": row["id"],
                "escalated": row["escalated"],
                "summary": row[summary],
            }
    return joined
