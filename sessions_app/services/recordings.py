"""Call recordings: storing one (an upload or Twilio's media), processing it in the background into
the redacted rendition and the measured timings, and removing both files when retention says so.

Storing is synchronous and cheap: the media is checked (a type we read, a header that decodes, one
or two channels), saved under a fresh name, and the row points at it, all or nothing. Everything
that reads the samples runs after the request returns (``sessions_app.tasks``), against the row's
``generation``: a replacement uploaded meanwhile makes the older job's result stale, and it is
thrown away rather than written over the newer one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sessions_app.audio import analysis
from sessions_app.audio.media import CONTENT_TYPES, SERVED_TYPES, MediaError, WavWriter, pcm_blocks, probe
from sessions_app.errors import ServiceError
from sessions_app.models import (
    Recording,
    RecordingSource,
    RecordingStatus,
    RecordingTurnTiming,
    TranscriptTurn,
    VoiceSession,
)
from sessions_app.redaction.audio import audio_pii

logger = logging.getLogger(__name__)

ROLES = ("caller", "agent")
MONO_ROLES = ("mixed", "caller", "agent")
# A job that failed this many times for a reason other than the media itself gives up.
MAX_ATTEMPTS = 3


def recording_storage():
    return storages["recordings"]


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _kind(content_type: str) -> str:
    kind = CONTENT_TYPES.get(media_type(content_type))
    if kind is None:
        raise ServiceError(
            "Send the recording as audio/wav, audio/mpeg, audio/ogg or audio/webm.",
            param="Content-Type",
            code="unsupported_media_type",
        )
    return kind


def _channel_roles(value: str | None, channels: int) -> str:
    if channels > 2:
        raise ServiceError(
            f"The recording has {channels} channels; send mono or two channels (caller and agent).",
            param="body",
            code="invalid_media",
        )
    if channels == 1:
        role = (value or "mixed").strip()
        if role not in MONO_ROLES:
            raise ServiceError(
                "A mono recording's channels is one of mixed, caller or agent.", param="channels"
            )
        return role
    roles = tuple(part.strip() for part in (value or "caller,agent").split(","))
    if sorted(roles) != sorted(ROLES):
        raise ServiceError(
            "channels names each channel's speaker in order: caller,agent or agent,caller.", param="channels"
        )
    return ",".join(roles)


def _digest(file: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    file.seek(0)
    while chunk := file.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def _name(recording_session: VoiceSession, suffix: str) -> str:
    return f"{recording_session.tenant_id}/{recording_session.pk}/{uuid.uuid4().hex}-{suffix}"


def _enqueue(recording: Recording) -> None:
    from sessions_app import tasks

    recording_id, generation = recording.pk, recording.generation
    # Robust: the upload has committed; a broker that can't be reached is logged, not a 500.
    transaction.on_commit(lambda: tasks.recording_process_job.delay(recording_id, generation), robust=True)


def _delete_files(names: Iterable[str]) -> None:
    storage = recording_storage()
    for name in names:
        if name:
            storage.delete(name)


@dataclass(frozen=True)
class Stored:
    recording: Recording
    created: bool


def recording_store(
    *,
    session: VoiceSession,
    file: BinaryIO,
    content_type: str,
    channels: str | None = None,
    source: str = RecordingSource.UPLOAD,
    provider_sid: str = "",
    source_url: str = "",
    queue: bool = True,
) -> Stored:
    """Keep ``file`` (seekable) as ``session``'s recording, replacing any earlier one, and queue its
    processing (``queue=False``: the caller runs ``recording_process`` itself, as the demo seed
    does). Refused with a ServiceError naming the fault, and then nothing is kept."""
    kind = _kind(content_type)
    sha256, size = _digest(file)
    if not size:
        raise ServiceError("The request body is empty; send the audio file as the body.", param="body")
    try:
        info = probe(file, kind)
    except MediaError as error:
        raise ServiceError(str(error), param="body", code="invalid_media") from error
    roles = _channel_roles(channels, info.channels)
    storage = recording_storage()
    name = storage.save(_name(session, f"raw.{kind}"), File(file))
    try:
        with transaction.atomic():
            recording = Recording.objects.select_for_update().filter(session=session).first()
            created = recording is None
            stale: list[str] = []
            if created:
                recording = Recording(tenant_id=session.tenant_id, session=session)
            else:
                stale = [recording.raw_name, recording.redacted_name]
                recording.generation += 1
            recording.status = RecordingStatus.PENDING
            recording.source = source
            recording.error = ""
            recording.attempts = 0
            recording.content_type = SERVED_TYPES[kind]
            recording.channel_roles = roles
            recording.channels = info.channels
            recording.sample_rate = info.sample_rate
            recording.duration_ms = info.duration_ms
            recording.size_bytes = size
            recording.sha256 = sha256
            recording.raw_name = name
            recording.redacted_name = ""
            recording.redacted_size_bytes = None
            recording.bleeped_spans = []
            recording.peaks = []
            recording.provider_sid = provider_sid
            recording.source_url = source_url
            recording.processed_at = None
            recording.purged_at = None
            recording.save()
            transaction.on_commit(lambda: _delete_files(stale))
            if queue:
                _enqueue(recording)
    except BaseException:
        storage.delete(name)
        raise
    return Stored(recording=recording, created=created)


def _turns(session_id) -> list[dict]:
    return list(
        TranscriptTurn.objects.filter(session_id=session_id)
        .order_by("seq")
        .values("seq", "role", "text", "start_ms", "end_ms", "words")
    )


def _kind_of(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def recording_process(recording_id: int, generation: int) -> Recording | None:
    """Make the redacted rendition and measure the call; None when the job is stale (a newer
    upload, a purge, a deleted session). Media that can't be read marks the recording failed;
    any other error is raised for the job runner to retry, up to MAX_ATTEMPTS."""
    claimed = Recording.objects.filter(pk=recording_id, generation=generation, purged_at__isnull=True).update(
        status=RecordingStatus.PROCESSING, updated_at=timezone.now()
    )
    if not claimed:
        return None
    recording = Recording.objects.select_related("tenant").get(pk=recording_id)
    try:
        return _process(recording)
    except MediaError as error:
        _fail(recording, str(error))
        return None
    except Exception as error:
        attempts = recording.attempts + 1
        Recording.objects.filter(pk=recording.pk, generation=generation).update(attempts=attempts)
        if attempts >= MAX_ATTEMPTS:
            logger.exception("Recording %s failed %s times; giving up", recording.pk, attempts)
            _fail(recording, f"Processing failed: {error}")
            return None
        raise


def _fail(recording: Recording, message: str) -> None:
    Recording.objects.filter(pk=recording.pk, generation=recording.generation).update(
        status=RecordingStatus.FAILED, error=message[:2000], updated_at=timezone.now()
    )


def _process(recording: Recording) -> Recording | None:
    storage = recording_storage()
    pii = audio_pii(_turns(recording.session_id))
    bleeps = [analysis.Bleep(span.start_ms, span.end_ms) for span in pii.spans]
    redacted_name, redacted_size = "", None
    with storage.open(recording.raw_name, "rb") as raw, tempfile.TemporaryFile() as out:
        kind = _kind_of(recording.raw_name)
        info = probe(raw, kind)
        # PII that can't be placed: no rendition at all rather than one that may still say it.
        writer = (
            None
            if pii.untimed_turns
            else WavWriter(out, channels=info.channels, sample_rate=info.sample_rate)
        )
        result = analysis.render(
            pcm_blocks(raw, kind),
            channels=info.channels,
            sample_rate=info.sample_rate,
            bleeps=bleeps,
            out=writer,
        )
        if writer is not None:
            writer.close()
            redacted_size = out.tell()
            out.seek(0)
            redacted_name = storage.save(
                _name(recording.session, "redacted.wav"), File(out, name="redacted.wav")
            )
    roles = recording.channel_roles.split(",")
    segments = [analysis.speech_segments(result.rms[:, channel]) for channel in range(result.channels)]
    conversation = None
    if result.channels == 2:
        conversation = analysis.conversation(
            segments[roles.index("caller")],
            segments[roles.index("agent")],
            _turns(recording.session_id),
            flag_ms=settings.RECORDING_LATENCY_FLAG_MS,
        )
    measured = (
        sorted(t.measured_ms for t in conversation.timings if t.measured_ms is not None)
        if conversation
        else []
    )
    remove_after = []
    with transaction.atomic():
        current = Recording.objects.select_for_update().filter(pk=recording.pk).first()
        if current is None or current.generation != recording.generation or current.purged_at is not None:
            transaction.on_commit(lambda: _delete_files([redacted_name]))
            return None
        current.status = RecordingStatus.READY
        current.error = (
            "Turns " + ", ".join(str(seq) for seq in pii.untimed_turns) + " hold PII but have no timings to "
            "place it, so no redacted rendition was made; only raw access can play this recording."
            if pii.untimed_turns
            else ""
        )
        current.duration_ms = result.duration_ms
        current.redacted_name = redacted_name
        current.redacted_size_bytes = redacted_size
        current.bleeped_spans = [[span.start_ms, span.end_ms] for span in pii.spans]
        current.peaks = analysis.peaks(result)
        current.response_p50_ms = _percentile(measured, 50)
        current.response_p95_ms = _percentile(measured, 95)
        current.response_max_ms = max(measured) if measured else None
        current.talk_over_ms = conversation.talk_over_ms if conversation else None
        speech = [segment for channel in segments for segment in channel]
        current.longest_silence_ms = analysis.longest_silence(speech) if speech else None
        current.silences = [
            list(span) for span in analysis.silences(speech, settings.RECORDING_LONG_SILENCE_MS)
        ]
        current.flagged_turns = sum(1 for t in conversation.timings if t.flagged) if conversation else 0
        current.processed_at = timezone.now()
        if recording.tenant.redact_on_ingest:
            # The tenant keeps no raw caller data: once the rendition exists, the original goes.
            remove_after.append(current.raw_name)
            current.raw_name = ""
        current.save()
        RecordingTurnTiming.objects.filter(recording=current).delete()
        if conversation:
            RecordingTurnTiming.objects.bulk_create(
                [
                    RecordingTurnTiming(
                        tenant_id=current.tenant_id,
                        session_id=current.session_id,
                        recording=current,
                        turn_seq=t.turn_seq,
                        caller_end_ms=t.caller_end_ms,
                        agent_start_ms=t.agent_start_ms,
                        measured_ms=t.measured_ms,
                        reported_ms=t.reported_ms,
                        talk_over_ms=t.talk_over_ms,
                        flagged=t.flagged,
                    )
                    for t in conversation.timings
                ]
            )
        transaction.on_commit(lambda: _delete_files(remove_after))
    return current


def _percentile(ordered: list[int], q: int) -> int | None:
    """The nearest-rank percentile of ``ordered`` (sorted)."""
    if not ordered:
        return None
    rank = max(1, -(-q * len(ordered) // 100))
    return ordered[rank - 1]


def recordings_purge(*, tenant_id: int, session_ids: list, now, hard: bool) -> int:
    """Delete the media of these sessions' recordings from storage; a soft purge keeps the row
    (duration, channels, measured timings), a hard one lets the session's deletion take it.
    Files go first: if the row update then fails, the next run finds the row and finishes."""
    recordings = list(
        Recording.objects.filter(tenant_id=tenant_id, session_id__in=session_ids).values_list(
            "pk", "raw_name", "redacted_name"
        )
    )
    if not recordings:
        return 0
    _delete_files(name for _, raw, redacted in recordings for name in (raw, redacted))
    if not hard:
        Recording.objects.filter(pk__in=[pk for pk, _, _ in recordings]).update(
            status=RecordingStatus.PURGED,
            raw_name="",
            redacted_name="",
            peaks=[],
            bleeped_spans=[],
            silences=[],
            purged_at=now,
            updated_at=now,
        )
    return len(recordings)


def recordings_reprocess(session_ids: Iterable) -> None:
    """Queue new renditions for these sessions' recordings (their transcript changed, so the
    spans to bleep may have too). One query when none of them has a recording."""
    ids = list(session_ids)
    if not ids:
        return
    playable = Recording.objects.filter(session_id__in=ids, purged_at__isnull=True).exclude(raw_name="")
    for recording in playable:
        Recording.objects.filter(pk=recording.pk).update(
            generation=F("generation") + 1, status=RecordingStatus.PENDING, updated_at=timezone.now()
        )
        recording.refresh_from_db(fields=["generation"])
        _enqueue(recording)


# --- Twilio's recording-status callback --------------------------------------------------------

# Twilio's statuses; only a completed recording has media to fetch.
TWILIO_COMPLETED = "completed"
TWILIO_FAILED = ("failed", "absent")
FETCH_CHUNK = 1 << 16


class FetchLater(Exception):
    """The media can't be had yet (Twilio still storing it, a network error, no session with the
    CallSid yet); the job runner retries with a backoff."""


@dataclass(frozen=True)
class TwilioRecording:
    """What a recording-status callback said, checked."""

    recording_sid: str
    url: str
    status: str
    call_sid: str
    account_sid: str
    channels: int
    duration_seconds: int | None

    @classmethod
    def from_params(cls, params) -> TwilioRecording:
        def required(name: str) -> str:
            value = (params.get(name) or "").strip()
            if not value:
                raise ServiceError(f"{name} is required.", param=name)
            return value

        status = required("RecordingStatus")
        url = (params.get("RecordingUrl") or "").strip()
        if status == TWILIO_COMPLETED:
            url = required("RecordingUrl")
            base = settings.TWILIO_API_BASE_URL.rstrip("/") + "/"
            # The URL comes signed by Twilio, but the media is fetched with the tenant's credentials:
            # only from Twilio's own API, never from wherever a callback says.
            if not url.startswith(base):
                raise ServiceError(f"RecordingUrl must be on {base}.", param="RecordingUrl")
        channels = (params.get("RecordingChannels") or "1").strip()
        if channels not in ("1", "2"):
            raise ServiceError("RecordingChannels is 1 or 2.", param="RecordingChannels")
        duration = (params.get("RecordingDuration") or "").strip()
        if duration and not duration.isdigit():
            raise ServiceError("RecordingDuration is whole seconds.", param="RecordingDuration")
        return cls(
            recording_sid=required("RecordingSid")[:64],
            url=url,
            status=status,
            call_sid=required("CallSid")[:64],
            account_sid=required("AccountSid")[:64],
            channels=int(channels),
            duration_seconds=int(duration) if duration else None,
        )

    def as_job(self) -> dict:
        return dataclasses.asdict(self)


def _session_for_call(tenant_id: int, call_sid: str) -> VoiceSession | None:
    return (
        VoiceSession.objects.filter(tenant_id=tenant_id, call_sid=call_sid)
        .order_by("-started_at", "id")
        .first()
    )


def twilio_recording_callback(*, tenant, params) -> TwilioRecording:
    """Record what Twilio said (a pending or failed recording on the call's session, if it exists
    yet) and, for a completed recording, queue the fetch of its media."""
    callback = TwilioRecording.from_params(params)
    session = _session_for_call(tenant.pk, callback.call_sid)
    with transaction.atomic():
        if session is not None and callback.status in (TWILIO_COMPLETED, *TWILIO_FAILED):
            recording, created = Recording.objects.select_for_update().get_or_create(
                session=session,
                defaults={
                    "tenant_id": tenant.pk,
                    "source": RecordingSource.TWILIO,
                    "status": RecordingStatus.PENDING,
                },
            )
            if created or recording.provider_sid in ("", callback.recording_sid) or not recording.raw_name:
                recording.source = RecordingSource.TWILIO
                recording.provider_sid = callback.recording_sid
                recording.source_url = callback.url
                if callback.duration_seconds is not None and not recording.duration_ms:
                    recording.duration_ms = callback.duration_seconds * 1000
                if callback.status in TWILIO_FAILED:
                    recording.status = RecordingStatus.FAILED
                    recording.error = f"Twilio reported the recording {callback.status}."
                recording.save()
        if callback.status == TWILIO_COMPLETED:
            from sessions_app import tasks

            job = callback.as_job()
            tenant_id = tenant.pk
            transaction.on_commit(lambda: tasks.recording_fetch_job.delay(tenant_id, job), robust=True)
    return callback


def recording_fetch(tenant_id: int, job: dict, *, last_attempt: bool = False) -> Recording | None:
    """Fetch a completed Twilio recording with the tenant's credentials and store it like an upload.
    Raises FetchLater while it can't yet (and on the last attempt marks the recording failed)."""
    import requests

    from sessions_app.models import Tenant

    callback = TwilioRecording(**job)
    tenant = Tenant.objects.get(pk=tenant_id)
    session = _session_for_call(tenant_id, callback.call_sid)
    if session is None:
        raise FetchLater(f"No session with CallSid {callback.call_sid} yet.")
    existing = Recording.objects.filter(session=session).first()
    if existing is not None and existing.provider_sid == callback.recording_sid and existing.raw_name:
        return existing  # a redelivered callback: already fetched
    url = callback.url if callback.url.rsplit("/", 1)[-1].count(".") else callback.url + ".wav"
    try:
        response = requests.get(
            url,
            auth=(callback.account_sid, tenant.twilio_auth_token),
            stream=True,
            timeout=settings.RECORDING_FETCH_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        return _fetch_failed(session, callback, f"Fetching the recording failed: {error}", last_attempt)
    with response:
        if response.status_code in (401, 403):
            return _fetch_failed(
                session, callback, f"Twilio refused the tenant's credentials ({response.status_code}).", True
            )
        if response.status_code != 200:
            return _fetch_failed(
                session, callback, f"Twilio answered {response.status_code} for the media.", last_attempt
            )
        with tempfile.SpooledTemporaryFile(max_size=8 << 20) as body:
            total = 0
            for chunk in response.iter_content(FETCH_CHUNK):
                total += len(chunk)
                if total > settings.RECORDING_MAX_BYTES:
                    return _fetch_failed(session, callback, "The recording is larger than allowed.", True)
                body.write(chunk)
            body.seek(0)
            content_type = response.headers.get("Content-Type", "audio/wav")
            try:
                stored = recording_store(
                    session=session,
                    file=body,
                    content_type=content_type,
                    channels="caller,agent" if callback.channels == 2 else "mixed",
                    source=RecordingSource.TWILIO,
                    provider_sid=callback.recording_sid,
                    source_url=callback.url,
                )
            except ServiceError as error:
                return _fetch_failed(session, callback, f"Twilio's media was refused: {error.message}", True)
    return stored.recording


def _fetch_failed(session, callback: TwilioRecording, message: str, final: bool) -> None:
    if not final:
        raise FetchLater(message)
    recording, _ = Recording.objects.get_or_create(
        session=session, defaults={"tenant_id": session.tenant_id, "source": RecordingSource.TWILIO}
    )
    if recording.raw_name and recording.provider_sid != callback.recording_sid:
        return None  # an uploaded recording stays; this fetch simply failed
    Recording.objects.filter(pk=recording.pk).update(
        status=RecordingStatus.FAILED,
        error=message[:2000],
        provider_sid=callback.recording_sid,
        source_url=callback.url,
        updated_at=timezone.now(),
    )
    logger.warning("Recording %s for session %s not fetched: %s", callback.recording_sid, session.pk, message)
    return None
