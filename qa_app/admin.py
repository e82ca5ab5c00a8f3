"""Evaluations are evidence: the admin shows them and never changes them."""

from django.contrib import admin

from qa_app.models import Evaluation, FailureCategory, Tag
from sessions_app.admin import ReadOnlyAdmin, TenantAdmin
from sessions_app.models import Tenant


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "session", "verdict", "score", "reviewer_label"]
    list_filter = ["tenant", "verdict"]
    search_fields = ["session__stream_id", "session__call_sid", "reviewer_label"]
    list_select_related = ["tenant", "session"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "created_at"]
    list_filter = ["tenant"]
    search_fields = ["name"]


class FailureCategoryInline(admin.TabularInline):
    """The tenant's failure taxonomy; categories are retired, never deleted, so history stays readable."""

    model = FailureCategory
    fields = ["name", "label", "severity", "description", "position", "retired_at"]
    extra = 0
    can_delete = False


# The tenant's page in the admin is sessions_app's, with qa_app's taxonomy added beneath it.
admin.site.unregister(Tenant)


@admin.register(Tenant)
class TenantWithTaxonomyAdmin(TenantAdmin):
    inlines = [*TenantAdmin.inlines, FailureCategoryInline]
