"""The session page's recording: the audio its player streams, and the state it waits on.

Every reader hears the redacted rendition. The original plays only after the audited Reveal: the
raw page carries a short-lived signed token for this user and session, and the audio URL without
it is refused, so raw audio can't be reached by a link that skipped the reveal.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from qa_app.pages.base import actor_for, raw_audio_token_valid, require, review_page
from qa_app.pages.sessions import visible_session
from sessions_app.errors import ServiceError
from sessions_app.models import Recording
from sessions_app.playback import recording_response

_STATUS = {"not_ready": 409, "not_found": 404, "gone": 410}


def _audio(request: HttpRequest, session_id, *, raw: bool) -> HttpResponse:
    review, session = visible_session(request, session_id)
    if raw:
        require(review.access, "view_raw_transcripts")
        if not raw_audio_token_valid(
            request.GET.get("t", ""), user_id=request.user.pk, session_id=session.pk
        ):
            return JsonResponse(
                {
                    "error": {
                        "code": "forbidden",
                        "message": "Reveal the session to play its raw audio.",
                        "param": "t",
                    }
                },
                status=403,
            )
    recording = Recording.objects.select_related("tenant").filter(session=session).first()
    if recording is None:
        raise Http404("This session has no recording.")
    try:
        return recording_response(request, recording, raw=raw, actor=actor_for(request), via="review page")
    except ServiceError as error:
        body = {"error": {"code": error.code, "message": error.message, "param": error.param}}
        return JsonResponse(body, status=_STATUS.get(error.code, 400))


@review_page
@require_GET
def recording_audio(request: HttpRequest, session_id) -> HttpResponse:
    return _audio(request, session_id, raw=False)


@review_page
@require_GET
def recording_audio_raw(request: HttpRequest, session_id) -> HttpResponse:
    return _audio(request, session_id, raw=True)


@review_page
@require_GET
def recording_status(request: HttpRequest, session_id) -> JsonResponse:
    """What the page polls while the recording is processed."""
    _, session = visible_session(request, session_id)
    recording = Recording.objects.filter(session=session).values("status", "error", "generation").first()
    if recording is None:
        raise Http404("This session has no recording.")
    response = JsonResponse(recording)
    response["Cache-Control"] = "no-store"
    return response
