"""An agent's launch readiness and contract pages (tenant admins decide; members read)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from qa_app.contracts import contract_save, finding_acknowledge
from qa_app.forms import AttestationForm, ContractForm, ReadinessConfigForm, SignoffForm
from qa_app.models import AgentContract, ContractFinding, ReadinessSignoff
from qa_app.pages.base import ReviewAccess, actor_for, require, review_access, review_page
from qa_app.readiness import (
    ATTESTED_GATES,
    THRESHOLDS,
    attestation_record,
    latest_prompt_version,
    readiness_config_save,
    readiness_for,
    readiness_sign_off,
)
from sessions_app.errors import ServiceError
from sessions_app.models import FunctionCall

ADMIN_PERMISSION = "manage_members"  # tenant admins: sign-offs, gates, contracts


def _agent_access(request: HttpRequest, agent_key: str) -> tuple[ReviewAccess, list[str]]:
    """Tenant-wide readers only (not shared-session guests); 404 for an agent with no sessions."""
    review = review_access(request)
    if not review.access.is_tenant_wide:
        raise Http404("No such agent.")
    versions = list(
        review.access.sessions()
        .filter(agent_key=agent_key)
        .order_by("prompt_version")
        .values_list("prompt_version", flat=True)
        .distinct()
    )
    if not versions:
        raise Http404("No such agent.")
    return review, versions


def _prompt_version(request: HttpRequest, review: ReviewAccess, agent_key: str, versions: list[str]) -> str:
    wanted = request.GET.get("prompt_version", request.POST.get("prompt_version"))
    if wanted is None:
        return latest_prompt_version(tenant=review.tenant, agent_key=agent_key) or versions[-1]
    if wanted not in versions:
        raise Http404("No sessions for this prompt version.")
    return wanted


def _readiness_url(agent_key: str, prompt_version: str, anchor: str = "") -> str:
    url = reverse("review:agent-readiness", args=[agent_key])
    return f"{url}?prompt_version={prompt_version}{anchor}"


# --- readiness -----------------------------------------------------------------------------------


def render_readiness(
    request: HttpRequest,
    review: ReviewAccess,
    agent_key: str,
    versions: list[str],
    prompt_version: str,
    *,
    signoff_form: SignoffForm | None = None,
    attestation_form: AttestationForm | None = None,
    config_form: ReadinessConfigForm | None = None,
    status: int = 200,
) -> HttpResponse:
    readiness = readiness_for(tenant=review.tenant, agent_key=agent_key, prompt_version=prompt_version)
    config = readiness.config
    context = {
        "review": review,
        "nav": "dashboard",
        "agent_key": agent_key,
        "agent_tab": "readiness",
        "tab_query": f"prompt_version={prompt_version}",
        "versions": versions,
        "prompt_version": prompt_version,
        "readiness": readiness,
        "is_admin": review.access.has(ADMIN_PERMISSION),
        "signoffs": list(
            ReadinessSignoff.objects.filter(
                tenant=review.tenant, agent_key=agent_key, prompt_version=prompt_version
            ).order_by("-created_at", "-id")[:10]
        ),
        "signoff_form": signoff_form or SignoffForm(),
        "attestation_form": attestation_form or AttestationForm(),
        "config_form": config_form
        or ReadinessConfigForm(initial={name: getattr(config, name) for name in THRESHOLDS}),
        "attested_gates": ATTESTED_GATES,
    }
    return render(request, "review/agent_readiness.html", context, status=status)


@review_page
def agent_readiness(request: HttpRequest, agent_key: str) -> HttpResponse:
    review, versions = _agent_access(request, agent_key)
    prompt_version = _prompt_version(request, review, agent_key, versions)
    return render_readiness(request, review, agent_key, versions, prompt_version)


def _readiness_write(request, agent_key: str, *, form_class, write, form_name: str, done: str, anchor: str):
    """The shared shape of the readiness page's admin forms: validate, call the audited service
    for this agent version, then redirect, or show the page again with the form's errors (400)."""
    review, versions = _agent_access(request, agent_key)
    require(review.access, ADMIN_PERMISSION)
    prompt_version = _prompt_version(request, review, agent_key, versions)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            write(
                tenant=review.tenant,
                agent_key=agent_key,
                prompt_version=prompt_version,
                actor=actor_for(request),
                **form.cleaned_values(),
            )
        except ServiceError as error:
            form.add_error(error.param if error.param in form.fields else None, error.message)
        else:
            messages.success(request, done)
            return redirect(_readiness_url(agent_key, prompt_version, anchor))
    return render_readiness(
        request, review, agent_key, versions, prompt_version, status=400, **{form_name: form}
    )


@review_page
@require_POST
def readiness_signoff(request: HttpRequest, agent_key: str) -> HttpResponse:
    return _readiness_write(
        request,
        agent_key,
        form_class=SignoffForm,
        write=readiness_sign_off,
        form_name="signoff_form",
        done="Sign-off recorded.",
        anchor="#signoff",
    )


@review_page
@require_POST
def readiness_attest(request: HttpRequest, agent_key: str) -> HttpResponse:
    return _readiness_write(
        request,
        agent_key,
        form_class=AttestationForm,
        write=attestation_record,
        form_name="attestation_form",
        done="Gate recorded.",
        anchor="#production-gates",
    )


@review_page
@require_POST
def readiness_config(request: HttpRequest, agent_key: str) -> HttpResponse:
    return _readiness_write(
        request,
        agent_key,
        form_class=ReadinessConfigForm,
        write=readiness_config_save,
        form_name="config_form",
        done="Thresholds saved.",
        anchor="#thresholds",
    )


# --- contract ------------------------------------------------------------------------------------


def render_contract(
    request: HttpRequest,
    review: ReviewAccess,
    agent_key: str,
    versions: list[str],
    *,
    form: ContractForm | None = None,
    status: int = 200,
) -> HttpResponse:
    contracts = list(
        AgentContract.objects.filter(tenant=review.tenant, agent_key=agent_key).order_by("prompt_version")
    )
    editing = request.GET.get("prompt_version", "")
    current = next((contract for contract in contracts if contract.prompt_version == editing), None)
    if form is None:
        form = ContractForm(
            initial={
                "prompt_version": editing,
                "purpose": current.purpose if current else "",
                "allowed_intents": "\n".join(current.allowed_intents) if current else "",
                "allowed_tools": json.dumps(current.allowed_tools, indent=2) if current else "[]",
                "escalation_rules": current.escalation_rules if current else "",
                "refusal_policy": current.refusal_policy if current else "",
            }
        )
    findings = list(
        ContractFinding.objects.filter(tenant=review.tenant, session__agent_key=agent_key)
        .select_related("session", "acknowledged_by")
        .order_by("acknowledged_at", "-session__started_at", "call_seq")[:50]
    )
    tools_seen = list(
        FunctionCall.objects.filter(tenant=review.tenant, session__agent_key=agent_key)
        .values_list("name", flat=True)
        .order_by("name")
        .distinct()[:100]
    )
    context = {
        "review": review,
        "nav": "dashboard",
        "agent_key": agent_key,
        "agent_tab": "contract",
        "versions": versions,
        "contracts": contracts,
        "current": current,
        "form": form,
        "findings": findings,
        "tools_seen": tools_seen,
        "is_admin": review.access.has(ADMIN_PERMISSION),
        "can_acknowledge": review.access.can_review,
    }
    return render(request, "review/agent_contract.html", context, status=status)


@review_page
def agent_contract(request: HttpRequest, agent_key: str) -> HttpResponse:
    review, versions = _agent_access(request, agent_key)
    return render_contract(request, review, agent_key, versions)


@review_page
@require_POST
def contract_update(request: HttpRequest, agent_key: str) -> HttpResponse:
    review, versions = _agent_access(request, agent_key)
    require(review.access, ADMIN_PERMISSION)
    form = ContractForm(request.POST)
    if form.is_valid():
        try:
            contract, rechecked = contract_save(
                tenant=review.tenant, agent_key=agent_key, actor=actor_for(request), **form.cleaned_data
            )
        except ServiceError as error:
            form.add_error(error.param if error.param in form.fields else None, error.message)
        else:
            open_count = ContractFinding.objects.filter(
                contract=contract, acknowledged_at__isnull=True
            ).count()
            messages.success(
                request,
                f"Contract saved (revision {contract.revision}); {rechecked} sessions rechecked, "
                f"{open_count} open finding{'s' if open_count != 1 else ''}.",
            )
            url = reverse("review:agent-contract", args=[agent_key])
            return redirect(
                f"{url}?prompt_version={contract.prompt_version}" if contract.prompt_version else url
            )
    return render_contract(request, review, agent_key, versions, form=form, status=400)


@review_page
@require_POST
def finding_ack(request: HttpRequest, agent_key: str, finding_id: int) -> HttpResponse:
    review, _ = _agent_access(request, agent_key)
    require(review.access, "review_sessions")
    finding = ContractFinding.objects.filter(
        tenant=review.tenant, session__agent_key=agent_key, pk=finding_id
    ).first()
    if finding is None:
        raise Http404("No such finding.")
    try:
        finding_acknowledge(finding=finding, actor=actor_for(request), note=request.POST.get("note", ""))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Finding on {finding.tool_name} acknowledged.")
    return redirect(reverse("review:agent-contract", args=[agent_key]) + "#findings")
