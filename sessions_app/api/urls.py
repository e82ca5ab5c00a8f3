from django.urls import path

from sessions_app.api import platform, recordings, views

urlpatterns = [
    path(
        "voice-sessions/<uuid:session_id>/recording",
        recordings.RecordingView.as_view(),
        name="voice-session-recording",
    ),
    path("call-logs", views.CallLogListView.as_view(), name="call-logs"),
    path("call-logs/<str:call_log_id>", views.CallLogDetailView.as_view(), name="call-log"),
    path("admin/tenants", platform.AdminTenantListView.as_view(), name="admin-tenants"),
    path("admin/tenants/<slug:slug>/api-keys", platform.AdminApiKeyListView.as_view(), name="admin-api-keys"),
    path(
        "admin/tenants/<slug:slug>/api-keys/<str:key_id>",
        platform.AdminApiKeyDetailView.as_view(),
        name="admin-api-key",
    ),
]
