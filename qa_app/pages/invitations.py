"""The invited user's side of invitations: see them, accept or decline. No tenant access is
needed to get here: an invitation is how a user without one gets it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from qa_app.invitations import invitation_accept, invitation_decline, pending_invitations
from qa_app.models import TenantInvitation
from qa_app.pages.base import actor_for, review_access, review_page


@review_page
def invitation_list(request: HttpRequest) -> HttpResponse:
    invitations = list(pending_invitations(user=request.user).order_by("-created_at"))
    try:
        review = review_access(request)  # a member elsewhere keeps their tenant's navigation
    except Http404:
        review = None
    context = {"invitations": invitations, "nav": "invitations", "review": review}
    return render(request, "review/invitations.html", context)


def _answer(request: HttpRequest, invitation_id: int, answer) -> TenantInvitation:
    try:
        return answer(invitation_id=invitation_id, user=request.user, actor=actor_for(request))
    except TenantInvitation.DoesNotExist:
        # Someone else's, answered, revoked or expired: all look the same.
        raise Http404("No such invitation.") from None


@review_page
@require_POST
def invitation_accept_view(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = _answer(request, invitation_id, invitation_accept)
    messages.success(request, f"You joined {invitation.tenant.name} as {invitation.role}.")
    response = redirect("review:session-list")
    response["Location"] += f"?tenant={invitation.tenant.slug}"
    return response


@review_page
@require_POST
def invitation_decline_view(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = _answer(request, invitation_id, invitation_decline)
    messages.success(request, f"You declined the invitation to {invitation.tenant.name}.")
    return redirect("review:invitations")
