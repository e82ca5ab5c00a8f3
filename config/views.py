"""Error pages: JSON under /api/, HTML elsewhere."""

from django.views import defaults
from django.views.csrf import csrf_failure as html_csrf_failure

from sessions_app.api.errors import json_csrf_failure, json_not_found, json_server_error


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return json_server_error(request)
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    if request.path.startswith("/api/"):
        return json_csrf_failure(request, reason)
    return html_csrf_failure(request, reason)
