"""Django admin for operators: tenants, API keys, and read-only sessions.

Secrets never come back out: the Twilio auth token shows only its last four characters, and an
API key's plaintext appears once, on the page right after it is created.
"""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html

from sessions_app.actors import Actor
from sessions_app.encryption import secret_is_readable
from sessions_app.models import ApiKey, AuditEvent, FunctionCall, Scope, Tenant, TranscriptTurn, VoiceSession
from sessions_app.redaction import columns
from sessions_app.services import POLICY_FIELDS, api_key_create, api_key_revoke, tenant_policy_update


def mask_secret(value: str) -> str:
    return f"••••{value[-4:]}" if value else "not set"


class TenantForm(forms.ModelForm):
    twilio_auth_token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current token. It is never displayed in full.",
    )
    clear_twilio_auth_token = forms.BooleanField(required=False, label="Remove the Twilio auth token")

    class Meta:
        model = Tenant
        fields = [
            "slug",
            "name",
            "retention_days",
            "redact_on_ingest",
            "twilio_auth_token",
        ]

    def clean_twilio_auth_token(self):
        new = self.cleaned_data.get("twilio_auth_token")
        if self.cleaned_data.get("clear_twilio_auth_token"):
            return ""
        # Kept as stored (so an undecryptable one survives an edit until the right key is back).
        return new or (self.instance.__dict__.get("twilio_auth_token", "") if self.instance.pk else "")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    form = TenantForm
    list_display = ["slug", "name", "retention_days", "redact_on_ingest", "twilio_token", "created_at"]
    search_fields = ["slug", "name"]
    readonly_fields = ["twilio_token", "created_at"]
    fieldsets = [
        (None, {"fields": ["slug", "name", "created_at"]}),
        ("Governance", {"fields": ["retention_days", "redact_on_ingest"]}),
        ("Twilio", {"fields": ["twilio_token", "twilio_auth_token", "clear_twilio_auth_token"]}),
    ]

    @admin.display(description="Twilio auth token")
    def twilio_token(self, tenant):
        if not secret_is_readable(tenant, "twilio_auth_token"):
            return "set, but ENCRYPTION_KEYS can't decrypt it (webhooks are refused)"
        return mask_secret(tenant.twilio_auth_token)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Policy changes go through the service so each one is audited with before and after.
        stored = Tenant.objects.get(pk=obj.pk)
        policy = {name: getattr(obj, name) for name in POLICY_FIELDS}
        for name in POLICY_FIELDS:
            setattr(obj, name, getattr(stored, name))
        super().save_model(request, obj, form, change)
        tenant_policy_update(tenant=obj, actor=Actor(user=request.user), **policy)


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ["tenant", "name", "scopes", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "name",
        "tenant",
        "scope_list",
        "created_at",
        "last_used_at",
        "expires_at",
        "state",
    ]
    list_filter = ["tenant", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "tenant__slug"]
    actions = ["revoke_selected"]
    readonly_fields = [
        "tenant", "name", "prefix", "scope_list", "created_by", "created_at", "expires_at", "revoked_at",
        "last_used_at",
    ]  # fmt: skip

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ["tenant", "name", "scopes", "expires_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: a deleted key would vanish from the audit trail

    @admin.display(description="Scopes")
    def scope_list(self, api_key):
        return ", ".join(api_key.scopes)

    @admin.display(description="State")
    def state(self, api_key):
        if api_key.revoked_at:
            return "revoked"
        if api_key.expires_at and api_key.expires_at <= timezone.now():
            return "expired"
        return "active"

    def save_model(self, request, obj, form, change):
        if change:
            return  # keys are never edited
        api_key, raw = api_key_create(
            tenant=form.cleaned_data["tenant"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data.get("expires_at"),
            created_by=request.user,
            actor=Actor(user=request.user),
        )
        obj.pk = api_key.pk
        obj.prefix = api_key.prefix
        messages.warning(
            request,
            format_html(
                "New API key (shown once, copy it now): <code class='new-api-key'>{}</code>",
                raw,
            ),
        )

    @admin.action(description="Revoke selected API keys")
    def revoke_selected(self, request, queryset):
        revoked = 0
        for api_key in queryset.select_related("tenant").filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key, actor=Actor(user=request.user))
            revoked += 1
        self.message_user(request, f"Revoked {revoked} key(s).", messages.SUCCESS)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TranscriptTurnInline(ReadOnlyInline):
    model = TranscriptTurn
    fields = list(
        columns.TURN.read_all(
            ["seq", "role", "text", "start_ms", "end_ms", "confidence", "interrupted"], raw=False
        )
    )
    readonly_fields = fields
    verbose_name_plural = "Transcript (redacted)"


class FunctionCallInline(ReadOnlyInline):
    model = FunctionCall
    fields = list(
        columns.CALL.read_all(
            ["seq", "turn_seq", "name", "status", "latency_ms", *columns.CALL.raw], raw=False
        )
    )
    readonly_fields = fields
    verbose_name_plural = "Function calls (redacted)"


@admin.register(VoiceSession)
class VoiceSessionAdmin(admin.ModelAdmin):
    list_display = ["started_at", "tenant", "agent_key", "status", "qa_state", "escalated", "turn_count",
                    "failed_function_call_count", "call_sid"]  # fmt: skip
    list_filter = ["tenant", "status", "qa_state", "escalated", "agent_key"]
    search_fields = ["stream_id", "call_sid"]
    date_hierarchy = "started_at"
    list_select_related = ["tenant"]
    inlines = [TranscriptTurnInline, FunctionCallInline]
    exclude = [*columns.SESSION.raw, *columns.PHONES]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name not in self.exclude]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


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


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "actor_label", "action", "target_type", "target_id"]
    list_filter = ["tenant", "action"]
    search_fields = ["actor_label", "target_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
