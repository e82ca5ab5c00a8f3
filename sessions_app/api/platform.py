"""The platform admin API under /api/v1/admin/, for provisioning automation.

It accepts only platform admin keys in the ``x-admin-key`` header. A tenant Bearer key is refused
here, and the tenant endpoints never look at ``x-admin-key``: the credentials don't mix.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, generics, permissions, serializers, status
from rest_framework.response import Response

from sessions_app import fields
from sessions_app.actors import Actor
from sessions_app.api.contract import QueryContractMixin
from sessions_app.api.pagination import EnvelopePagination
from sessions_app.api.schema import error_responses
from sessions_app.api.throttling import RateLimitMixin
from sessions_app.encryption import secret_is_set
from sessions_app.input_bounds import is_ascii_digits
from sessions_app.models import AdminKey, ApiKey, Scope, Tenant
from sessions_app.presentation import iso
from sessions_app.services import admin_key_authenticate, api_key_create, api_key_revoke, tenant_create

INVALID_ADMIN_KEY_MESSAGE = "Missing, invalid or revoked admin key (x-admin-key)."


class AdminKeyAuthentication(authentication.BaseAuthentication):
    header = "HTTP_X_ADMIN_KEY"

    def authenticate(self, request):
        raw = request.META.get(self.header, "")
        if not raw:
            return None
        admin_key = admin_key_authenticate(raw_key=raw.strip())
        if admin_key is None:
            raise exceptions.AuthenticationFailed(INVALID_ADMIN_KEY_MESSAGE)
        return AdminPrincipal(admin_key), admin_key

    def authenticate_header(self, request) -> str:
        return 'AdminKey header="x-admin-key"'


class AdminKeyScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_app.api.platform.AdminKeyAuthentication"
    name = "AdminKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "x-admin-key",
            "description": "A platform admin key.",
        }


class AdminPrincipal:
    is_authenticated = True
    is_anonymous = False

    def __init__(self, admin_key: AdminKey):
        self.admin_key = admin_key

    def __str__(self) -> str:
        return self.admin_key.label


class IsPlatformAdmin(permissions.BasePermission):
    message = INVALID_ADMIN_KEY_MESSAGE

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, AdminKey)


class TenantSerializer(fields.StrictBody):
    slug = fields.SlugField(max_length=64)
    name = fields.CharField(max_length=200, required=False, allow_blank=True)
    retention_days = fields.IntegerField(min_value=1, max_value=36_500, allow_null=True, required=False)
    redact_on_ingest = fields.BooleanField(required=False, default=False)
    twilio_auth_token = fields.CharField(
        max_length=128, required=False, allow_blank=True, write_only=True, help_text="Never returned."
    )
    twilio_auth_token_set = fields.BooleanField(read_only=True)
    api_key_count = fields.IntegerField(read_only=True)
    created_at = fields.DateTimeField(read_only=True)

    def to_representation(self, tenant):
        return {
            "slug": tenant.slug,
            "name": tenant.name,
            "retention_days": tenant.retention_days,
            "redact_on_ingest": tenant.redact_on_ingest,
            "twilio_auth_token_set": secret_is_set(tenant, "twilio_auth_token"),
            "api_key_count": getattr(tenant, "active_key_count", 0),
            "created_at": iso(tenant.created_at),
        }


class ApiKeySerializer(fields.StrictBody):
    id = fields.IntegerField(read_only=True)
    name = fields.CharField(max_length=120)
    scopes = serializers.ListField(
        child=fields.ChoiceField(choices=Scope.values), min_length=1, help_text=", ".join(Scope.values)
    )
    expires_at = fields.DateTimeField(allow_null=True, required=False)
    prefix = fields.CharField(read_only=True)
    created_at = fields.DateTimeField(read_only=True)
    last_used_at = fields.DateTimeField(read_only=True, allow_null=True)
    revoked_at = fields.DateTimeField(read_only=True, allow_null=True)

    def to_representation(self, api_key):
        return {
            "id": api_key.pk,
            "name": api_key.name,
            "scopes": list(api_key.scopes),
            "expires_at": iso(api_key.expires_at),
            "prefix": api_key.prefix,
            "created_at": iso(api_key.created_at),
            "last_used_at": iso(api_key.last_used_at),
            "revoked_at": iso(api_key.revoked_at),
        }


class NewApiKeySerializer(ApiKeySerializer):
    key = fields.CharField(read_only=True, help_text="The full key. Shown once, never again.")


class PlatformView(QueryContractMixin, RateLimitMixin, generics.GenericAPIView):
    authentication_classes = [AdminKeyAuthentication]
    unauthenticated_message = INVALID_ADMIN_KEY_MESSAGE
    permission_classes = [IsPlatformAdmin]
    pagination_class = EnvelopePagination

    @property
    def actor(self) -> Actor:
        return Actor(admin_key=self.request.auth)

    def get_tenant(self, slug: str) -> Tenant:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise Http404
        return tenant


class AdminTenantListView(PlatformView):
    serializer_class = TenantSerializer

    def get_queryset(self):
        return Tenant.objects.annotate(
            active_key_count=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True))
        ).order_by("slug")

    @extend_schema(
        operation_id="admin_tenants_list",
        summary="List tenants",
        responses={200: TenantSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="admin_tenants_create",
        summary="Create a tenant",
        responses={201: TenantSerializer, **error_responses(400, 401, 409)},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = tenant_create(actor=self.actor, **serializer.validated_data)
        return Response(self.get_serializer(tenant).data, status=status.HTTP_201_CREATED)


class AdminApiKeyListView(PlatformView):
    serializer_class = ApiKeySerializer

    @extend_schema(
        operation_id="admin_api_keys_list",
        summary="List a tenant's API keys",
        responses={200: ApiKeySerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, slug):
        tenant = self.get_tenant(slug)
        page = self.paginate_queryset(ApiKey.objects.filter(tenant=tenant).order_by("-created_at", "-id"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="admin_api_keys_create",
        summary="Create a tenant API key",
        description="The response carries the full key in `key`. It is shown once and never again.",
        request=ApiKeySerializer,
        responses={201: NewApiKeySerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request, slug):
        tenant = self.get_tenant(slug)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, raw = api_key_create(tenant=tenant, actor=self.actor, **serializer.validated_data)
        body = {**self.get_serializer(api_key).data, "key": raw}
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class AdminApiKeyDetailView(PlatformView):
    @extend_schema(
        operation_id="admin_api_keys_revoke",
        summary="Revoke a tenant API key",
        description="`key_id` is the key's id or its prefix. Revoking twice is harmless.",
        responses={204: OpenApiResponse(description="Revoked."), **error_responses(401, 404)},
    )
    def delete(self, request, slug, key_id):
        tenant = self.get_tenant(slug)
        keys = ApiKey.objects.select_related("tenant").filter(tenant=tenant)
        by_id = is_ascii_digits(key_id) and len(key_id) <= 18
        api_key = (keys.filter(pk=int(key_id)) if by_id else keys.filter(prefix=key_id)).first()
        if api_key is None:
            raise Http404
        api_key_revoke(api_key=api_key, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)
