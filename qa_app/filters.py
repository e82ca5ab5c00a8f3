"""The audit trail's one filter definition, shared by the API and the audit page."""

from django_filters import rest_framework as filters

from sessions_app.filters import UtcIsoDateTimeFilter
from sessions_app.models import AuditEvent


class AuditEventFilterSet(filters.FilterSet):
    action = filters.CharFilter(help_text="Exact action, e.g. session.raw_revealed or api_key.created.")
    actor = filters.CharFilter(
        field_name="actor_label", help_text="A username, api-key:PREFIX or admin-key:PREFIX."
    )
    target_type = filters.CharFilter(help_text="voice_session, api_key, user, tenant, …")
    target_id = filters.CharFilter()
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", help_text="ISO 8601, inclusive.")
    until = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", help_text="ISO 8601, exclusive.")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "target_type", "target_id", "since", "until"]
