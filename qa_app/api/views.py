"""QA over the API: the audit trail (``audit:read``) and launch readiness (tenant and platform admin)."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from qa_app.filters import AuditEventFilterSet
from qa_app.readiness import latest_prompt_version, readiness_as_dict, readiness_for, readiness_markdown
from qa_app.selectors import audit_events_for
from sessions_app.api.pagination import EnvelopePagination
from sessions_app.api.platform import PlatformView
from sessions_app.api.renderers import OrjsonRenderer
from sessions_app.api.schema import error_responses
from sessions_app.api.views import TenantAPIView
from sessions_app.filters import FilterBackend
from sessions_app.models import AuditEvent, Scope
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
    filter_backends = [FilterBackend]
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


# --- launch readiness ----------------------------------------------------------------------------

REPORT_FORMATS = ("json", "markdown")


def _readiness_response(request, *, tenant, agent_key: str):
    """The readiness JSON (or Markdown report) of one agent version; 404 for an unknown agent."""
    report_format = request.query_params.get("format", "json")
    if report_format not in REPORT_FORMATS:
        raise ValidationError({"format": [f"format must be one of: {', '.join(REPORT_FORMATS)}."]})
    prompt_version = request.query_params.get("prompt_version")
    if prompt_version is None:
        prompt_version = latest_prompt_version(tenant=tenant, agent_key=agent_key)
    if prompt_version is None:
        raise NotFound(f"No sessions for agent {agent_key!r}.")
    readiness = readiness_for(tenant=tenant, agent_key=agent_key, prompt_version=prompt_version)
    if report_format == "markdown":
        return HttpResponse(
            readiness_markdown(readiness, tenant=tenant), content_type="text/markdown; charset=utf-8"
        )
    return Response(readiness_as_dict(readiness, base_url=request.build_absolute_uri("/")[:-1]))


_READINESS_PARAMETERS = [
    OpenApiParameter(
        "prompt_version", str, description="The version to check; default: the agent's most recent one."
    ),
    OpenApiParameter(
        "format", str, enum=list(REPORT_FORMATS), default="json", description="json or markdown"
    ),
]
_READINESS_RESPONSES = {
    200: OpenApiResponse(
        OpenApiTypes.OBJECT, description="ready, gates with evidence, and the last sign-off."
    ),
    (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, description="A launch-review report."),
}


class AgentReadinessView(TenantAPIView):
    required_scopes = {"GET": Scope.SESSIONS_READ.value}

    def perform_content_negotiation(self, request, force=False):
        # ``format`` names the report format here, not a DRF renderer.
        return OrjsonRenderer(), OrjsonRenderer.media_type

    @extend_schema(
        operation_id="agent_readiness",
        summary="Launch readiness of an agent version",
        description=(
            "Computed gates (reviews, pass-rate lower bound, critical failures, tool error rate, "
            "failure follow-up, open tool-boundary findings) and the four attested production gates, "
            "each with evidence and links, plus the last sign-off and whether later evidence "
            "invalidated it. For CI or a deploy pipeline to check before rollout."
        ),
        parameters=_READINESS_PARAMETERS,
        responses={**_READINESS_RESPONSES, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request, agent_key: str):
        return _readiness_response(request, tenant=self.tenant, agent_key=agent_key)


class RolloutGovernanceView(PlatformView):
    def perform_content_negotiation(self, request, force=False):
        return OrjsonRenderer(), OrjsonRenderer.media_type

    @extend_schema(
        operation_id="admin_rollout_governance",
        summary="Rollout governance of a tenant's agent version (platform admin)",
        parameters=[
            OpenApiParameter("tenant", str, required=True, description="Tenant slug."),
            OpenApiParameter("agent_key", str, required=True),
            *_READINESS_PARAMETERS,
        ],
        responses={**_READINESS_RESPONSES, **error_responses(400, 401, 404)},
    )
    def get(self, request):
        missing = [name for name in ("tenant", "agent_key") if not request.query_params.get(name)]
        if missing:
            raise ValidationError({name: ["This parameter is required."] for name in missing})
        tenant = self.get_tenant(request.query_params["tenant"])
        return _readiness_response(request, tenant=tenant, agent_key=request.query_params["agent_key"])
