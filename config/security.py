"""Content Security Policy for the review pages: only our own scripts, styles and images.

Transcripts and tool payloads are caller- and model-controlled text. Templates escape them; the
policy is the second wall, so even an escaping mistake can't run a script (no inline scripts,
no inline handlers, no third-party origins). The API answers JSON and the admin is Django's own,
so the policy is set on the review app and the login pages.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.utils.deprecation import MiddlewareMixin

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PROTECTED_PREFIXES = ("/review/", "/accounts/")


def policy(style_nonce: str = "") -> str:
    """The policy; with ``style_nonce``, style elements carrying it are allowed too (the recording
    player's waveform styles its own shadow DOM with one; no inline script is ever allowed)."""
    if not style_nonce:
        return POLICY
    return POLICY.replace("style-src 'self'", f"style-src 'self' 'nonce-{style_nonce}'")


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    def process_request(self, request):
        # Drawn per request, used only by a page that asks for it (request.csp_nonce in a template).
        request.csp_nonce = secrets.token_urlsafe(18)

    def process_response(self, request, response):
        if request.path.startswith(PROTECTED_PREFIXES) and "Content-Security-Policy" not in response:
            nonce = getattr(request, "csp_nonce", "") if getattr(response, "uses_style_nonce", False) else ""
            response["Content-Security-Policy"] = policy(nonce)
            response.setdefault("Referrer-Policy", "same-origin")
        return response


# The API's public description may be cached; everything else under /api/ is tenant data.
PUBLIC_API_PATHS = ("/api/v1/schema", "/api/v1/docs")


class SecurityHeadersMiddleware(MiddlewareMixin):
    """``Cache-Control: no-store`` on every API response but the public schema and docs (success
    or error: an error can carry a tenant's parameter back, and a shared cache or a browser's
    disk must keep neither), and ``Permissions-Policy`` on every response."""

    def process_response(self, request, response):
        if request.path.startswith("/api/") and not request.path.startswith(PUBLIC_API_PATHS):
            response["Cache-Control"] = "no-store"
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response
