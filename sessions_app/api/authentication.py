"""``Authorization: Bearer vsk_…`` authentication for tenant runtime keys."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from sessions_app.models import ApiKey
from sessions_app.services import api_key_authenticate

# One message for every failure: a caller can't tell a bad prefix from a bad secret or a revoked key.
INVALID_KEY_MESSAGE = "Missing, invalid, expired or revoked API key."


class ApiKeyPrincipal:
    """The request.user for an API-key request: the key, and the tenant it belongs to."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.tenant = api_key.tenant

    def get_username(self) -> str:
        return self.api_key.label

    def __str__(self) -> str:
        return self.api_key.label


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword.lower().encode() or len(header) != 2:
            raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE)
        try:
            raw_key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE) from None
        api_key = api_key_authenticate(raw_key=raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword
