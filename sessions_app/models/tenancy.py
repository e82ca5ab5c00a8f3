"""Tenants, and the object permissions that scope a member's roles to one tenant."""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from sessions_app.encryption import EncryptedTextField


def default_failure_taxonomy() -> list[str]:
    """Referenced by migration 0001 only: the taxonomy now lives in ``qa_app.FailureCategory``."""
    return ["other"]


class Tenant(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days to keep raw conversation data; empty keeps it forever."
    )
    redact_on_ingest = models.BooleanField(
        default=False, help_text="Store only redacted text: the raw transcript never reaches the database."
    )
    # Encrypted at rest (it can't be a digest: Twilio signs each webhook with the token itself).
    twilio_auth_token = EncryptedTextField(
        blank=True, default="", help_text="Used to verify X-Twilio-Signature; never displayed in full."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        permissions = [
            ("view_sessions", "View the tenant's sessions (redacted)"),
            ("review_sessions", "Tag and evaluate the tenant's sessions"),
            ("view_raw_transcripts", "View unredacted transcripts and tool payloads"),
            ("manage_api_keys", "Create and revoke the tenant's API keys"),
            ("manage_members", "Manage the tenant's members and roles"),
            ("export_sessions", "Export the tenant's sessions"),
            ("view_audit", "Read the tenant's audit trail"),
        ]

    def __str__(self) -> str:
        return self.slug


class TenantUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign key permission rows: fast joins and no orphans (unlike generic ones)."""

    content_object = models.ForeignKey(Tenant, on_delete=models.CASCADE)


class TenantGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Tenant, on_delete=models.CASCADE)
