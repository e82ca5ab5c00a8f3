"""The edge: what is refused or repaired before any view runs, once for every URL.

- NUL characters in the path, a query or form parameter, or a cookie. No column of ours may
  hold one (PostgreSQL can't store NUL in text), and no identifier, filter or form value has a
  use for one, so the request is answered 400 naming the parameter: JSON under ``/api/`` and
  ``/webhooks/``, the 400 page elsewhere. Views never see them.
- Bodies sent with ``Transfer-Encoding: chunked`` and no ``Content-Length``. Django reads such a
  body as empty (its stream is limited to the declared length, 0); gunicorn hands the application
  the de-chunked stream, so it is read here, up to ``API_MAX_BODY_BYTES`` (413 beyond it), and
  handed on with its real length.
- Request-level errors Django raises itself (a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, too
  many form fields) are answered by ``bad_request`` in the same envelope: 413 or 400, never
  Django's plain HTML "Bad Request (400)" on the API.
"""

from __future__ import annotations

from io import BytesIO

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template import loader

JSON_PREFIXES = ("/api/", "/webhooks/", "/health/")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NUL = "\x00"


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PREFIXES)


PAGE_TITLES = {400: "Bad request", 413: "Request too large", 503: "Temporarily unavailable"}


def error_response(request: HttpRequest, *, status: int, code: str, message: str, param: str | None = None):
    """The envelope under the JSON prefixes, the matching error page everywhere else."""
    if wants_json(request):
        return JsonResponse({"error": {"code": code, "message": message, "param": param}}, status=status)
    return error_page(status=status, message=message)


def error_page(*, status: int, message: str) -> HttpResponse:
    """A plain error page, rendered without the request: no user, session or database involved,
    so it renders even when what failed was the database."""
    context = {"title": PAGE_TITLES.get(status, "Error"), "message": message}
    return HttpResponse(loader.get_template("error.html").render(context), status=status)


def too_large_message() -> str:
    return f"The request body exceeds {settings.API_MAX_BODY_BYTES} bytes."


def _nul_parameter(request: HttpRequest) -> str | None:
    """The first place a NUL character sits in, or None: ``path``, a parameter or cookie name."""
    if NUL in request.path_info:
        return "path"
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in value for value in values):
            return _printable(name)
    for name, value in request.COOKIES.items():
        if NUL in name or NUL in value:
            return f"cookie {_printable(name)}"
    if request.method == "POST" and request.content_type in FORM_TYPES:
        try:
            form = request.POST
        except MultiPartParserError:
            return "body"
        for name, values in form.lists():
            if NUL in name or any(NUL in value for value in values):
                return _printable(name)
    return None


def _printable(name: str) -> str:
    return name.replace(NUL, "\\x00")


def _read_chunked_body(request: HttpRequest) -> bool:
    """Give a chunked body its real length; False when it is over the limit."""
    limit = settings.API_MAX_BODY_BYTES
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        return False
    request.META["CONTENT_LENGTH"] = str(len(body))
    request._stream = LimitedStream(BytesIO(body), len(body))
    return True


def _is_chunked(request: HttpRequest) -> bool:
    return (
        not request.META.get("CONTENT_LENGTH")
        and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        and "wsgi.input" in request.environ
    )


class EdgeMiddleware:
    """Runs first: refuses NUL characters and reads chunked bodies (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if _is_chunked(request) and not _read_chunked_body(request):
            return error_response(request, status=413, code="payload_too_large", message=too_large_message())
        param = _nul_parameter(request)
        if param is not None:
            return error_response(
                request,
                status=400,
                code="invalid_request",
                message=f"{param} must not contain NUL characters. Nothing was changed.",
                param=param,
            )
        return self.get_response(request)


def bad_request(request: HttpRequest, exception=None):
    """handler400: Django's request-level refusals, in the envelope or on the 400 page."""
    if isinstance(exception, RequestDataTooBig):
        return error_response(request, status=413, code="payload_too_large", message=too_large_message())
    if isinstance(exception, TooManyFieldsSent):
        message = "The request has too many parameters."
    else:
        message = "The request could not be understood."
    return error_response(
        request, status=400, code="invalid_request", message=f"{message} Nothing was changed."
    )
