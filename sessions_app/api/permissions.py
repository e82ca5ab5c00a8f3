"""Scope checks: each view names the scope each method needs."""

from rest_framework import permissions

from sessions_app.models import ApiKey


class HasScope(permissions.BasePermission):
    """Grant when the request's API key carries the scope the view requires for this method.

    Views set ``required_scopes = {"GET": "sessions:read", "POST": "sessions:write"}``. A request
    without a key is refused with 401; a key without the scope with 403.
    """

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False
        method = "GET" if request.method == "HEAD" else request.method
        required = getattr(view, "required_scopes", {}).get(method)
        if required is None:
            # No handler: let the view answer 405. A handler without a declared scope is refused.
            return not hasattr(view, method.lower())
        self.message = f"This API key lacks the {required} scope."
        return api_key.has_scope(required)
