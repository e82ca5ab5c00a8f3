"""The voice-sessions API: list, upsert, one session, export, tags and evaluations.

Thin views over ``qa_app.ingest``, ``qa_app.services`` and ``qa_app.documents``; every read starts
from the key's ``TenantAccess`` (``TenantAPIView``). A session document is the record with its
tags and evaluations, so these endpoints live with the judgment.
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from qa_app.documents import evaluation_as_dict, session_documents
from qa_app.export import CONTENT_TYPES as EXPORT_CONTENT_TYPES
from qa_app.export import FORMATS as EXPORT_FORMATS
from qa_app.export import sessions_export
from qa_app.filters import VoiceSessionFilterSet
from qa_app.ingest import session_upsert
from qa_app.payloads import EvaluationSerializer, TagListSerializer, TagSerializer, VoiceSessionSerializer
from qa_app.services import evaluation_record, session_tag_add, session_tag_remove
from sessions_app.api.pagination import SessionPagination
from sessions_app.api.renderers import OrjsonRenderer
from sessions_app.api.schema import FilteredStreamSchema, error_responses
from sessions_app.api.views import QA_WRITE, READ, WRITE, TenantAPIView
from sessions_app.filters import FilterBackend
from sessions_app.models import VoiceSession
from sessions_app.presentation import session_rows


class SessionAPIView(TenantAPIView):
    # A tenant API view that answers with session documents. (No docstring: the schema describes
    # the endpoints without one by the base view's, as it always has.)

    def session_document(self, session_id) -> dict:
        """The full shape of one visible session; 404 when it is not visible."""
        rows = session_rows(self.access.sessions().filter(pk=session_id), raw=self.raw, limit=1)
        documents = session_documents(rows, tenant_id=self.tenant.pk, raw=self.raw)
        if not documents:
            raise Http404
        return documents[0]


class VoiceSessionListView(SessionAPIView):
    serializer_class = VoiceSessionSerializer
    filter_backends = [FilterBackend]
    filterset_class = VoiceSessionFilterSet
    pagination_class = SessionPagination
    required_scopes = {"GET": READ, "POST": WRITE}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no API key
            return VoiceSession.objects.none()
        return self.access.sessions()

    @extend_schema(
        operation_id="voice_sessions_list",
        summary="List voice sessions",
        description=(
            "Newest `started_at` first (ties by id). Transcript text, numbers and tool payloads are "
            "redacted unless the key has `sessions:read_raw`."
        ),
        responses={200: VoiceSessionSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(session_documents(page, tenant_id=self.tenant.pk, raw=self.raw))

    @extend_schema(
        operation_id="voice_sessions_upsert",
        summary="Create or update a voice session by stream_id",
        description=(
            "Creates the session (201) or updates it (200). Fields absent from the payload keep their "
            "values; transcript turns and function calls merge by `seq`, so a retry never duplicates. "
            "All or nothing: a rejected payload stores nothing. Read-only fields (id, qa_state, "
            "evaluations, duration_ms, created_at, updated_at) are ignored; unknown fields are refused."
        ),
        request=VoiceSessionSerializer,
        responses={
            200: VoiceSessionSerializer,
            201: VoiceSessionSerializer,
            **error_responses(400, 401, 403, 413),
        },
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            result = session_upsert(tenant=self.tenant, data=serializer.validated_data, actor=self.actor)
            # Read before the commit: once the write is committed nothing is left that can fail,
            # so a stored write is never answered with an error that makes the client retry it.
            document = self.session_document(result.session.pk)
        return Response(document, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class VoiceSessionDetailView(SessionAPIView):
    serializer_class = VoiceSessionSerializer
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="voice_sessions_retrieve",
        summary="One voice session",
        responses={200: VoiceSessionSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, session_id):
        return Response(self.session_document(session_id))


class SessionTagsView(SessionAPIView):
    serializer_class = TagSerializer
    required_scopes = {"POST": QA_WRITE}

    @extend_schema(
        operation_id="voice_sessions_tags_add",
        summary="Tag a session",
        description="201 when the tag is added, 200 when the session already carried it.",
        request=TagSerializer,
        responses={200: TagListSerializer, 201: TagListSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, session_id):
        session = self.get_plain_session(session_id)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _, created = session_tag_add(
            session=session, name=serializer.validated_data["name"], actor=self.actor
        )
        tags = list(session.session_tags.order_by("tag__name").values_list("tag__name", flat=True))
        return Response({"tags": tags}, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class SessionTagDetailView(SessionAPIView):
    required_scopes = {"DELETE": QA_WRITE}

    @extend_schema(
        operation_id="voice_sessions_tags_remove",
        summary="Remove a tag from a session",
        responses={204: OpenApiResponse(description="Removed."), **error_responses(401, 403, 404)},
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH)],
    )
    def delete(self, request, session_id, name):
        session = self.get_plain_session(session_id)
        if not session_tag_remove(session=session, name=name, actor=self.actor):
            error = NotFound(f"The session does not carry the tag {name!r}.")
            error.param = "name"
            raise error
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionEvaluationsView(SessionAPIView):
    serializer_class = EvaluationSerializer
    required_scopes = {"POST": QA_WRITE}

    @extend_schema(
        operation_id="voice_sessions_evaluations_create",
        summary="Record an evaluation",
        description="Appends an evaluation to the session's history and marks the session reviewed.",
        request=EvaluationSerializer,
        responses={201: EvaluationSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, session_id):
        session = self.get_plain_session(session_id)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evaluation = evaluation_record(session=session, actor=self.actor, **serializer.validated_data)
        return Response(evaluation_as_dict(evaluation), status=status.HTTP_201_CREATED)


class VoiceSessionExportView(SessionAPIView):
    schema = FilteredStreamSchema()
    filter_backends = [FilterBackend]
    filterset_class = VoiceSessionFilterSet
    required_scopes = {"GET": READ}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return VoiceSession.objects.none()
        return self.access.sessions()

    def perform_content_negotiation(self, request, force=False):
        # ``format`` names the export format here, not a DRF renderer; errors still render as JSON.
        return OrjsonRenderer(), OrjsonRenderer.media_type

    @extend_schema(
        operation_id="voice_sessions_export",
        summary="Stream an export of the session list",
        description=(
            "Takes the list's filters. Streams every matching session (no pagination) as JSON Lines "
            "(one full session document per line) or CSV (one row per session; transcript and tool "
            "calls in text columns), in constant memory, redacted unless the key has "
            "`sessions:read_raw`. Each export is recorded in the audit trail."
        ),
        parameters=[
            OpenApiParameter(
                "format", str, enum=list(EXPORT_FORMATS), default="jsonl", description="jsonl or csv"
            ),
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR, description="A document per line."
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row per session."),
            **error_responses(400, 401, 403),
        },
    )
    def get(self, request):
        export_format = request.query_params.get("format", "jsonl")
        if export_format not in EXPORT_FORMATS:
            raise ValidationError({"format": [f"format must be one of: {', '.join(EXPORT_FORMATS)}."]})
        queryset = self.filter_queryset(self.get_queryset())
        filters = {key: request.query_params.getlist(key) for key in VoiceSessionFilterSet.base_filters}
        chunks = sessions_export(
            tenant=self.tenant,
            actor=self.actor,
            queryset=queryset,
            raw=self.raw,
            export_format=export_format,
            filters={key: values for key, values in filters.items() if values},
        )
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response = StreamingHttpResponse(chunks, content_type=EXPORT_CONTENT_TYPES[export_format])
        response["Content-Disposition"] = (
            f'attachment; filename="voice-sessions-{self.tenant.slug}-{stamp}.{export_format}"'
        )
        response["Cache-Control"] = "no-store"
        return response
