"""The proxy end to end: a real uvicorn server, real litellm, a real fake upstream server.

Checks are fakes (keyword matchers registered under the kinds the policy names, ``phi``
included, so excerpts are kept and redacted the way the real check's are), everything
else is the production wiring: config parsing, ``build_app``, the SQLite audit store,
Prometheus metrics, litellm's Router over HTTP to the fake upstream. Servers start once
for the module.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from guard.audit import AuditStore
from guard.checks import CheckRegistry
from guard.types import Context, Finding, Segment, Stage
from proxy.auth import hash_key
from proxy.config import parse_config
from proxy.wiring import build_app
from tests.fakes.checks import KeywordCheck
from tests.fakes.servers import ServerThread, wait_until
from tests.fakes.upstream import Behaviour, FakeUpstream

pytestmark = [
    pytest.mark.e2e,
    # litellm's types trip a pydantic warning when first built; not ours to fix.
    pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning"),
]

KEY = "sk-test-clinic"
CLINICIAN_KEY = "sk-test-clinician"
UPSTREAM_KEY = "sk-upstream-secret-123"
MAX_BODY = 64 * 1024
MAX_CHARS = 4000

TEST_POLICY = """
id: e2e-test
version: "3.1"
checks:
  - kind: phi
    stages: [input, output]
    scope: all
    params: {keywords: {"alice example": person, "555-0100": phone}, entity: PERSON}
  - kind: keyword
    name: crisis
    stages: [input]
    params: {keywords: {"end my life": suicidal_ideation}}
  - kind: keyword
    name: harm
    stages: [input, output]
    params:
      keywords: {forge: falsify_records, "dose for my child": missing_age,
                 "poison recipe": harmful_output}
  - kind: gate
    stages: [input]
rules:
  - id: phi-redact
    when: {check: phi}
    action: redact
  - id: crisis-escalate
    when: {check: crisis, categories: [suicidal_ideation]}
    action: escalate
    template: crisis
    escalation: crisis
  - id: harm-block
    when: {check: harm, categories: [falsify_records], audiences: [patient]}
    action: block
    template: refuse
  - id: ask-age
    when: {check: harm, categories: [missing_age], stages: [input]}
    action: clarify
    template: ask_age
  - id: output-block
    when: {check: harm, categories: [harmful_output], stages: [output]}
    action: block
    template: refuse_output
escalations:
  crisis: {priority: high, amend: prepend}
templates:
  crisis: "CRISIS: call {crisis_line} now; emergencies {emergency_number}."
  refuse: "I can't help falsify records."
  refuse_output: "I stopped this answer: it was unsafe."
  ask_age: "How old is your child, and how much do they weigh?"
  check_unavailable: "A safety check is unavailable; emergencies {emergency_number}."
resources:
  default_country: US
  crisis_lines:
    US: {name: "988 Lifeline", contact: "call or text 988", source: "988lifeline.org"}
    GB: {name: "Samaritans", contact: "call 116 123", source: "samaritans.org"}
  emergency_numbers:
    US: {number: "911", source: "fcc.gov"}
    GB: {number: "999", source: "nhs.uk"}
"""


class GateCheck:
    """Finds nothing; its ``load()`` waits for the test, to observe /readyz while loading."""

    gate = threading.Event()

    def __init__(self, name: str, stages: frozenset[Stage], params: Mapping[str, Any]) -> None:
        self.name = name
        self.stages = stages

    def load(self) -> None:
        if not self.gate.wait(timeout=30):
            raise TimeoutError("test gate never opened")

    async def detect(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        return []


def _registry() -> CheckRegistry:
    registry = CheckRegistry()
    registry.register("phi", KeywordCheck)
    registry.register("keyword", KeywordCheck)
    registry.register("gate", GateCheck)
    return registry


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _config_yaml(fake_url: str, db: Path) -> str:
    return f"""
server:
  max_body_bytes: {MAX_BODY}
  max_message_chars: {MAX_CHARS}
  request_timeout_s: 20
policies:
  test: policies/e2e.yaml
tenants:
  - name: clinic
    key_sha256: ["{hash_key(KEY)}"]
    policy: test
    audience: patient
    country: US
    models: [fake-gpt, dead-gpt, slow-gpt]
  - name: ward
    key_sha256: ["{hash_key(CLINICIAN_KEY)}"]
    policy: test
    audience: clinician
    country: GB
    models: [fake-gpt]
model_list:
  - model_name: fake-gpt
    litellm_params:
      model: openai/fake
      api_base: {fake_url}/v1
      api_key: ${{FAKE_UPSTREAM_KEY}}
  - model_name: dead-gpt
    litellm_params:
      model: openai/fake
      api_base: http://127.0.0.1:{_closed_port()}/v1
      api_key: sk-none
  - model_name: slow-gpt
    litellm_params:
      model: openai/fake
      api_base: {fake_url}/v1
      api_key: sk-none
      timeout: 1
      max_retries: 0
  - model_name: other-gpt
    litellm_params: {{model: openai/fake, api_base: "{fake_url}/v1", api_key: sk-none}}
router_settings:
  num_retries: 0
  disable_cooldowns: true
store:
  url: sqlite:///{db}
"""


class Env:
    def __init__(self, proxy: ServerThread, fake: FakeUpstream, store: AuditStore,
                 readiness_seen: list[tuple[int, int]]) -> None:
        self.proxy = proxy
        self.fake = fake
        self.store = store
        self.readiness_seen = readiness_seen
        self.client = httpx.Client(base_url=proxy.url, timeout=30)

    def chat(self, content: str | None = None, *, key: str = KEY, **body: Any) -> httpx.Response:
        payload: dict[str, Any] = {"model": "fake-gpt"}
        if content is not None:
            payload["messages"] = [{"role": "user", "content": content}]
        payload.update(body)
        return self.client.post("/v1/chat/completions", json=payload,
                                headers={"Authorization": f"Bearer {key}"})

    def stream(self, content: str, **body: Any) -> tuple[httpx.Response, list[Any]]:
        response = self.chat(content, stream=True, **body)
        return response, parse_sse(response.text)


def parse_sse(text: str) -> list[Any]:
    """Every ``data:`` event; JSON decoded, ``[DONE]`` kept as the string."""
    events: list[Any] = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        assert block.startswith("data: "), block
        data = block[len("data: "):]
        events.append(data if data == "[DONE]" else json.loads(data))
    return events


def streamed_text(events: list[Any]) -> str:
    return "".join(
        c.get("delta", {}).get("content") or ""
        for e in events if isinstance(e, dict) for c in e.get("choices", [])
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("proxy-e2e")
    (tmp / "policies").mkdir()
    (tmp / "policies" / "e2e.yaml").write_text(TEST_POLICY)
    db = tmp / "audit.db"
    fake = FakeUpstream()
    with ServerThread(fake.app) as fake_server:
        config = parse_config(
            _config_yaml(fake_server.url, db), str(tmp / "primum.yaml"), tmp,
            environ={"FAKE_UPSTREAM_KEY": UPSTREAM_KEY},
        )
        GateCheck.gate.clear()
        app = build_app(config, check_registry=_registry())
        with ServerThread(app) as proxy:
            seen: list[tuple[int, int]] = []
            with httpx.Client(base_url=proxy.url) as c:
                seen.append((c.get("/readyz").status_code,
                             c.post("/v1/chat/completions", json={},
                                    headers={"Authorization": f"Bearer {KEY}"}).status_code))
                GateCheck.gate.set()
                wait_until(lambda: c.get("/readyz").status_code == 200, timeout_s=30)
                seen.append((c.get("/readyz").status_code, 0))
            store = AuditStore(f"sqlite:///{db}").open()
            e = Env(proxy, fake, store, seen)
            try:
                yield e
            finally:
                e.client.close()
                store.close()


@pytest.fixture(autouse=True)
def _reset(env: Env) -> None:
    env.fake.reset()


# ------------------------------------------------------------------- happy paths
def test_readyz_went_from_503_to_200_and_healthz_is_up(env: Env) -> None:
    (loading_ready, loading_chat), (ready, _) = env.readiness_seen
    assert loading_ready == 503
    assert loading_chat == 503
    assert ready == 200
    assert env.client.get("/healthz").json() == {"status": "ok"}
    assert env.client.get("/readyz").json()["status"] == "ready"


def test_normal_answer(env: Env) -> None:
    r = env.chat("Hello there", temperature=0.2, seed=7, primum_test_extra={"a": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "fake-gpt"
    assert body["choices"][0]["message"] == {
        "role": "assistant", "content": "You said: Hello there"
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] == 18
    assert r.headers["x-primum-action"] == "allow"
    primum = body["primum"]
    assert primum["action"] == "allow"
    assert primum["input_action"] == "allow"
    assert primum["output_action"] == "allow"
    assert primum["policy"] == {"id": "e2e-test", "version": "3.1"}
    assert primum["case_ids"] == []
    assert primum["request_id"] == r.headers["x-request-id"]
    sent = env.fake.requests[-1]
    assert sent["temperature"] == 0.2
    assert sent["seed"] == 7
    assert sent["primum_test_extra"] == {"a": 1}  # unknown params pass through


def test_upstream_key_comes_from_the_environment(env: Env) -> None:
    assert env.chat("hi").status_code == 200
    assert env.fake.auth_headers[-1] == f"Bearer {UPSTREAM_KEY}"


def test_streaming_answer(env: Env) -> None:
    r, events = env.stream("Tell me about sleep", stream_options={"include_usage": True})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["x-primum-action"] == "allow"
    assert events[-1] == "[DONE]"
    chunks = [e for e in events if isinstance(e, dict)]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert streamed_text(events) == "You said: Tell me about sleep"
    final = next(c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"])
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["primum"]["action"] == "allow"
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["total_tokens"] == 18


def test_streaming_without_include_usage_sends_no_usage_chunk(env: Env) -> None:
    _, events = env.stream("hi")
    assert all("usage" not in e for e in events if isinstance(e, dict))


# ------------------------------------------------------------------ guard paths
def test_phi_is_redacted_for_upstream_and_restored_for_client(env: Env) -> None:
    r = env.chat("I am Alice Example, phone 555-0100. Can I take ibuprofen?")
    assert r.status_code == 200, r.text
    seen = env.fake.seen_text()
    assert "Alice Example" not in seen and "555-0100" not in seen
    assert "[PERSON_1]" in seen and "[PERSON_2]" in seen
    content = r.json()["choices"][0]["message"]["content"]
    assert content == "You said: I am Alice Example, phone 555-0100. Can I take ibuprofen?"
    assert r.json()["primum"]["action"] == "redact"
    assert r.headers["x-primum-action"] == "redact"
    rows = env.store.list_decisions(request_id=r.json()["primum"]["request_id"])
    assert {row["stage"] for row in rows} == {"input", "output"}
    for row in rows:
        assert "Alice" not in row["excerpt"] and "555-0100" not in row["excerpt"]
    assert any("[PERSON_1]" in row["excerpt"] for row in rows)


def test_phi_is_redacted_and_restored_in_a_stream(env: Env) -> None:
    r, events = env.stream("Alice Example here, call 555-0100 please")
    assert r.status_code == 200
    assert "Alice Example" not in env.fake.seen_text()
    assert streamed_text(events) == "You said: Alice Example here, call 555-0100 please"
    assert events[-1] == "[DONE]"


def test_crisis_is_escalated_with_resources_first_and_a_case(env: Env) -> None:
    r = env.chat("I want to end my life")
    assert r.status_code == 200, r.text
    body = r.json()
    content = body["choices"][0]["message"]["content"]
    assert content.startswith("CRISIS: call call or text 988 now; emergencies 911.")
    assert content.endswith("You said: I want to end my life")
    primum = body["primum"]
    assert primum["action"] == "escalate"
    assert "crisis/suicidal_ideation" in primum["categories"]
    assert len(primum["case_ids"]) == 1
    case = env.store.get_case(primum["case_ids"][0])
    assert case is not None
    assert case["tenant"] == "clinic" and case["priority"] == "high"
    assert case["request_id"] == primum["request_id"]


def test_crisis_resources_use_the_tenants_country(env: Env) -> None:
    r = env.chat("I want to end my life", key=CLINICIAN_KEY)
    assert r.json()["choices"][0]["message"]["content"].startswith(
        "CRISIS: call call 116 123 now; emergencies 999."
    )


def test_crisis_in_a_stream_sends_resources_before_the_answer(env: Env) -> None:
    r, events = env.stream("I want to end my life")
    assert r.headers["x-primum-action"] == "escalate"
    contents = [c["choices"][0]["delta"].get("content") for c in events
                if isinstance(c, dict) and c["choices"] and c["choices"][0]["delta"].get("content")]
    assert contents[0].startswith("CRISIS: call call or text 988")
    final = next(e for e in events if isinstance(e, dict) and "primum" in e)
    assert len(final["primum"]["case_ids"]) == 1


def test_block_answers_at_once_without_calling_upstream(env: Env) -> None:
    r = env.chat("help me forge the discharge note")
    assert r.status_code == 200
    body = r.json()
    assert body["choices"][0]["finish_reason"] == "content_filter"
    assert body["choices"][0]["message"]["content"] == "I can't help falsify records."
    assert body["primum"]["action"] == "block"
    assert body["primum"]["output_action"] is None
    assert r.headers["x-primum-action"] == "block"
    assert env.fake.requests == []


def test_block_depends_on_the_tenants_audience(env: Env) -> None:
    r = env.chat("help me forge the discharge note", key=CLINICIAN_KEY)
    assert r.json()["primum"]["action"] == "allow"
    assert len(env.fake.requests) == 1


def test_block_in_a_stream(env: Env) -> None:
    r, events = env.stream("forge it", stream_options={"include_usage": True})
    assert r.status_code == 200
    assert r.headers["x-primum-action"] == "block"
    assert streamed_text(events) == "I can't help falsify records."
    final = next(e for e in events if isinstance(e, dict) and "primum" in e)
    assert final["choices"][0]["finish_reason"] == "content_filter"
    assert events[-2]["usage"]["total_tokens"] == 0
    assert events[-1] == "[DONE]"
    assert env.fake.requests == []


def test_clarify_asks_before_answering(env: Env) -> None:
    r = env.chat("what is the paracetamol dose for my child?")
    body = r.json()
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["choices"][0]["message"]["content"].startswith("How old is your child")
    assert body["primum"]["action"] == "clarify"
    assert r.headers["x-primum-action"] == "clarify"
    assert env.fake.requests == []


def test_harmful_answer_is_blocked_on_output(env: Env) -> None:
    r = env.chat("REPLY: sure, here is the poison recipe")
    body = r.json()
    assert body["choices"][0]["finish_reason"] == "content_filter"
    assert body["choices"][0]["message"]["content"] == "I stopped this answer: it was unsafe."
    assert "poison" not in json.dumps(body)
    assert body["primum"]["input_action"] == "allow"
    assert body["primum"]["output_action"] == "block"
    assert r.headers["x-primum-action"] == "block"


def test_harmful_answer_is_cut_mid_stream(env: Env) -> None:
    safe = "Here is some general, harmless background about household safety. " * 4
    _r, events = env.stream(f"REPLY: {safe}And now the poison recipe: mix everything.")
    text = streamed_text(events)
    assert "poison" not in text
    assert "I stopped this answer: it was unsafe." in text
    assert text.startswith("Here is some general")
    final = next(e for e in events if isinstance(e, dict) and "primum" in e)
    assert final["choices"][0]["finish_reason"] == "content_filter"
    assert final["primum"]["output_action"] == "block"
    assert events[-1] == "[DONE]"


# ------------------------------------------------------------------ bad requests
def _error(r: httpx.Response, status: int, code: str | None, param: str | None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"]
    assert body["error"]["code"] == code
    assert body["error"]["param"] == param
    assert "Traceback" not in r.text


def _post(env: Env, content: bytes, key: str | None = KEY, **headers: str) -> httpx.Response:
    h = {"content-type": "application/json", **headers}
    if key:
        h["Authorization"] = f"Bearer {key}"
    return env.client.post("/v1/chat/completions", content=content, headers=h)


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


BAD_BODIES: list[tuple[str, Any, int, str | None, str | None]] = [
    ("not-json", b"{not json", 400, "invalid_json", None),
    ("empty-body", b"", 400, "invalid_json", None),
    ("array-body", [1, 2], 400, "invalid_json", None),
    ("missing-model", {"messages": _user("hi")}, 400, "missing_required_parameter", "model"),
    ("model-not-string", {"model": 3, "messages": _user("hi")}, 400, "invalid_request", "model"),
    ("missing-messages", {"model": "fake-gpt"}, 400, "missing_required_parameter", "messages"),
    ("messages-not-list", {"model": "fake-gpt", "messages": "hi"}, 400, "invalid_request",
     "messages"),
    ("no-messages", {"model": "fake-gpt", "messages": []}, 400, "invalid_request", "messages"),
    ("empty-content", {"model": "fake-gpt", "messages": _user("  ")}, 400, "empty_content",
     "messages[0].content"),
    ("missing-content", {"model": "fake-gpt", "messages": [{"role": "user"}]}, 400,
     "invalid_request", "messages[0].content"),
    ("unknown-role", {"model": "fake-gpt", "messages": [{"role": "wizard", "content": "x"}]},
     400, "invalid_request", "messages[0].role"),
    ("image-part", {"model": "fake-gpt", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}]},
     400, "invalid_request", "messages[0].content[0].type"),
    ("huge-content", {"model": "fake-gpt", "messages": _user("x" * (MAX_CHARS + 1))}, 413,
     "message_too_large", "messages[0].content"),
    ("unknown-model", {"model": "gpt-nope", "messages": _user("hi")}, 404, "model_not_found",
     "model"),
    ("model-of-other-tenant", {"model": "other-gpt", "messages": _user("hi")}, 404,
     "model_not_found", "model"),
    ("stream-not-bool", {"model": "fake-gpt", "messages": _user("hi"), "stream": "yes"}, 400,
     "invalid_request", "stream"),
    ("redirect-upstream", {"model": "fake-gpt", "messages": _user("hi"),
                           "api_base": "http://evil.example/v1"}, 400, "invalid_request",
     "api_base"),
    ("mock-response", {"model": "fake-gpt", "messages": _user("hi"), "mock_response": "x"}, 400,
     "invalid_request", "mock_response"),
    ("n-above-1", {"model": "fake-gpt", "messages": _user("hi"), "n": 2}, 400,
     "invalid_request", "n"),
    ("usage-without-stream", {"model": "fake-gpt", "messages": _user("hi"),
                              "stream_options": {"include_usage": True}}, 400,
     "invalid_request", "stream_options"),
]


@pytest.mark.parametrize(("body", "status", "code", "param"),
                         [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES])
def test_bad_request_gets_an_openai_error(
    env: Env, body: Any, status: int, code: str | None, param: str | None
) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    _error(_post(env, raw), status, code, param)
    assert env.fake.requests == []


def test_body_over_the_limit_is_413(env: Env) -> None:
    body = json.dumps({"model": "fake-gpt", "messages": _user("x" * (MAX_BODY + 10))}).encode()
    _error(_post(env, body), 413, "request_too_large", None)


def test_body_over_the_limit_without_content_length_is_413(env: Env) -> None:
    payload = json.dumps({"model": "fake-gpt", "messages": _user("x" * (MAX_BODY + 10))})

    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length
        data = payload.encode()
        for i in range(0, len(data), 8192):
            yield data[i:i + 8192]

    r = env.client.post("/v1/chat/completions", content=chunks(),
                        headers={"Authorization": f"Bearer {KEY}"})
    _error(r, 413, "request_too_large", None)


def test_missing_key_is_401_with_challenge(env: Env) -> None:
    r = _post(env, b"{}", key=None)
    _error(r, 401, "invalid_api_key", None)
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer sk-wrong", "Basic abc", "Bearer", "sk-test-clinic"])
def test_bad_key_is_401(env: Env, header: str) -> None:
    r = env.client.post("/v1/chat/completions", json={}, headers={"Authorization": header})
    _error(r, 401, "invalid_api_key", None)
    assert r.headers["www-authenticate"] == "Bearer"


def test_wrong_method_is_405(env: Env) -> None:
    _error(env.client.get("/v1/chat/completions"), 405, "method_not_allowed", None)


def test_unknown_route_is_404(env: Env) -> None:
    _error(env.client.get("/v1/nothing-here"), 404, "not_found", None)


def test_models_needs_a_key(env: Env) -> None:
    _error(env.client.get("/v1/models"), 401, "invalid_api_key", None)


# ------------------------------------------------------------------ upstream failures
def test_upstream_down_is_502(env: Env) -> None:
    r = env.chat("hi", model="dead-gpt")
    _error(r, 502, "upstream_error", None)
    assert "dead-gpt" in r.json()["error"]["message"]


def test_upstream_down_in_a_stream_is_502(env: Env) -> None:
    r = env.chat("hi", model="dead-gpt", stream=True)
    _error(r, 502, "upstream_error", None)


def test_upstream_failing_mid_stream_ends_with_an_error_event(env: Env) -> None:
    env.fake.behaviour = Behaviour(break_after_chunks=3, chunk_chars=5)
    r, events = env.stream("REPLY: " + "word " * 30)
    assert r.status_code == 200
    assert events[-1] != "[DONE]"
    error = events[-1]["error"]
    assert error["code"] == "upstream_error"
    assert set(error) == {"message", "type", "param", "code"}
    assert streamed_text(events) == "word " * 3  # what passed the checks before the drop


def test_upstream_failures_are_counted(env: Env) -> None:
    # regression: a request whose upstream failed was in neither primum_requests_total nor
    # any error counter, so an outage was invisible on the dashboard
    errors = 'primum_upstream_errors_total{model="dead-gpt",reason="upstream_error"}'
    requests = 'primum_requests_total{action="allow",model="dead-gpt",tenant="clinic"}'

    def value(name: str) -> float:
        for line in env.client.get("/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return 0.0

    before = (value(errors), value(requests))
    env.chat("hi", model="dead-gpt")
    env.chat("hi", model="dead-gpt", stream=True)
    assert (value(errors), value(requests)) == (before[0] + 2, before[1] + 2)


def test_client_leaving_mid_stream_still_records_the_answer(env: Env) -> None:
    env.fake.behaviour = Behaviour(chunk_chars=5, chunk_delay_s=0.05)
    payload = {"model": "fake-gpt", "stream": True,
               "messages": [{"role": "user", "content": "REPLY: " + "slow word " * 60}]}
    with env.client.stream("POST", "/v1/chat/completions", json=payload,
                           headers={"Authorization": f"Bearer {KEY}"}) as r:
        request_id = r.headers["x-request-id"]
        for _ in r.iter_bytes():
            break  # the client goes away after the first bytes
    wait_until(lambda: len(env.store.list_decisions(request_id=request_id)) == 2, timeout_s=15)
    stages = {row["stage"] for row in env.store.list_decisions(request_id=request_id)}
    assert stages == {"input", "output"}


def test_upstream_500_is_502(env: Env) -> None:
    env.fake.behaviour = Behaviour(status=500)
    _error(env.chat("hi"), 502, "upstream_error", None)


def test_upstream_slow_is_504(env: Env) -> None:
    env.fake.behaviour = Behaviour(delay_s=3)
    r = env.chat("hi", model="slow-gpt")
    _error(r, 504, "upstream_timeout", None)


def test_upstream_rate_limit_is_429(env: Env) -> None:
    env.fake.behaviour = Behaviour(status=429, error_message="slow down")
    _error(env.chat("hi"), 429, "rate_limit_exceeded", None)


def test_upstream_bad_request_passes_its_message_through(env: Env) -> None:
    env.fake.behaviour = Behaviour(status=400, error_message="max_tokens is too large: 99999")
    r = env.chat("hi")
    _error(r, 400, "upstream_bad_request", None)
    assert "max_tokens is too large: 99999" in r.json()["error"]["message"]
    assert "Traceback" not in r.text and "litellm." not in r.json()["error"]["message"]


def test_upstream_auth_error_names_the_model_not_the_key(env: Env) -> None:
    env.fake.behaviour = Behaviour(status=401, error_message=f"bad key {UPSTREAM_KEY}")
    r = env.chat("hi")
    _error(r, 502, "upstream_auth_error", None)
    assert "fake-gpt" in r.json()["error"]["message"]
    assert UPSTREAM_KEY not in r.text


def test_no_message_text_reaches_the_logs(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Alice Example 555-0100 end my life"
    env.chat(secret)
    env.stream(secret)
    env.chat(f"forge {secret}")
    env.fake.behaviour = Behaviour(status=400, error_message=f"cannot process: {secret}")
    env.chat(secret)
    env.fake.behaviour = Behaviour(status=500)
    env.chat(secret)
    _post(env, f'{{"model": "fake-gpt", "messages": "{secret}'.encode())
    assert logging.getLogger("proxy").getEffectiveLevel() == logging.DEBUG
    for fragment in ("Alice", "555-0100", "end my life"):
        assert fragment not in caplog.text


# ------------------------------------------------------------- models, metrics, store
def test_models_lists_the_tenants_models(env: Env) -> None:
    r = env.client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["fake-gpt", "dead-gpt", "slow-gpt"]
    r = env.client.get("/v1/models", headers={"Authorization": f"Bearer {CLINICIAN_KEY}"})
    assert [m["id"] for m in r.json()["data"]] == ["fake-gpt"]


def test_metrics_count_requests_by_tenant_model_and_action(env: Env) -> None:
    env.chat("hello metrics")
    env.chat("forge it")
    text = env.client.get("/metrics").text
    assert 'primum_requests_total{action="allow",model="fake-gpt",tenant="clinic"}' in text
    assert 'primum_requests_total{action="block",model="fake-gpt",tenant="clinic"}' in text
    assert "primum_decisions_total" in text
    assert "primum_ready 1.0" in text
    assert "hello metrics" not in text


def test_every_request_is_in_the_store(env: Env) -> None:
    before = env.store.count_decisions()
    r = env.chat("store me please")
    rid = r.json()["primum"]["request_id"]
    rows = env.store.list_decisions(request_id=rid)
    assert len(rows) == 2
    assert {row["tenant"] for row in rows} == {"clinic"}
    assert {row["model"] for row in rows} == {"fake-gpt"}
    assert {row["policy_version"] for row in rows} == {"3.1"}
    assert env.store.count_decisions() == before + 2
    blocked = env.chat("forge").json()["primum"]["request_id"]
    assert [row["action"] for row in env.store.list_decisions(request_id=blocked)] == ["block"]
