"""Playing a recording: the redacted rendition to any reader, the original only to raw access.

The one rule of what audio a reader hears, for the API and the review pages alike. Raw audio is
never cached, and every raw read is audited, once per reader, recording and ``RAW_AUDIT_WINDOW``:
a player's next byte ranges continue the same listening (an event per range would bury the
trail), while a read that starts anywhere, mid-file included, is never unaudited.
"""

from __future__ import annotations

from django.core.cache import cache as shared_cache

from sessions_app.audio.serving import media_response
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.models import Recording, RecordingStatus
from sessions_app.services.recordings import recording_storage


def recording_response(request, recording: Recording, *, raw: bool, actor, via: str):
    """The audio a reader may hear: the rendition, or (``raw``, already allowed) the original,
    auditing each raw listening."""
    if recording.status == RecordingStatus.PURGED:
        raise ServiceError("Retention removed this recording's audio.", param="session_id", code="gone")
    if raw:
        if not recording.raw_name:
            raise ServiceError(
                "This tenant keeps no raw audio: only the redacted rendition exists.",
                param="raw",
                code="not_found",
            )
        name, size, content_type = recording.raw_name, recording.size_bytes, recording.content_type
        if request.method != "HEAD" and _first_read(actor, recording):
            audit_record(
                actor=actor,
                tenant=recording.tenant,
                action=AuditAction.RAW_REVEALED,
                target_type="voice_session",
                target_id=recording.session_id,
                details={"via": via, "what": "recording"},
            )
        cache = "private, no-store"
    else:
        if recording.status != RecordingStatus.READY:
            raise ServiceError(
                f"The recording is {recording.status}; its redacted rendition is not ready yet.",
                param="session_id",
                code="not_ready",
            )
        if not recording.redacted_name:
            raise ServiceError(
                recording.error or "No redacted rendition exists.", param="raw", code="not_ready"
            )
        name, size, content_type = recording.redacted_name, recording.redacted_size_bytes, "audio/wav"
        cache = "private, max-age=3600"
    return media_response(
        request,
        storage=recording_storage(),
        name=name,
        size=size or 0,
        content_type=content_type,
        etag=f"{recording.sha256[:16]}-{recording.generation}-{'raw' if raw else 'redacted'}",
        cache_control=cache,
        filename=f"{recording.session_id}{'' if raw else '-redacted'}.{name.rsplit('.', 1)[-1]}",
    )


RAW_AUDIT_WINDOW = 10 * 60


def _first_read(actor, recording: Recording) -> bool:
    """True for this reader's first raw read of this recording (of its current version) in the
    window. The cache is per process without REDIS_URL: more workers mean more events, never fewer."""
    key = f"raw-audio-read:{actor.label}:{recording.pk}:{recording.generation}"
    return shared_cache.add(key, True, timeout=RAW_AUDIT_WINDOW)
