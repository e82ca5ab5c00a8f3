"""The one error envelope: ``{"error": {"code", "message", "param"}}``, for every API failure.

DRF exceptions come through ``api_exception_handler``; Django-level 404s and 500s under ``/api/``
come through ``json_not_found`` and ``json_server_error``, so no HTML error page reaches a client.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from sessions_app.api.authentication import INVALID_KEY_MESSAGE
from sessions_app.api.parsers import PayloadTooLarge
from sessions_app.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    ServiceError,
    database_unavailable,
    database_unavailable_body,
    error_body,
    flatten_errors,
    unstorable_value_body,
    validation_message,
)

logger = logging.getLogger(__name__)

CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid_request",
    status.HTTP_401_UNAUTHORIZED: "unauthenticated",
    status.HTTP_403_FORBIDDEN: "forbidden",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "payload_too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "rate_limited",
}


# A refusal is a 400 unless its code says more.
SERVICE_ERROR_STATUS = {
    "conflict": status.HTTP_409_CONFLICT,
    "not_ready": status.HTTP_409_CONFLICT,
    "not_found": status.HTTP_404_NOT_FOUND,
    "gone": status.HTTP_410_GONE,
    "payload_too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "unsupported_media_type": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if database_unavailable(exc):
        logger.warning("database unavailable: %s", exc)
        return Response(
            database_unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DataError):
        # Every field is bounded before it is written; a value the database still refuses is a
        # gap in that validation: the client gets a 400, and the log says where to close it.
        logger.error("value refused by the database", exc_info=exc)
        return Response(unstorable_value_body(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(f"The request body exceeds {settings.API_MAX_BODY_BYTES} bytes.")
    if isinstance(exc, ServiceError):
        code = SERVICE_ERROR_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST)
        return Response(error_body(exc.code, exc.message, exc.param), status=code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    status_code = exc.status_code
    view = context.get("view")
    unauthenticated = isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed)
    if unauthenticated:
        # Always 401 with the view's own scheme (Bearer for tenant keys, x-admin-key for the platform).
        status_code = status.HTTP_401_UNAUTHORIZED
        request = context.get("request")
        scheme = view.get_authenticate_header(request) if view is not None and request is not None else None
        headers["WWW-Authenticate"] = scheme or "Bearer"

    if isinstance(exc, exceptions.ValidationError):
        items = flatten_errors(exc.detail)
        first = items[0] if items else {"param": None, "message": "Invalid request."}
        body = error_body(
            "invalid_request",
            validation_message(first["param"], first["message"]),
            first["param"],
            details=items if len(items) > 1 else None,
        )
    elif isinstance(exc, exceptions.ParseError):
        body = error_body("malformed_json", f"The request body is not valid JSON: {exc.detail}")
    elif unauthenticated:
        body = error_body("unauthenticated", getattr(view, "unauthenticated_message", INVALID_KEY_MESSAGE))
    else:
        code = CODES.get(status_code, getattr(exc, "default_code", "error"))
        param = getattr(exc, "param", None)
        body = error_body(code, str(exc.detail), param)
    return Response(body, status=status_code, headers=headers)


# Exempt from CSRF because it changes nothing: an unknown path answers 404 whatever the method,
# instead of a CSRF 403 for a POST or DELETE that could never have done anything.
@csrf_exempt
def json_not_found(request, exception=None):
    return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=404)


def json_server_error(request, exc: BaseException | None = None):
    if exc is not None and database_unavailable(exc):
        response = JsonResponse(database_unavailable_body(), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, DataError):
        return JsonResponse(unstorable_value_body(), status=400)
    return JsonResponse(error_body("server_error", "An unexpected error occurred."), status=500)


def json_csrf_failure(request, reason=""):
    return JsonResponse(error_body("forbidden", "CSRF verification failed."), status=403)
