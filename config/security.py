"""Content Security Policy for the review pages: only our own scripts, styles and images.

Transcripts and tool payloads are caller- and model-controlled text. Templates escape them; the
policy is the second wall, so even an escaping mistake can't run a script (no inline scripts,
no inline handlers, no third-party origins). The API answers JSON and the admin is Django's own,
so the policy is set on the review app and the login pages.
"""

from __future__ import annotations

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


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    def process_response(self, request, response):
        if request.path.startswith(PROTECTED_PREFIXES) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = POLICY
            response.setdefault("Referrer-Policy", "same-origin")
        return response
