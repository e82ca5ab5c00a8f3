"""Tenant API keys and platform admin keys: create, revoke, authenticate. Plaintext is shown once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sessions_app import keys
from sessions_app.actors import SYSTEM, Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.db import keys as db_keys
from sessions_app.errors import ServiceError
from sessions_app.models import AdminKey, ApiKey, Scope, Tenant

# A digest compared against when the prefix is unknown, so a miss costs the same as a hit.
_DUMMY_DIGEST = keys.digest_key("vsk_000000000000_" + "0" * 49)


def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    scopes: Iterable[str],
    created_by=None,
    expires_at: dt.datetime | None = None,
    actor: Actor = SYSTEM,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext, which is never available again."""
    scopes = list(dict.fromkeys(scopes))
    unknown = [scope for scope in scopes if scope not in Scope.values]
    if unknown:
        raise ServiceError(
            f"Unknown scope {unknown[0]!r}; allowed: {', '.join(Scope.values)}.", param="scopes"
        )
    if not scopes:
        raise ServiceError("A key needs at least one scope.", param="scopes")
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError(
            "expires_at must be in the future; a key can't be created expired.", param="expires_at"
        )
    generated = keys.generate_key()
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            tenant=tenant,
            name=name,
            prefix=generated.prefix,
            digest=keys.digest_key(generated.raw),
            scopes=scopes,
            created_by=created_by,
            expires_at=expires_at,
        )
        audit_record(
            actor=actor,
            tenant=tenant,
            action=AuditAction.API_KEY_CREATED,
            target_type="api_key",
            target_id=api_key.prefix,
            details={"name": name, "scopes": scopes},
        )
    return api_key, generated.raw


def api_key_revoke(*, api_key: ApiKey, actor: Actor = SYSTEM) -> ApiKey:
    """Revoke a key. Revoking twice keeps the first revocation time."""
    if api_key.revoked_at is not None:
        return api_key
    with transaction.atomic():
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            tenant=api_key.tenant,
            action=AuditAction.API_KEY_REVOKED,
            target_type="api_key",
            target_id=api_key.prefix,
        )
    return api_key


def _key_authenticate(model, *, raw_key: str, key_type: str, related: tuple[str, ...] = ()):
    """Resolve a presented key of ``key_type`` to a usable row of ``model``, or None.

    Every failure looks the same to the caller, and an unknown prefix still costs a digest
    comparison, so responses never reveal whether a prefix exists. ``last_used_at`` is written at
    most once per API_KEY_LAST_USED_RESOLUTION_SECONDS, so reads stay reads.
    """
    parsed = keys.parse_key(raw_key, key_type)
    if parsed is None:
        return None
    row = db_keys.key_row(model, parsed.prefix, related=related)
    if not keys.digests_match(raw_key, row.digest if row else _DUMMY_DIGEST) or row is None:
        return None
    now = timezone.now()
    expires_at = getattr(row, "expires_at", None)
    if row.revoked_at is not None or (expires_at is not None and expires_at <= now):
        return None
    resolution = dt.timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION_SECONDS)
    if row.last_used_at is None or now - row.last_used_at >= resolution:
        model.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """Resolve a tenant API key (``vsk_…``); see ``_key_authenticate``."""
    return _key_authenticate(ApiKey, raw_key=raw_key, key_type=keys.KEY_TYPE, related=("tenant",))


def admin_key_create(*, name: str, actor: Actor = SYSTEM) -> tuple[AdminKey, str]:
    """Create a platform admin key and return it with its plaintext, which is never available again."""
    generated = keys.generate_key(keys.ADMIN_KEY_TYPE)
    with transaction.atomic():
        admin_key = AdminKey.objects.create(
            name=name, prefix=generated.prefix, digest=keys.digest_key(generated.raw)
        )
        audit_record(
            actor=actor,
            tenant=None,
            action=AuditAction.ADMIN_KEY_CREATED,
            target_type="admin_key",
            target_id=admin_key.prefix,
            details={"name": name},
        )
    return admin_key, generated.raw


def admin_key_revoke(*, admin_key: AdminKey, actor: Actor = SYSTEM) -> AdminKey:
    """Revoke a platform admin key; revoking twice keeps the first time."""
    if admin_key.revoked_at is None:
        with transaction.atomic():
            admin_key.revoked_at = timezone.now()
            admin_key.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                tenant=None,
                action=AuditAction.ADMIN_KEY_REVOKED,
                target_type="admin_key",
                target_id=admin_key.prefix,
            )
    return admin_key


def admin_key_authenticate(*, raw_key: str) -> AdminKey | None:
    """Resolve a platform admin key (``vsa_…``); see ``_key_authenticate``."""
    return _key_authenticate(AdminKey, raw_key=raw_key, key_type=keys.ADMIN_KEY_TYPE)
