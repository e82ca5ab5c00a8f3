"""Writes of the record, one module per subject. Views and commands call these, nothing else.

``tenants`` (creation, policy), ``keys`` (API and admin keys), ``records`` (session ingest: merge
by ``seq``, redaction on ingest) and ``members`` (roles and permissions). The names below are the
package's public interface, so callers write ``from sessions_app.services import tenant_create``.
"""

from sessions_app.services.keys import (
    admin_key_authenticate,
    admin_key_create,
    admin_key_revoke,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)
from sessions_app.services.members import (
    MemberAdded,
    member_add,
    member_permission_set,
    member_remove,
    member_role,
    member_set_role,
)
from sessions_app.services.records import (
    PreparedSession,
    UpsertResult,
    Written,
    records_upsert_many,
    session_write_prepare,
)
from sessions_app.services.tenants import POLICY_FIELDS, tenant_create, tenant_policy_update

__all__ = [
    "POLICY_FIELDS",
    "MemberAdded",
    "PreparedSession",
    "UpsertResult",
    "Written",
    "admin_key_authenticate",
    "admin_key_create",
    "admin_key_revoke",
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "member_add",
    "member_permission_set",
    "member_remove",
    "member_role",
    "member_set_role",
    "records_upsert_many",
    "session_write_prepare",
    "tenant_create",
    "tenant_policy_update",
]
