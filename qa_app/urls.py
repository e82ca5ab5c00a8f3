"""The review app: /review/… pages for QA analysts and tenant admins."""

from django.urls import path

from qa_app.pages import sessions

app_name = "review"

urlpatterns = [
    path("", sessions.session_list, name="session-list"),
    path("queue/", sessions.queue, name="queue"),
    path("sessions/<uuid:session_id>/", sessions.session_detail, name="session-detail"),
    path("sessions/<uuid:session_id>/reveal/", sessions.session_reveal, name="session-reveal"),
    path("sessions/<uuid:session_id>/tags/", sessions.tag_add, name="tag-add"),
    path("sessions/<uuid:session_id>/tags/<str:name>/remove/", sessions.tag_remove, name="tag-remove"),
    path("sessions/<uuid:session_id>/evaluations/", sessions.evaluation_create, name="evaluation-create"),
]
