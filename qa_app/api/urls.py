from django.urls import path

from qa_app.api import views

urlpatterns = [
    path("audit-events", views.AuditEventListView.as_view(), name="audit-events"),
]
