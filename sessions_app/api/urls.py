from django.urls import path

from sessions_app.api import platform, views

urlpatterns = [
    path("call-logs", views.CallLogListView.as_view(), name="call-logs"),
    path("call-logs/<str:call_log_id>", views.CallLogDetailView.as_view(), name="call-log"),
    path("admin/tenants", platform.AdminTenantListView.as_view(), name="admin-tenants"),
    path("admin/tenants/<slug:slug>/api-keys", platform.AdminApiKeyListView.as_view(), name="admin-api-keys"),
    path(
        "admin/tenants/<slug:slug>/api-keys/<str:key_id>",
        platform.AdminApiKeyDetailView.as_view(),
        name="admin-api-key",
    ),
    path("voice-sessions", views.VoiceSessionListView.as_view(), name="voice-sessions"),
    path("voice-sessions/export", views.VoiceSessionExportView.as_view(), name="voice-sessions-export"),
    path("voice-sessions/<uuid:session_id>", views.VoiceSessionDetailView.as_view(), name="voice-session"),
    path("voice-sessions/<uuid:session_id>/tags", views.SessionTagsView.as_view(), name="voice-session-tags"),
    path(
        "voice-sessions/<uuid:session_id>/tags/<str:name>",
        views.SessionTagDetailView.as_view(),
        name="voice-session-tag",
    ),
    path(
        "voice-sessions/<uuid:session_id>/evaluations",
        views.SessionEvaluationsView.as_view(),
        name="voice-session-evaluations",
    ),
]
