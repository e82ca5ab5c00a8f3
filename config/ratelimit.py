"""Request budgets: a fixed one-minute window per bucket, counted in the default cache.

With ``REDIS_URL`` set the cache is Redis, so every worker and every host behind it draws from
one count and a limit means what it says. Without it each process counts alone (the zero-setup
default): N workers allow up to N times the limit. Buckets name what is counted, e.g.
``api-key:17`` (each tenant key), ``anon-ip:203.0.113.9`` (requests without a valid key, counted
by ``config.clientip``) and ``webhook:3`` (a tenant's Twilio callbacks).

If the cache is unreachable the request is let through and a warning logged: an outage of the
limiter must not become an outage of the API.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends and the budget is whole again

    def headers(self) -> dict[str, str]:
        """The IETF draft's ``RateLimit-*`` fields, plus ``Retry-After`` when refused."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={WINDOW_SECONDS}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


def hit(bucket: str, limit: int) -> Decision:
    """Count one request against ``bucket``; allowed while the window's count is within ``limit``."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    reset = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
    if limit <= 0:  # a limit of 0 switches the budget off
        return Decision(True, 0, 0, reset)
    try:
        count = _increment(f"ratelimit:{bucket}:{window}")
    except (RedisError, OSError) as error:
        logger.warning("rate limiter unavailable, letting the request through: %s", error)
        return Decision(True, limit, limit, reset)
    return Decision(count <= limit, limit, max(0, limit - count), reset)


def _increment(key: str) -> int:
    if cache.add(key, 1, timeout=WINDOW_SECONDS * 2):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the add and the incr: this request opens a new count
        cache.add(key, 1, timeout=WINDOW_SECONDS * 2)
        return 1
