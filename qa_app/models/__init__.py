"""Tags, evaluations, contracts, readiness, rollups and invitations: the judgment about sessions.

Evaluations, sign-offs and attestations are append-only (``sessions_app.models.AppendOnlyModel``):
history is evidence, so nothing here updates or deletes them.

One module per subject; the names below are the package's interface.
"""

from qa_app.models.calibration import Adjudication, DemandReason, GoldVerdict, ReviewDemand, ReviewRule
from qa_app.models.contracts import AgentContract, ContractFinding, FindingKind
from qa_app.models.evaluators import (
    AutomaticEvaluation,
    AutomaticResult,
    Evaluator,
    EvaluatorKind,
    EvaluatorVersion,
    JudgeEndpoint,
)
from qa_app.models.invitations import InvitationState, TenantInvitation
from qa_app.models.readiness import (
    AttestationStatus,
    Decision,
    ReadinessAttestation,
    ReadinessConfig,
    ReadinessSignoff,
)
from qa_app.models.review import Evaluation, ReviewClaim, SessionTag, Tag, TagSource, Verdict
from qa_app.models.rollups import DayRollup, FailureDayStats, SessionDayStats, ToolDayStats, ToolLatencySample
from qa_app.models.taxonomy import (
    DEFAULT_FAILURE_CATEGORIES,
    SEVERITY_ORDER,
    FailureCategory,
    SessionFailure,
    Severity,
)

__all__ = [
    "DEFAULT_FAILURE_CATEGORIES",
    "SEVERITY_ORDER",
    "Adjudication",
    "AgentContract",
    "AttestationStatus",
    "AutomaticEvaluation",
    "AutomaticResult",
    "ContractFinding",
    "DayRollup",
    "Decision",
    "DemandReason",
    "Evaluation",
    "Evaluator",
    "EvaluatorKind",
    "EvaluatorVersion",
    "FailureCategory",
    "FailureDayStats",
    "FindingKind",
    "GoldVerdict",
    "InvitationState",
    "JudgeEndpoint",
    "ReadinessAttestation",
    "ReadinessConfig",
    "ReadinessSignoff",
    "ReviewClaim",
    "ReviewDemand",
    "ReviewRule",
    "SessionDayStats",
    "SessionFailure",
    "SessionTag",
    "Severity",
    "Tag",
    "TagSource",
    "TenantInvitation",
    "ToolDayStats",
    "ToolLatencySample",
    "Verdict",
]
