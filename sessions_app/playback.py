"""Playing a recording: the redacted rendition to any reader, the original only to raw access.

The one rule of what audio a reader hears, for the API and the review pages alike. The start of
every raw playback is audited; raw audio is never cached.
"""

from __future__ import annotations

from sessions_app.audio.serving import media_response
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.models import Recording, RecordingStatus
from sessions_app.services.recordings import recording_storage


def recording_response(request, recording: Recording, *, raw: bool, actor, via: str):
    """The audio a reader may hear: the rendition, or (``raw``, already allowed) the original,
    auditing the start of each raw playback."""
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
        if request.method != "HEAD" and _starts_playback(request.headers.get("Range", "")):
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


def _starts_playback(range_header: str) -> bool:
    """A whole-file read, or a range from byte 0: a playback or download begins (the ranges a
    player asks for next continue it and are not audited again)."""
    return not range_header or range_header.replace(" ", "").startswith("bytes=0-")
