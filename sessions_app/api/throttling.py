"""API rate limits: every tenant or admin key has its own budget, and requests without a valid key
share one per client address, counted before the 401, so guessing keys is as slow as the limit.

The budgets are settings (``API_RATE_LIMIT_PER_KEY``, ``API_RATE_LIMIT_ANONYMOUS_PER_IP``, per
minute); the counting is ``config.ratelimit``. Every limited response carries ``RateLimit-*``
headers; a refused one is the 429 envelope with ``Retry-After``.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions

from config import ratelimit
from config.clientip import client_ip


class RateLimited(exceptions.Throttled):
    default_code = "rate_limited"

    def __init__(self, decision: ratelimit.Decision, whose: str):
        super().__init__(
            wait=decision.reset,
            detail=(
                f"Rate limit exceeded: {decision.limit} requests a minute {whose}; "
                f"retry in {decision.reset} s."
            ),
        )
        self.decision = decision


class RateLimitMixin:
    """Counts each request once, right after authentication and before anything else can refuse it."""

    def initial(self, request, *args, **kwargs):
        try:
            self.perform_authentication(request)
        except exceptions.AuthenticationFailed:
            self._count(request, None)
            raise
        self._count(request, request.auth)
        super().initial(request, *args, **kwargs)

    def _count(self, request, credential) -> None:
        if credential is None:
            bucket, limit, whose = (
                f"anon-ip:{client_ip(request)}",
                settings.API_RATE_LIMIT_ANONYMOUS_PER_IP,
                ("from this address without a valid key"),
            )
        else:
            kind = type(credential).__name__.lower()
            bucket, limit, whose = f"{kind}:{credential.pk}", settings.API_RATE_LIMIT_PER_KEY, "for this key"
        decision = ratelimit.hit(bucket, limit)
        request.rate_limit = decision
        if not decision.allowed:
            raise RateLimited(decision, whose)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        decision = getattr(request, "rate_limit", None)
        if decision is not None and decision.limit:
            for name, value in decision.headers().items():
                response[name] = value
        return response
