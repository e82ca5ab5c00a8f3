"""Error pages: JSON under /api/, HTML elsewhere."""

import sys

from django.db import DataError
from django.views import defaults
from django.views.csrf import csrf_failure as html_csrf_failure

from config.edge import error_page, wants_json
from sessions_app.api.errors import json_csrf_failure, json_not_found, json_server_error
from sessions_app.errors import DATABASE_RETRY_AFTER_SECONDS, database_unavailable


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500, called while the exception is being handled: a database outage is a 503 the
    client should retry, anywhere (the API, a webhook, a page), never a 500."""
    exc = sys.exc_info()[1]
    if wants_json(request):
        return json_server_error(request, exc)
    if exc is not None and database_unavailable(exc):
        response = error_page(status=503, message="The database is unavailable. Try again in a few seconds.")
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, DataError):
        return error_page(status=400, message="A value in the request is out of range. Nothing was changed.")
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    if request.path.startswith("/api/"):
        return json_csrf_failure(request, reason)
    return html_csrf_failure(request, reason)
