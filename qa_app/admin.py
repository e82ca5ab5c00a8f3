"""Evaluations and audit events are evidence: the admin shows them and never changes them."""

from django.contrib import admin

from qa_app.models import AuditEvent, Evaluation, Tag


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "session", "verdict", "score", "reviewer_label"]
    list_filter = ["tenant", "verdict"]
    search_fields = ["session__stream_id", "session__call_sid", "reviewer_label"]
    list_select_related = ["tenant", "session"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "actor_label", "action", "target_type", "target_id"]
    list_filter = ["tenant", "action"]
    search_fields = ["actor_label", "target_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "created_at"]
    list_filter = ["tenant"]
    search_fields = ["name"]
