"""The audit trail over the API (``audit:read``)."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from qa_app.filters import AuditEventFilterSet
from qa_app.models import AuditEvent
from qa_app.selectors import audit_events_for
from sessions_app.api.pagination import EnvelopePagination
from sessions_app.api.schema import error_responses
from sessions_app.api.views import TenantAPIView
from sessions_app.models import Scope
from sessions_app.presentation import iso


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    actor = serializers.CharField()
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    details = serializers.DictField()
    created_at = serializers.DateTimeField()

    def to_representation(self, event):
        return {
            "id": event.pk,
            "actor": event.actor_label,
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "details": event.details,
            "created_at": iso(event.created_at),
        }


class AuditEventListView(TenantAPIView):
    serializer_class = AuditEventSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditEventFilterSet
    pagination_class = EnvelopePagination
    required_scopes = {"GET": Scope.AUDIT_READ.value}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return audit_events_for(tenant=self.tenant)

    @extend_schema(
        operation_id="audit_events_list",
        summary="The tenant's audit trail",
        description="Newest first: raw reveals, exports, key and member changes, tags, evaluations, purges.",
        responses={200: AuditEventSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
