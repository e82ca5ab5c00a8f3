"""Tenant API keys with their scopes, and platform admin keys: only digests are stored."""

from django.conf import settings
from django.db import models

from sessions_app.models.tenancy import Tenant


class Scope(models.TextChoices):
    SESSIONS_READ = "sessions:read", "Read sessions (redacted)"
    SESSIONS_READ_RAW = "sessions:read_raw", "Read sessions unredacted"
    SESSIONS_WRITE = "sessions:write", "Write sessions (ingestion)"
    QA_WRITE = "qa:write", "Tag and evaluate sessions"
    AUDIT_READ = "audit:read", "Read the audit trail"


class ApiKey(models.Model):
    """A tenant-scoped runtime credential. Only the SHA-256 digest of the whole key is stored."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (vsk_{self.prefix}_…)"

    @property
    def label(self) -> str:
        """How the key appears in audit trails and reviewer columns: never the secret."""
        return f"api-key:{self.prefix}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class AdminKey(models.Model):
    """A platform admin credential for ``x-admin-key``, accepted only under /api/v1/admin/."""

    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "platform admin key"

    def __str__(self) -> str:
        return f"{self.name} (vsa_{self.prefix}_…)"

    @property
    def label(self) -> str:
        return f"admin-key:{self.prefix}"
