from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health
from sessions_app import webhooks
from sessions_app.api.errors import json_not_found

urlpatterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path(
        "api/v1/schema",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="schema",
    ),
    path(
        "api/v1/docs",
        SpectacularSwaggerView.as_view(url_name="schema", authentication_classes=[], permission_classes=[]),
        name="api-docs",
    ),
    path("api/v1/", include("sessions_app.api.urls")),
    path("api/v1/", include("qa_app.api.urls")),
    # Anything else under /api/ is a JSON 404, in DEBUG too, never an HTML page.
    re_path(r"^api/", json_not_found),
    path("webhooks/twilio/<slug:tenant_slug>/call-status", webhooks.call_status, name="twilio-call-status"),
    path(
        "webhooks/twilio/<slug:tenant_slug>/stream-status",
        webhooks.stream_status,
        name="twilio-stream-status",
    ),
    path(
        "webhooks/twilio/<slug:tenant_slug>/recording-status",
        webhooks.recording_status,
        name="twilio-recording-status",
    ),
    # The audit trail's model moved to sessions_app; old bookmarks to its admin still land.
    re_path(
        r"^admin/qa_app/auditevent/(?P<rest>.*)$",
        RedirectView.as_view(
            url="/admin/sessions_app/auditevent/%(rest)s", permanent=True, query_string=True
        ),
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("review/", include("qa_app.urls")),
    path("", RedirectView.as_view(url="/review/", permanent=False)),
]

handler400 = "config.edge.bad_request"
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
