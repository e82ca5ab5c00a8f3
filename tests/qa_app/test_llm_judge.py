"""The LLM judge, against a chat-completions server this test starts on localhost: a verdict with
evidence, and a timeout, a malformed answer, a refusal and an HTTP error, none of which fails the
write or the call's other evaluators; the endpoint's key encrypted at rest; the settings page."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test import override_settings

from qa_app.evaluators import evaluator_save, sessions_evaluate
from qa_app.llm_judge import Transcript, base_url_clean, judge_endpoint_save, verdict_parse
from qa_app.models import AutomaticEvaluation, JudgeEndpoint
from sessions_app.errors import ServiceError
from sessions_app.models import AuditEvent
from tests.factories import as_json, session_payload

RUBRIC = "Pass if the agent resolves the double charge."


def completion(content=None, *, refusal=None, finish_reason="stop") -> dict:
    message = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    choice = {"index": 0, "message": message, "finish_reason": finish_reason}
    return {"id": "c1", "object": "chat.completion", "choices": [choice]}


class JudgeServer:
    """A chat-completions endpoint whose next answers the test sets: (status, body, delay)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answer = (200, completion('{"verdict": "pass", "reason": "ok"}'), 0.0)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
                )
                status, answer, delay = server.answer
                time.sleep(delay)
                data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def judge_server():
    server = JudgeServer()
    yield server
    server.close()


@pytest.fixture
def judged(tenant, judge_server):
    """An endpoint on the local server, and an LLM judge and a built-in evaluator for the agent."""
    judge_endpoint_save(
        tenant=tenant, base_url=judge_server.url, model="judge-1", api_key="sk-test-123", timeout_seconds=1
    )
    evaluator_save(
        tenant=tenant, name="resolved", agent_key="billing-agent", kind="llm_judge", config={"rubric": RUBRIC}
    )
    evaluator_save(
        tenant=tenant, name="latency", agent_key="billing-agent", kind="response_latency",
        config={"max_p95_ms": 1000},
    )  # fmt: skip
    return judge_server


def results(session) -> dict[str, AutomaticEvaluation]:
    found = AutomaticEvaluation.objects.filter(session=session).select_related("evaluator")
    return {result.evaluator.name: result for result in found}


def test_a_verdict_with_evidence_from_the_redacted_call(tenant, judged, make_session):
    session = make_session(tenant)
    evidence = [
        {"target": "turn", "seq": 2, "note": "vague"},
        {"target": "call", "seq": 0, "note": "looked up"},
        {"target": "turn", "seq": 99, "note": "no such turn"},
        "junk",
    ]
    verdict = {
        "verdict": "fail",
        "score": 0.25,
        "reason": "Never confirmed the refund.",
        "evidence": evidence,
    }
    judged.answer = (200, completion(json.dumps(verdict)), 0)
    assert sessions_evaluate(tenant_id=tenant.pk, session_ids=[session.pk]) == 2
    result = results(session)["resolved"]
    assert (result.result, result.score, result.summary) == ("fail", 0.25, "Never confirmed the refund.")
    assert result.evidence == [
        {"target": "turn", "seq": 2, "note": "vague"},
        {"target": "call", "seq": 0, "note": "looked up"},
    ]  # seq 99 isn't in the call
    assert results(session)["latency"].result == "pass"
    (sent,) = judged.requests
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer sk-test-123"
    assert sent["body"]["model"] == "judge-1" and sent["body"]["response_format"] == {"type": "json_object"}
    prompt = sent["body"]["messages"][1]["content"]
    assert RUBRIC in prompt and "[1] caller:" in prompt and "[0] lookup_order: succeeded" in prompt
    # Only redacted text leaves: the factory's transcript has no PII, so give one that has.
    pii = make_session(tenant, transcript=[{"seq": 0, "role": "caller", "text": "Call me on 415 555 0199."}])
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[pii.pk])
    assert "555 0199" not in judged.requests[-1]["body"]["messages"][1]["content"]


@pytest.mark.parametrize(
    "answer, expected",
    [
        ((200, completion("I think it went fine."), 0), "isn't JSON"),
        ((200, completion('{"verdict": "maybe"}'), 0), 'verdict is "maybe"'),
        ((200, completion('["pass"]'), 0), "isn't a JSON object"),
        ((200, {"error": "nope"}, 0), "isn't a chat completion"),
        ((200, "<html>gateway</html>", 0), "answer isn't JSON"),
        (
            (200, completion(None, refusal="I can't help with evaluating this call."), 0),
            "refused: I can't help",
        ),
        ((200, completion("", finish_reason="content_filter"), 0), "refused: its content filter"),
        ((500, {"error": {"message": "overloaded"}}, 0), "HTTP 500"),
        ((200, completion('{"verdict": "pass"}'), 3), "didn't answer within 1 s"),
    ],
    ids=[
        "prose",
        "bad-verdict",
        "not-object",
        "not-completion",
        "html",
        "refusal",
        "filter",
        "http-500",
        "timeout",
    ],
)
def test_a_judge_that_gives_no_verdict_is_an_error_result_not_a_failure(
    api, tenant, judged, answer, expected, django_capture_on_commit_callbacks
):
    judged.answer = answer
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/voice-sessions", as_json(session_payload()), format="json")
    assert response.status_code == 201  # the write stands, whatever the judge did
    found = results(response.json()["id"])
    assert found["resolved"].result == "error" and expected in found["resolved"].summary
    assert found["latency"].result == "pass"  # the other evaluator was written all the same


def test_a_fenced_json_verdict_is_read():
    transcript = Transcript(turns=[(0, "agent", "hi")])
    verdict = verdict_parse(completion('```json\n{"verdict": "PASS", "score": 7}\n```'), transcript)
    assert verdict.result == "pass" and verdict.score is None  # a score outside 0..1 is dropped


def test_an_unreachable_judge_or_none_set_up(tenant, judged, make_session):
    session = make_session(tenant)
    JudgeEndpoint.objects.filter(tenant=tenant).update(base_url="http://127.0.0.1:9/v1")
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[session.pk])
    assert "couldn't be reached" in results(session)["resolved"].summary
    JudgeEndpoint.objects.all().delete()
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[session.pk])
    assert results(session)["resolved"].summary == "No LLM judge endpoint is set up in Settings."


def test_the_key_is_encrypted_at_rest_and_never_audited(tenant, judge_server):
    assert judge_endpoint_save(
        tenant=tenant, base_url=judge_server.url + "/", model="m", api_key="sk-secret-1"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key, base_url FROM qa_app_judgeendpoint")
        stored, base_url = cursor.fetchone()
    assert stored.startswith("fernet:") and "sk-secret-1" not in stored
    assert base_url == judge_server.url  # the trailing slash is dropped
    # No key given: the stored one is kept; the same settings again change nothing.
    assert not judge_endpoint_save(tenant=tenant, base_url=judge_server.url, model="m")
    assert JudgeEndpoint.objects.get().api_key == "sk-secret-1"
    assert judge_endpoint_save(tenant=tenant, base_url=judge_server.url, model="m", api_key="")
    assert JudgeEndpoint.objects.get().api_key == ""
    events = AuditEvent.objects.filter(action="judge_endpoint.changed")
    assert events.count() == 2 and all("sk-secret" not in json.dumps(e.details) for e in events)


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"base_url": "ftp://example.com"}, "base_url"),
        ({"base_url": "https://user:pw@example.com/v1"}, "base_url"),
        ({"model": ""}, "model"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"api_key": "has space"}, "api_key"),
    ],
)
def test_endpoint_settings_are_refused_by_name(tenant, kwargs, param):
    values = {"base_url": "https://llm.example.com/v1", "model": "m", **kwargs}
    with pytest.raises(ServiceError) as refused:
        judge_endpoint_save(tenant=tenant, **values)
    assert refused.value.param == param
    assert not JudgeEndpoint.objects.exists()


@override_settings(LLM_JUDGE_ALLOW_PRIVATE_URLS=False)
def test_in_production_the_endpoint_is_https_and_public():
    with pytest.raises(ServiceError, match="https"):
        base_url_clean("http://llm.example.com/v1")
    for private in (
        "https://127.0.0.1/v1",
        "https://10.0.0.8/v1",
        "https://[::1]/v1",
        "https://localhost/v1",
    ):
        with pytest.raises(ServiceError, match="public"):
            base_url_clean(private)
    assert base_url_clean("https://93.184.215.14/v1/") == "https://93.184.215.14/v1"


def test_an_llm_judge_needs_an_endpoint_and_a_rubric(tenant, judge_server):
    with pytest.raises(ServiceError) as refused:
        evaluator_save(tenant=tenant, name="j", agent_key="a", kind="llm_judge", config={"rubric": "x"})
    assert refused.value.param == "kind"
    judge_endpoint_save(tenant=tenant, base_url=judge_server.url, model="m")
    with pytest.raises(ServiceError) as refused:
        evaluator_save(tenant=tenant, name="j", agent_key="a", kind="llm_judge", config={})
    assert refused.value.param == "config.rubric"
    long = evaluator_save(
        tenant=tenant, name="j", agent_key="a", kind="llm_judge", config={"rubric": "r" * 4000}
    )
    assert long.version.config == {"rubric": "r" * 4000, "max_turns": 200}


def test_admins_set_and_test_the_judge_in_settings(browser_for, tenant, judge_server):
    admin = browser_for(tenant, "admin")
    page = admin.get("/review/settings/").content.decode()
    assert 'id="judge"' in page and "Send a test call" not in page
    bad = admin.post("/review/settings/judge/", {"base_url": "nope", "model": "m", "timeout_seconds": "5"})
    assert bad.status_code == 400 and "base_url is an http(s) URL" in bad.content.decode()
    saved = admin.post(
        "/review/settings/judge/",
        {"base_url": judge_server.url, "model": "judge-1", "api_key": "sk-page", "timeout_seconds": "5"},
        follow=True,
    )
    body = saved.content.decode()
    assert "LLM judge saved." in body and "key stored (encrypted)" in body and "sk-page" not in body
    tested = admin.post("/review/settings/judge/test/", follow=True).content.decode()
    assert "The judge answered “pass”: ok" in tested
    assert judge_server.requests[-1]["auth"] == "Bearer sk-page"
    judge_server.answer = (503, {}, 0)
    assert (
        "The test failed. The judge answered HTTP 503."
        in admin.post("/review/settings/judge/test/", follow=True).content.decode()
    )
    # Analysts can't see or change it.
    analyst = browser_for(tenant, "analyst")
    assert (
        analyst.post("/review/settings/judge/", {"base_url": judge_server.url, "model": "x"}).status_code
        == 403
    )
    assert admin.post("/review/settings/judge/remove/", follow=True).status_code == 200
    assert not JudgeEndpoint.objects.exists()
