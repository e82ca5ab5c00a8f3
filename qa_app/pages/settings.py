"""Tenant settings for tenant admins: members and roles, API keys, retention and redaction.

Every change goes through the same services the command line and the admin API use, so each is
validated once and audited once. A new API key is shown on the response to its creation only.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from qa_app.forms import (
    ApiKeyForm,
    FailureCategoryForm,
    JudgeEndpointForm,
    MemberAddForm,
    PolicyForm,
    RoleForm,
)
from qa_app.invitations import invitation_revoke, member_add_or_invite, pending_invitations
from qa_app.llm_judge import SAMPLE_TRANSCRIPT, judge, judge_endpoint_remove, judge_endpoint_save
from qa_app.models import JudgeEndpoint, Severity, TenantInvitation
from qa_app.pages.base import ReviewAccess, actor_for, require, review_access, review_page
from qa_app.selectors import failure_categories_for
from qa_app.services import failure_category_retire, failure_category_save
from sessions_app.encryption import secret_is_set
from sessions_app.errors import ServiceError
from sessions_app.models import ApiKey
from sessions_app.selectors import tenant_members
from sessions_app.services import (
    api_key_create,
    api_key_revoke,
    member_permission_set,
    member_remove,
    member_set_role,
    tenant_policy_update,
)

SETTINGS_PERMISSIONS = ("manage_members", "manage_api_keys")
# The settings page's "Test" waits for the judge at most this long, whatever its own timeout.
TEST_TIMEOUT_SECONDS = 15


def _settings_access(request: HttpRequest) -> ReviewAccess:
    review = review_access(request)
    if not any(review.access.has(permission) for permission in SETTINGS_PERMISSIONS):
        require(review.access, "manage_members")  # raises the 403 with the reason
    return review


def _back(anchor: str) -> HttpResponse:
    return redirect(reverse("review:settings") + anchor)


def render_settings(
    request: HttpRequest,
    review: ReviewAccess,
    *,
    new_key: str | None = None,
    key_form: ApiKeyForm | None = None,
    member_form: MemberAddForm | None = None,
    policy_form: PolicyForm | None = None,
    category_form: FailureCategoryForm | None = None,
    judge_form: JudgeEndpointForm | None = None,
    status: int = 200,
) -> HttpResponse:
    access, tenant = review.access, review.tenant
    can_members, can_keys = access.has("manage_members"), access.has("manage_api_keys")
    endpoint = JudgeEndpoint.objects.filter(tenant=tenant).first() if can_members else None
    context = {
        "review": review,
        "nav": "settings",
        "can_members": can_members,
        "can_keys": can_keys,
        "members": tenant_members(tenant=tenant) if can_members else [],
        "invitations": list(pending_invitations(tenant=tenant).order_by("-created_at"))
        if can_members
        else [],
        "keys": list(
            ApiKey.objects.filter(tenant=tenant).select_related("created_by").order_by("-created_at")
        )
        if can_keys
        else [],
        "now": timezone.now(),
        "new_key": new_key,
        "key_form": key_form or ApiKeyForm(),
        "member_form": member_form or MemberAddForm(),
        "policy_form": policy_form
        or PolicyForm(
            initial={"retention_days": tenant.retention_days, "redact_on_ingest": tenant.redact_on_ingest}
        ),
        "role_choices": RoleForm.base_fields["role"].choices,
        "categories": failure_categories_for(tenant=tenant) if can_members else [],
        "severity_choices": Severity.choices,
        "category_form": category_form or FailureCategoryForm(),
        "judge": endpoint,
        "judge_has_key": bool(endpoint and secret_is_set(endpoint, "api_key")),
        "judge_form": judge_form
        or JudgeEndpointForm(
            initial={
                "base_url": endpoint.base_url,
                "model": endpoint.model,
                "timeout_seconds": endpoint.timeout_seconds,
            }
            if endpoint
            else {"timeout_seconds": 20}
        ),
        "me": request.user.pk,
    }
    return render(request, "review/settings.html", context, status=status)


@review_page
def settings_page(request: HttpRequest) -> HttpResponse:
    return render_settings(request, _settings_access(request))


# --- members -----------------------------------------------------------------------------------


def _member_user(tenant, user_id: int):
    """A member of this tenant, or the same 404 as for an id nobody has: a tenant admin can't
    change, or even learn the name of, a user of another tenant."""
    if not any(member.user_id == user_id for member in tenant_members(tenant=tenant)):
        raise Http404("No such member.")
    return get_user_model().objects.get(pk=user_id)


@review_page
@require_POST
def member_add(request: HttpRequest) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_members")
    form = MemberAddForm(request.POST)
    if form.is_valid():
        username, role = form.cleaned_data["username"].strip(), form.cleaned_data["role"]
        try:
            added = member_add_or_invite(
                tenant=review.tenant,
                username=username,
                role=role,
                password=form.cleaned_data["password"],
                actor=actor_for(request),
            )
        except ServiceError as error:
            form.add_error(error.param if error.param in form.fields else None, error.message)
        else:
            if isinstance(added, TenantInvitation):
                messages.success(
                    request,
                    f"Invitation sent: {username} joins as {role} after accepting it on their "
                    "Invitations page (it expires in 7 days).",
                )
            else:
                messages.success(request, f"{username} is now {role} in {review.tenant.name}.")
            return _back("#members")
    return render_settings(request, review, member_form=form, status=400)


@review_page
@require_POST
def invitation_revoke_view(request: HttpRequest, invitation_id: int) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_members")
    try:
        invitation = invitation_revoke(
            invitation_id=invitation_id, tenant=review.tenant, actor=actor_for(request)
        )
    except TenantInvitation.DoesNotExist:
        raise Http404("No such invitation.") from None
    messages.success(request, f"The invitation to {invitation.user.get_username()} was revoked.")
    return _back("#members")


@review_page
@require_POST
def member_role_change(request: HttpRequest, user_id: int) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_members")
    user = _member_user(review.tenant, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a role: viewer, analyst or admin.")
        return _back("#members")
    try:
        changed = member_set_role(
            tenant=review.tenant, user=user, role=form.cleaned_data["role"], actor=actor_for(request)
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        if changed:
            messages.success(request, f"{user.get_username()} is now {form.cleaned_data['role']}.")
    return _back("#members")


@review_page
@require_POST
def member_raw_access(request: HttpRequest, user_id: int) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_members")
    user = _member_user(review.tenant, user_id)
    granted = request.POST.get("granted") == "1"
    member_permission_set(
        tenant=review.tenant,
        user=user,
        permission="view_raw_transcripts",
        granted=granted,
        actor=actor_for(request),
    )
    verb = "may now reveal" if granted else "no longer has their own access to"
    messages.success(request, f"{user.get_username()} {verb} raw transcripts.")
    return _back("#members")


@review_page
@require_POST
def member_delete(request: HttpRequest, user_id: int) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_members")
    user = _member_user(review.tenant, user_id)
    try:
        removed = member_remove(tenant=review.tenant, user=user, actor=actor_for(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        if removed:
            messages.success(request, f"{user.get_username()} was removed from {review.tenant.name}.")
            if user.pk == request.user.pk:
                return redirect("review:session-list")  # they left; settings are no longer theirs
    return _back("#members")


# --- API keys ----------------------------------------------------------------------------------


@review_page
@require_POST
def api_key_add(request: HttpRequest) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_api_keys")
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        try:
            _, raw_key = api_key_create(
                tenant=review.tenant,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                created_by=request.user,
                expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
                actor=actor_for(request),
            )
        except ServiceError as error:
            form.add_error(error.param if error.param in form.fields else None, error.message)
        else:
            # Shown on this response only: the digest is all that is stored.
            return render_settings(request, review, new_key=raw_key)
    return render_settings(request, review, key_form=form, status=400)


@review_page
@require_POST
def api_key_delete(request: HttpRequest, key_id: int) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_api_keys")
    api_key = ApiKey.objects.filter(tenant=review.tenant, pk=key_id).first()
    if api_key is None:
        raise Http404("No such key.")
    api_key_revoke(api_key=api_key, actor=actor_for(request))
    messages.success(request, f"Key vsk_{api_key.prefix}_… ({api_key.name}) is revoked.")
    return _back("#keys")


# --- retention and redaction ---------------------------------------------------------------------


@review_page
@require_POST
def policy_update(request: HttpRequest) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_members")
    form = PolicyForm(request.POST)
    if form.is_valid():
        try:
            changed = tenant_policy_update(
                tenant=review.tenant, actor=actor_for(request), **form.cleaned_data
            )
        except ServiceError as error:
            form.add_error(error.param if error.param in form.fields else None, error.message)
        else:
            messages.success(request, "Policy saved." if changed else "Nothing changed.")
            return _back("#policy")
    return render_settings(request, review, policy_form=form, status=400)


# --- the LLM judge ------------------------------------------------------------------------------


@review_page
@require_POST
def judge_endpoint_update(request: HttpRequest) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_members")
    form = JudgeEndpointForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            changed = judge_endpoint_save(
                tenant=review.tenant,
                base_url=data["base_url"],
                model=data["model"],
                api_key=form.cleaned_key(),
                timeout_seconds=data["timeout_seconds"],
                actor=actor_for(request),
            )
        except ServiceError as error:
            form.add_error(error.param if error.param in form.fields else None, error.message)
        else:
            messages.success(request, "LLM judge saved." if changed else "Nothing changed.")
            return _back("#judge")
    return render_settings(request, review, judge_form=form, status=400)


@review_page
@require_POST
def judge_endpoint_delete(request: HttpRequest) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_members")
    if judge_endpoint_remove(tenant=review.tenant, actor=actor_for(request)):
        messages.success(request, "LLM judge removed; its evaluators now give no verdict.")
    return _back("#judge")


@review_page
@require_POST
def judge_endpoint_test(request: HttpRequest) -> HttpResponse:
    """Ask the endpoint about a made-up call, now, and say what came back."""
    review = _settings_access(request)
    require(review.access, "manage_members")
    endpoint = JudgeEndpoint.objects.filter(tenant=review.tenant).first()
    if endpoint is None:
        raise Http404("No LLM judge is set up.")
    endpoint.timeout_seconds = min(endpoint.timeout_seconds, TEST_TIMEOUT_SECONDS)
    verdict = judge(endpoint, "Pass if the agent greets the caller.", SAMPLE_TRANSCRIPT)
    if verdict.result == "error":
        messages.error(request, f"The test failed. {verdict.summary}")
    else:
        messages.success(
            request, f"The judge answered “{verdict.result}”: {verdict.summary or 'no reason given'}"
        )
    return _back("#judge")


# --- failure taxonomy ----------------------------------------------------------------------------


@review_page
@require_POST
def category_save(request: HttpRequest) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_members")
    form = FailureCategoryForm(request.POST)
    if form.is_valid():
        try:
            category, created = failure_category_save(
                tenant=review.tenant, actor=actor_for(request), **form.cleaned_data
            )
        except ServiceError as error:
            form.add_error(error.param if error.param in form.fields else None, error.message)
        else:
            messages.success(request, f"{'Added' if created else 'Saved'} “{category.label}”.")
            return _back("#taxonomy")
    return render_settings(request, review, category_form=form, status=400)


@review_page
@require_POST
def category_retire(request: HttpRequest, name: str) -> HttpResponse:
    review = _settings_access(request)
    require(review.access, "manage_members")
    retired = request.POST.get("retired") == "1"
    try:
        failure_category_retire(tenant=review.tenant, name=name, retired=retired, actor=actor_for(request))
    except ServiceError as error:
        raise Http404(error.message) from None
    messages.success(request, f"“{name}” is {'retired' if retired else 'offered to reviewers again'}.")
    return _back("#taxonomy")
