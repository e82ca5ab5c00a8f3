"""A session's recording over the API: upload or replace it (``sessions:write``), and play it.

Readers get the redacted rendition (every span of PII a tone) once it is processed; a key with
``sessions:read_raw`` may ask for the file as received with ``raw=true``, which is audited (once
per playback: the first byte range, or the whole file) and never cached.
"""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotAcceptable, PermissionDenied
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from sessions_app.api.parsers import PayloadTooLarge
from sessions_app.api.schema import error_responses
from sessions_app.api.views import READ, WRITE, TenantAPIView
from sessions_app.audio.media import CONTENT_TYPES
from sessions_app.errors import ServiceError
from sessions_app.input_bounds import is_ascii_digits
from sessions_app.models import Recording
from sessions_app.payloads import RecordingSerializer
from sessions_app.playback import recording_response
from sessions_app.presentation import recording_as_dict
from sessions_app.services.recordings import recording_store

READ_RAW = "sessions:read_raw"
_SPOOL_BYTES = 8 * 1024 * 1024


class AudioParser(BaseParser):
    """Lets DRF accept the audio types; the view reads the body itself, in chunks."""

    media_type = "audio/*"

    def parse(self, stream, media_type=None, parser_context=None):  # pragma: no cover - never called
        return stream


class AnyAcceptable(DefaultContentNegotiation):
    """Audio players send ``Accept: audio/*``; the audio is the answer, and errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


_AUDIO_BODY = {media: OpenApiTypes.BINARY for media in ("audio/wav", "audio/mpeg", "audio/ogg", "audio/webm")}


def _spooled_body(request):
    """The request body in a temporary file (memory up to 8 MB, then disk), refused past the limit."""
    limit = settings.RECORDING_MAX_BYTES
    length = request.META.get("CONTENT_LENGTH")
    if length and is_ascii_digits(length) and int(length) > limit:
        raise PayloadTooLarge(f"The recording exceeds {limit} bytes.")
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - returned open, the caller closes it
    total = 0
    django_request = request._request
    while chunk := django_request.read(1 << 20):
        total += len(chunk)
        if total > limit:
            spool.close()
            raise PayloadTooLarge(f"The recording exceeds {limit} bytes.")
        spool.write(chunk)
    spool.seek(0)
    return spool


class RecordingView(TenantAPIView):
    serializer_class = RecordingSerializer
    parser_classes = [AudioParser]
    content_negotiation_class = AnyAcceptable
    required_scopes = {"GET": READ, "PUT": WRITE}

    def _session(self, session_id):
        session = self.access.sessions().filter(pk=session_id).first()
        if session is None:
            raise Http404
        return session

    @extend_schema(
        operation_id="voice_session_recording_put",
        summary="Upload or replace the session's recording",
        description=(
            "The body is the audio file: WAV, MP3, Ogg or WebM, mono or two channels. Two channels "
            "are caller then agent unless `channels` says otherwise. 201 for the first recording, "
            "200 for a replacement; the redacted rendition and the measured latency follow in the "
            "background (`status` goes `pending` → `processing` → `ready`)."
        ),
        request=_AUDIO_BODY,
        parameters=[
            OpenApiParameter(
                "channels",
                str,
                description="The speaker of each channel in order: `caller,agent` (default) or "
                "`agent,caller`; for mono `mixed` (default), `caller` or `agent`.",
            )
        ],
        responses={
            200: RecordingSerializer,
            201: RecordingSerializer,
            **error_responses(400, 401, 403, 404, 413, 415),
        },
    )
    def put(self, request, session_id):
        session = self._session(session_id)
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.split(";", 1)[0].strip().lower() not in CONTENT_TYPES:
            raise ServiceError(
                "Send the recording as audio/wav, audio/mpeg, audio/ogg or audio/webm.",
                param="Content-Type",
                code="unsupported_media_type",
            )
        with _spooled_body(request) as body:
            stored = recording_store(
                session=session,
                file=body,
                content_type=content_type,
                channels=request.query_params.get("channels"),
            )
        return Response(recording_as_dict(stored.recording), status=201 if stored.created else 200)

    @extend_schema(
        operation_id="voice_session_recording_get",
        summary="Play the session's recording",
        description=(
            "The redacted rendition (16-bit WAV; PII replaced by a tone) once `status` is `ready`. "
            "`raw=true` (with `sessions:read_raw`) is the file as received, audited and `no-store`. "
            "Honours `Range: bytes=…` (206), so a player seeks without downloading the call."
        ),
        parameters=[
            OpenApiParameter("raw", bool, description="The original audio (needs `sessions:read_raw`)."),
        ],
        responses={
            (200, "audio/wav"): OpenApiResponse(OpenApiTypes.BINARY, description="The audio."),
            (206, "audio/wav"): OpenApiResponse(OpenApiTypes.BINARY, description="The requested bytes."),
            **error_responses(400, 401, 403, 404, 409, 410, 416),
        },
    )
    def get(self, request, session_id):
        raw_param = request.query_params.get("raw", "false").lower()
        if raw_param not in ("true", "false", "1", "0"):
            raise ServiceError("raw is true or false.", param="raw")
        raw = raw_param in ("true", "1")
        if raw and not request.auth.has_scope(READ_RAW):
            raise PermissionDenied(f"This API key lacks the {READ_RAW} scope.")
        session = self._session(session_id)
        recording = Recording.objects.filter(session=session).first()
        if recording is None:
            raise ServiceError("This session has no recording.", param="session_id", code="not_found")
        return recording_response(request, recording, raw=raw, actor=self.actor, via="api")
