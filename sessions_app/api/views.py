"""The tenant API's base view, and the call logs: thin views over selectors and services.

The tenant comes from the API key. The voice-sessions endpoints are ``qa_app.api.sessions``: a
session document carries the judgment's tags and evaluations too.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from sessions_app.access import TenantAccess, access_for_api_key
from sessions_app.actors import Actor
from sessions_app.api.contract import QueryContractMixin
from sessions_app.api.pagination import EnvelopePagination
from sessions_app.api.schema import error_responses
from sessions_app.api.throttling import RateLimitMixin
from sessions_app.calls import call_log_by_ref, call_logs_for, sessions_for_calls
from sessions_app.filters import CallLogFilterSet, FilterBackend
from sessions_app.models import CallLog, Scope, VoiceSession
from sessions_app.presentation import call_event_as_dict, call_log_as_dict

READ = Scope.SESSIONS_READ.value
WRITE = Scope.SESSIONS_WRITE.value
QA_WRITE = Scope.QA_WRITE.value


class TenantAPIView(QueryContractMixin, RateLimitMixin, generics.GenericAPIView):
    """Resolves the key's tenant access once; every read below starts from ``access.sessions()``."""

    @property
    def access(self) -> TenantAccess:
        if not hasattr(self, "_access"):
            self._access = access_for_api_key(self.request.auth)
        return self._access

    @property
    def tenant(self):
        return self.access.tenant

    @property
    def actor(self) -> Actor:
        return Actor(api_key=self.request.auth)

    @property
    def raw(self) -> bool:
        return self.request.auth is not None and self.access.can_view_raw

    def get_plain_session(self, session_id) -> VoiceSession:
        session = self.access.sessions().select_related("tenant").filter(pk=session_id).first()
        if session is None:
            raise Http404
        return session


class CallLogSerializer(serializers.Serializer):
    """Documentation of the call log record; records are built by ``presentation.call_log_as_dict``."""

    id = serializers.IntegerField()
    call_sid = serializers.CharField()
    direction = serializers.CharField()
    status = serializers.CharField()
    duration_seconds = serializers.IntegerField(allow_null=True)
    from_number = serializers.CharField()
    to_number = serializers.CharField()
    started_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    escalated = serializers.BooleanField(allow_null=True)
    summary = serializers.CharField(allow_null=True)
    session_id = serializers.UUIDField(allow_null=True)


class CallEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["call_status", "stream_status"])
    event = serializers.CharField()
    sequence_number = serializers.IntegerField(allow_null=True)
    stream_sid = serializers.CharField()
    error = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    payload = serializers.DictField()


class CallLogDetailSerializer(CallLogSerializer):
    events = CallEventSerializer(many=True)


class CallLogListView(TenantAPIView):
    serializer_class = CallLogSerializer
    filter_backends = [FilterBackend]
    filterset_class = CallLogFilterSet
    pagination_class = EnvelopePagination
    required_scopes = {"GET": READ}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CallLog.objects.none()
        return call_logs_for(tenant=self.tenant)

    @extend_schema(
        operation_id="call_logs_list",
        summary="List call logs",
        description="Calls from Twilio status callbacks, newest first, each joined to its voice session.",
        responses={200: CallLogSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        sessions = sessions_for_calls(
            tenant=self.tenant, call_sids=[call.call_sid for call in page], raw=self.raw
        )
        return self.get_paginated_response(
            [call_log_as_dict(call, sessions.get(call.call_sid), raw=self.raw) for call in page]
        )


class CallLogDetailView(TenantAPIView):
    serializer_class = CallLogDetailSerializer
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="call_logs_retrieve",
        summary="One call log with its ordered events",
        description="`call_log_id` is the record's id or its CallSid.",
        responses={200: CallLogDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, call_log_id: str):
        call = call_log_by_ref(tenant=self.tenant, ref=call_log_id)
        if call is None:
            raise Http404
        sessions = sessions_for_calls(tenant=self.tenant, call_sids=[call.call_sid], raw=self.raw)
        body = call_log_as_dict(call, sessions.get(call.call_sid), raw=self.raw)
        body["events"] = [
            call_event_as_dict(event, raw=self.raw)
            for event in call.events.order_by("occurred_at", "sequence_number", "id")
        ]
        return Response(body)
