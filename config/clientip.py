"""The client's IP address, for rate limits and login lockouts.

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, each appends the address it received the request
from to ``X-Forwarded-For``, so the client is the entry that many places from the right; anything
further left was written by the client and can't be trusted. With no trusted proxy (the default)
only the socket's address counts, so a client can't choose its own bucket by sending the header.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The address to count this request against (the socket's peer unless proxies are trusted)."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def client_ip_address(request) -> str | None:
    """``client_ip`` when it is an address, else None (a request made in-process has no socket):
    for django-axes, which stores it in an IP address column."""
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
