"""The LLM judge: an evaluator kind that asks the tenant's own chat-completions endpoint.

A tenant admin sets one OpenAI-compatible endpoint (``JudgeEndpoint``: base URL, model, and an
API key encrypted at rest); an ``llm_judge`` evaluator adds a rubric. For each finished call the
judge is sent the rubric and the *redacted* transcript and tool calls, each line named by its
``seq``, and asked for a JSON verdict::

    {"verdict": "pass" | "fail", "score": 0..1 (optional), "reason": "...",
     "evidence": [{"target": "turn" | "call", "seq": 3, "note": "..."}]}

A judge that times out, can't be reached, refuses, or answers anything but such a verdict gives
the result ``error`` with the reason; it never raises, so the call's other evaluators are still
written and the write that queued them was answered long before (the job runs after its commit).
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction

from qa_app.models import AutomaticResult, JudgeEndpoint
from sessions_app.actors import SYSTEM, Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.encryption import UndecryptableSecret
from sessions_app.errors import ServiceError
from sessions_app.models import FunctionCall, Tenant, TranscriptTurn

SYSTEM_PROMPT = (
    "You are a quality reviewer of phone calls handled by a voice agent. Judge the call against "
    "the rubric. Personal data in the transcript has been replaced by placeholders such as "
    "[PHONE]; don't judge those. Answer with one JSON object and nothing else: "
    '{"verdict": "pass" or "fail", "score": a number from 0 to 1, "reason": one sentence, '
    '"evidence": [{"target": "turn" or "call", "seq": the number in brackets, "note": why}]}.'
)
MAX_REASON = 300
MAX_EVIDENCE = 20
FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


@dataclass(frozen=True)
class Verdict:
    """What the judge said, in the shape of an evaluator's outcome."""

    result: str
    score: float | None = None
    summary: str = ""
    evidence: list[dict] = field(default_factory=list)


def _error(summary: str) -> Verdict:
    return Verdict(AutomaticResult.ERROR, summary=summary[:MAX_REASON])


# --- the endpoint ----------------------------------------------------------------------------------


def _private(host: str) -> bool:
    """Whether ``host`` is, or resolves to, an address on this machine or a private network."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return False  # unresolvable now: the call will fail and say so
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return True
    return False


def base_url_clean(url: str) -> str:
    """The endpoint's base URL, checked: http(s) with a host, and (unless
    ``LLM_JUDGE_ALLOW_PRIVATE_URLS``) https to a public address, so a tenant admin can't point the
    server at its own network."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise ServiceError("base_url is an http(s) URL such as https://api.openai.com/v1.", param="base_url")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ServiceError("base_url takes no credentials, query or fragment.", param="base_url")
    if not settings.LLM_JUDGE_ALLOW_PRIVATE_URLS:
        if parts.scheme != "https":
            raise ServiceError("base_url must use https.", param="base_url")
        if _private(parts.hostname):
            raise ServiceError("base_url must be a public address.", param="base_url")
    return url


def _stored_key(endpoint: JudgeEndpoint) -> str | None:
    try:
        return endpoint.api_key
    except UndecryptableSecret:
        return None


@transaction.atomic
def judge_endpoint_save(
    *,
    tenant: Tenant,
    base_url: str,
    model: str,
    api_key: str | None = None,
    timeout_seconds: float = 20.0,
    actor: Actor = SYSTEM,
) -> bool:
    """Set the tenant's judge endpoint. ``api_key`` None keeps the stored one, "" removes it.
    Audited without the key. Returns whether anything changed."""
    base_url = base_url_clean(base_url)
    model = (model or "").strip()
    if not model or len(model) > 200:
        raise ServiceError("model is required (at most 200 characters).", param="model")
    if not isinstance(timeout_seconds, int | float) or not 1 <= timeout_seconds <= 120:
        raise ServiceError("timeout_seconds is from 1 to 120.", param="timeout_seconds")
    if api_key is not None and (len(api_key) > 500 or any(c.isspace() for c in api_key)):
        raise ServiceError("api_key is at most 500 characters, with no spaces.", param="api_key")
    endpoint = JudgeEndpoint.objects.select_for_update().filter(tenant=tenant).first()
    created = endpoint is None
    endpoint = endpoint or JudgeEndpoint(tenant=tenant)
    before = (
        {}
        if created
        else {
            "base_url": endpoint.base_url,
            "model": endpoint.model,
            "timeout_seconds": endpoint.timeout_seconds,
        }
    )
    after = {"base_url": base_url, "model": model, "timeout_seconds": float(timeout_seconds)}
    key_changed = api_key is not None and (created or _stored_key(endpoint) != api_key)
    if before == after and not key_changed:
        return False
    endpoint.base_url, endpoint.model, endpoint.timeout_seconds = base_url, model, float(timeout_seconds)
    if api_key is not None:
        endpoint.api_key = api_key
    endpoint.updated_by = actor.user
    endpoint.save()
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.JUDGE_ENDPOINT_CHANGED,
        target_type="judge_endpoint",
        target_id=tenant.slug,
        details={"before": before, "after": after, "api_key": "changed" if key_changed else "kept"},
    )
    return True


@transaction.atomic
def judge_endpoint_remove(*, tenant: Tenant, actor: Actor = SYSTEM) -> bool:
    deleted, _ = JudgeEndpoint.objects.filter(tenant=tenant).delete()
    if deleted:
        audit_record(
            actor=actor,
            tenant=tenant,
            action=AuditAction.JUDGE_ENDPOINT_CHANGED,
            target_type="judge_endpoint",
            target_id=tenant.slug,
            details={"removed": True},
        )
    return bool(deleted)


# --- what the judge reads --------------------------------------------------------------------------


@dataclass
class Transcript:
    turns: list[tuple[int, str, str]] = field(default_factory=list)  # seq, role, redacted text
    calls: list[tuple[int, str, str]] = field(default_factory=list)  # seq, name, status

    def text(self, max_turns: int) -> str:
        lines = [f"[{seq}] {role}: {text}" for seq, role, text in self.turns[:max_turns]]
        if len(self.turns) > max_turns:
            lines.append(f"(… {len(self.turns) - max_turns} more turns not shown)")
        calls = [f"[{seq}] {name}: {status}" for seq, name, status in self.calls]
        return "Transcript:\n" + "\n".join(lines) + ("\n\nTool calls:\n" + "\n".join(calls) if calls else "")


# What the settings page's "Test" sends.
SAMPLE_TRANSCRIPT = Transcript(
    turns=[(1, "agent", "Thanks for calling, how can I help?"), (2, "caller", "I'd like to check my order.")]
)


def transcripts(tenant_id: int, session_ids: Iterable) -> dict:
    """The redacted transcript and tool calls of these sessions: two queries."""
    found: dict = defaultdict(Transcript)
    ids = list(session_ids)
    for session_id, seq, role, text in (
        TranscriptTurn.objects.filter(tenant_id=tenant_id, session_id__in=ids)
        .order_by("session_id", "seq")
        .values_list("session_id", "seq", "role", "text_redacted")
    ):
        found[session_id].turns.append((seq, role, text))
    for session_id, seq, name, status in (
        FunctionCall.objects.filter(tenant_id=tenant_id, session_id__in=ids)
        .order_by("session_id", "seq")
        .values_list("session_id", "seq", "name", "status")
    ):
        found[session_id].calls.append((seq, name, status))
    return found


# --- asking it ---------------------------------------------------------------------------------------


def verdict_parse(payload: object, transcript: Transcript) -> Verdict:
    """The verdict in a chat-completions answer, or an ``error`` saying what was wrong with it."""
    try:
        choice = payload["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError):
        return _error("The judge's answer isn't a chat completion (no choices[0].message).")
    if not isinstance(message, Mapping):
        return _error("The judge's answer isn't a chat completion (no choices[0].message).")
    refusal = message.get("refusal")
    if refusal or choice.get("finish_reason") == "content_filter":
        reason = refusal if isinstance(refusal, str) and refusal else "its content filter stopped it"
        return _error(f"The judge refused: {reason}")
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        return _error("The judge answered with no content.")
    text = content.strip()
    fenced = FENCE.match(text)
    try:
        answer = json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        return _error(f"The judge's answer isn't JSON: {text[:120]}")
    if not isinstance(answer, Mapping):
        return _error("The judge's answer isn't a JSON object.")
    verdict = answer.get("verdict")
    if isinstance(verdict, str):
        verdict = verdict.strip().lower()
    if verdict not in (AutomaticResult.PASS, AutomaticResult.FAIL):
        return _error(f'The judge\'s verdict is {json.dumps(verdict)[:60]}, not "pass" or "fail".')
    score = answer.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        score = None
    reason = answer.get("reason")
    seqs = {"turn": {seq for seq, _, _ in transcript.turns}, "call": {seq for seq, _, _ in transcript.calls}}
    evidence = []
    for item in answer.get("evidence") or []:
        if not isinstance(item, Mapping):
            continue
        target, seq, note = item.get("target", "turn"), item.get("seq"), item.get("note", "")
        # Only seqs the call has: a judge's invented line number would point at nothing.
        if target in seqs and isinstance(seq, int) and not isinstance(seq, bool) and seq in seqs[target]:
            evidence.append({"target": target, "seq": seq, "note": str(note)[:200]})
    return Verdict(
        verdict,
        score=float(score) if score is not None else None,
        summary=(reason if isinstance(reason, str) else "")[:MAX_REASON],
        evidence=evidence[:MAX_EVIDENCE],
    )


def judge(
    endpoint: JudgeEndpoint,
    rubric: str,
    transcript: Transcript,
    *,
    max_turns: int = 200,
    http: requests.Session | None = None,
) -> Verdict:
    """Ask the endpoint for a verdict on one call. Never raises: a failure is an ``error`` verdict."""
    try:
        key = endpoint.api_key
    except UndecryptableSecret:
        return _error("The judge's API key can't be decrypted with the configured ENCRYPTION_KEYS.")
    body = {
        "model": endpoint.model,
        "temperature": 0,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Rubric:\n{rubric}\n\n{transcript.text(max_turns)}"},
        ],
    }
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        base_url_clean(endpoint.base_url)  # again: the name may resolve elsewhere by now
        response = (http or requests).post(
            f"{endpoint.base_url}/chat/completions",
            json=body,
            headers=headers,
            timeout=endpoint.timeout_seconds,
            allow_redirects=False,
        )
    except ServiceError as error:
        return _error(f"The judge endpoint is refused: {error.message}")
    except requests.Timeout:
        return _error(f"The judge didn't answer within {endpoint.timeout_seconds:g} s.")
    except requests.RequestException as error:
        return _error(f"The judge couldn't be reached: {type(error).__name__}.")
    if response.status_code != 200:
        return _error(f"The judge answered HTTP {response.status_code}.")
    try:
        payload = response.json()
    except ValueError:
        return _error("The judge's answer isn't JSON.")
    return verdict_parse(payload, transcript)


def judge_many(tenant_id: int, jobs: list[tuple[object, str, int]]) -> list[Verdict]:
    """Verdicts for (session id, rubric, max turns) jobs, in order, asked a few at a time."""
    if not jobs:
        return []
    endpoint = JudgeEndpoint.objects.filter(tenant_id=tenant_id).first()
    if endpoint is None:
        return [_error("No LLM judge endpoint is set up in Settings.")] * len(jobs)
    # The ids come as the database gave them (text on PostgreSQL); the ORM's rows key by UUID.
    found = transcripts(tenant_id, {uuid.UUID(str(session_id)) for session_id, _, _ in jobs})
    with requests.Session() as http, ThreadPoolExecutor(settings.LLM_JUDGE_CONCURRENCY) as pool:
        return list(
            pool.map(
                lambda job: judge(
                    endpoint, job[1], found[uuid.UUID(str(job[0]))], max_turns=job[2], http=http
                ),
                jobs,
            )
        )
