from django.urls import path

from qa_app.api import sessions, views

urlpatterns = [
    path("voice-sessions", sessions.VoiceSessionListView.as_view(), name="voice-sessions"),
    path("voice-sessions/export", sessions.VoiceSessionExportView.as_view(), name="voice-sessions-export"),
    path("voice-sessions/<uuid:session_id>", sessions.VoiceSessionDetailView.as_view(), name="voice-session"),
    path(
        "voice-sessions/<uuid:session_id>/tags", sessions.SessionTagsView.as_view(), name="voice-session-tags"
    ),
    path(
        "voice-sessions/<uuid:session_id>/tags/<str:name>",
        sessions.SessionTagDetailView.as_view(),
        name="voice-session-tag",
    ),
    path(
        "voice-sessions/<uuid:session_id>/evaluations",
        sessions.SessionEvaluationsView.as_view(),
        name="voice-session-evaluations",
    ),
    path("audit-events", views.AuditEventListView.as_view(), name="audit-events"),
    path("agents/<str:agent_key>/readiness", views.AgentReadinessView.as_view(), name="agent-readiness"),
    path("admin/rollout-governance", views.RolloutGovernanceView.as_view(), name="admin-rollout-governance"),
]
