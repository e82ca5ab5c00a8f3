"""Template context every review page gets."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def invitations(request: HttpRequest) -> dict:
    """``pending_invitations``: the count in the navigation, looked up only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        from qa_app.invitations import pending_invitation_count

        return pending_invitation_count(user)

    return {"pending_invitations": SimpleLazyObject(count)}
