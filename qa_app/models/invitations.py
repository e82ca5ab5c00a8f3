"""Invitations: an existing user offered a role in another tenant."""

from django.conf import settings
from django.db import models

from sessions_app.models import Tenant


class InvitationState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"


class TenantInvitation(models.Model):
    """A tenant admin's offer of a role to an existing user, who joins only by accepting it.

    Adding an existing username used to grant the role at once, so any admin could pull any
    user of any tenant into theirs. One pending invitation per tenant and user.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=16, choices=InvitationState.choices, default=InvitationState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user"],
                condition=models.Q(state="pending"),
                name="one_pending_invitation",
            )
        ]
        indexes = [models.Index(fields=["user", "state"], name="invitation_user_state")]

    def __str__(self) -> str:
        return f"{self.user_id} to {self.tenant_id} as {self.role} ({self.state})"
