"""Tenant roles: named bundles of object permissions on a Tenant.

Each (tenant, role) pair is a Django group holding guardian object permissions on that tenant, so
a user's role is their group, and a single permission can still be granted to one user on its own
(for example raw transcript access for one trusted analyst).
"""

VIEWER = "viewer"
ANALYST = "analyst"
ADMIN = "admin"

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    VIEWER: ("view_sessions",),
    ANALYST: ("view_sessions", "review_sessions"),
    ADMIN: (
        "view_sessions",
        "review_sessions",
        "view_raw_transcripts",
        "manage_api_keys",
        "manage_members",
        "export_sessions",
        "view_audit",
    ),
}
ROLES = tuple(ROLE_PERMISSIONS)


def role_group_name(tenant_slug: str, role: str) -> str:
    return f"tenant:{tenant_slug}:{role}"
