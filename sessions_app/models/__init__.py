"""Tenants, their API keys, the voice sessions they persist, call logs and the audit trail.

Every tenant-owned table carries ``tenant_id`` so the schema can later be distributed by tenant
(Citus). One module per subject; the names below are the package's interface, so callers (and
migrations) write ``from sessions_app.models import VoiceSession``.
"""

from sessions_app.models.audit import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet, AuditEvent
from sessions_app.models.calls import CallEvent, CallEventKind, CallLog
from sessions_app.models.changes import ChangedDay
from sessions_app.models.keys import AdminKey, ApiKey, Scope
from sessions_app.models.recordings import Recording, RecordingSource, RecordingStatus, RecordingTurnTiming
from sessions_app.models.sessions import (
    SEARCH_CONFIG,
    Direction,
    FunctionCall,
    FunctionCallStatus,
    QaState,
    SessionShare,
    SessionStatus,
    TranscriptTurn,
    TurnRole,
    VoiceSession,
)
from sessions_app.models.tenancy import (
    Tenant,
    TenantGroupObjectPermission,
    TenantUserObjectPermission,
    default_failure_taxonomy,
)

__all__ = [
    "SEARCH_CONFIG",
    "AdminKey",
    "ApiKey",
    "AppendOnlyError",
    "AppendOnlyModel",
    "AppendOnlyQuerySet",
    "AuditEvent",
    "CallEvent",
    "CallEventKind",
    "CallLog",
    "ChangedDay",
    "Direction",
    "FunctionCall",
    "FunctionCallStatus",
    "QaState",
    "Recording",
    "RecordingSource",
    "RecordingStatus",
    "RecordingTurnTiming",
    "Scope",
    "SessionShare",
    "SessionStatus",
    "Tenant",
    "TenantGroupObjectPermission",
    "TenantUserObjectPermission",
    "TranscriptTurn",
    "TurnRole",
    "VoiceSession",
    "default_failure_taxonomy",
]
