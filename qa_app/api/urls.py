from django.urls import path

from qa_app.api import views

urlpatterns = [
    path("audit-events", views.AuditEventListView.as_view(), name="audit-events"),
    path("agents/<str:agent_key>/readiness", views.AgentReadinessView.as_view(), name="agent-readiness"),
    path("admin/rollout-governance", views.RolloutGovernanceView.as_view(), name="admin-rollout-governance"),
]
