"""Twilio webhook endpoints: voice status, Media Stream status and recording status callbacks.

Authenticated by ``X-Twilio-Signature`` alone (Twilio can't send a CSRF token, so the views are
CSRF-exempt and the signature is the credential): it is checked with the official ``twilio``
package against the tenant's auth token and the URL Twilio called. Behind a proxy that URL is
``TWILIO_WEBHOOK_BASE_URL`` + the path, or rebuilt from X-Forwarded-Proto/Host when
``USE_X_FORWARDED_HOST`` and ``SECURE_PROXY_SSL`` are on. A bad or missing signature is a 403
and stores nothing, as does a token the configured ENCRYPTION_KEYS can't decrypt; an unknown
tenant is a 404. Each tenant is rate-limited.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from config import ratelimit
from sessions_app.calls import CallbackError, call_callback_record
from sessions_app.encryption import UndecryptableSecret
from sessions_app.errors import ServiceError, error_body
from sessions_app.models import CallEventKind, Tenant
from sessions_app.services.recordings import twilio_recording_callback

logger = logging.getLogger(__name__)


def signed_url(request) -> str:
    """The URL Twilio signed: the public base URL if configured, else this request's own."""
    base = settings.TWILIO_WEBHOOK_BASE_URL
    if base:
        return base.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


def _error(status: int, code: str, message: str, param: str | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, param), status=status)


def _handle(request, tenant_slug: str, record):
    tenant = Tenant.objects.filter(slug=tenant_slug).only("pk", "slug", "twilio_auth_token").first()
    if tenant is None:
        return _error(404, "not_found", "No such tenant.")
    signature = request.headers.get("X-Twilio-Signature", "")
    try:
        token = tenant.twilio_auth_token
    except UndecryptableSecret as error:
        # Refused like a bad signature (nothing to verify with), and loud for the operator.
        logger.error("Webhook for tenant %s refused: %s", tenant.slug, error)
        token = ""
    if (
        not token
        or not signature
        or not RequestValidator(token).validate(signed_url(request), request.POST, signature)
    ):
        return _error(
            403, "invalid_signature", "Missing or invalid X-Twilio-Signature.", "X-Twilio-Signature"
        )
    # Counted after the signature, so only Twilio (holding the token) can spend a tenant's budget.
    budget = ratelimit.hit(f"webhook:{tenant.pk}", settings.TWILIO_WEBHOOK_RATE_LIMIT_PER_MINUTE)
    if not budget.allowed:
        response = _error(
            429, "rate_limited", f"Too many callbacks for this tenant; retry in {budget.reset} s."
        )
        for name, value in budget.headers().items():
            response[name] = value
        return response
    try:
        record(tenant, request.POST.dict())
    except (CallbackError, ServiceError) as error:
        return _error(400, "invalid_request", error.message, error.param)
    return HttpResponse(status=204)


def _call_event(kind: str):
    return lambda tenant, params: call_callback_record(tenant=tenant, kind=kind, params=params)


# CSRF-exempt by necessity: Twilio posts without a CSRF token; X-Twilio-Signature authenticates.
@csrf_exempt
@require_POST
def call_status(request, tenant_slug: str):
    return _handle(request, tenant_slug, _call_event(CallEventKind.CALL_STATUS))


@csrf_exempt
@require_POST
def stream_status(request, tenant_slug: str):
    return _handle(request, tenant_slug, _call_event(CallEventKind.STREAM_STATUS))


@csrf_exempt
@require_POST
def recording_status(request, tenant_slug: str):
    """Twilio's recording-status callback: the media is fetched in the background, with the
    tenant's credentials, and stored as the call's session recording."""
    return _handle(
        request, tenant_slug, lambda tenant, params: twilio_recording_callback(tenant=tenant, params=params)
    )
