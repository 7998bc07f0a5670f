"""``create_app`` in-process, around a scripted in-memory upstream: readiness, the
catch-all error, logging that never carries message text, and the response shapes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guard.checks import CheckRegistry
from guard.engine import Engine
from guard.policy.loader import parse_policy
from guard.recording import NullRecorder
from guard.types import Context, Finding, Segment, Stage
from proxy.app import create_app
from proxy.auth import hash_key
from proxy.config import parse_config
from proxy.upstream import UpstreamError
from tests.fakes.checks import KeywordCheck

SECRET = "Jane Q. Patient 415-555-0199"
KEY = "sk-unit"

POLICY = """
id: unit
version: "1"
checks:
  - kind: keyword
    name: harm
    stages: [input, output]
    params: {keywords: {forge: falsify_records}}
rules:
  - id: harm-block
    when: {check: harm}
    action: block
    template: refuse
templates:
  refuse: "No."
  check_unavailable: "Unavailable."
"""

CONFIG = f"""
tenants:
  - name: t
    key_sha256: ["{hash_key(KEY)}"]
    policy: default
model_list:
  - model_name: m
    litellm_params: {{model: openai/m}}
"""


class ScriptedUpstream:
    """In-memory ``Upstream``: answers ``reply`` or raises ``error``."""

    def __init__(self) -> None:
        self.reply = "fine"
        self.error: BaseException | None = None
        self.calls: list[list[dict[str, Any]]] = []

    def models(self) -> list[str]:
        return ["m"]

    async def complete(
        self, model: str, messages: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.calls.append(messages)
        if self.error is not None:
            raise self.error
        return {"choices": [{"message": {"role": "assistant", "content": self.reply},
                             "finish_reason": "length"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

    async def stream(
        self, model: str, messages: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        self.calls.append(messages)
        if self.error is not None:
            raise self.error
        yield {"choices": [{"index": 0, "delta": {"content": self.reply}}]}


class FailingLoad:
    def __init__(self, name: str, stages: frozenset[Stage], params: Mapping[str, Any]) -> None:
        self.name = name
        self.stages = stages

    def load(self) -> None:
        raise OSError("model file missing")

    async def detect(self, segments: list[Segment], ctx: Context) -> list[Finding]:
        return []


def _engine(policy: str = POLICY) -> Engine:
    registry = CheckRegistry()
    registry.register("keyword", KeywordCheck)
    registry.register("failing", FailingLoad)
    return Engine.build(parse_policy(policy), registry)


def _client(upstream: ScriptedUpstream, engine: Engine | None = None,
            background: bool = False) -> TestClient:
    app = create_app(
        parse_config(CONFIG), engines={"default": engine or _engine()}, upstream=upstream,
        recorder=NullRecorder(), load_in_background=background,
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def upstream() -> ScriptedUpstream:
    return ScriptedUpstream()


@pytest.fixture
def client(upstream: ScriptedUpstream) -> Iterator[TestClient]:
    with _client(upstream) as c:
        yield c


def _chat(client: TestClient, content: str = "hi", **body: Any) -> Any:
    return client.post("/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"},
                       json={"model": "m", "messages": [{"role": "user", "content": content}],
                             **body})


def test_answer_keeps_upstream_finish_reason_and_usage(client: TestClient) -> None:
    r = _chat(client)
    body = r.json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["total_tokens"] == 2
    assert body["id"] == f"chatcmpl-{body['primum']['request_id']}"


def test_create_app_refuses_a_tenant_without_engine(upstream: ScriptedUpstream) -> None:
    with pytest.raises(ValueError, match="no engine for policies: default"):
        create_app(parse_config(CONFIG), engines={}, upstream=upstream, recorder=NullRecorder())


def test_unexpected_error_is_500_with_request_id_and_no_text_in_logs(
    client: TestClient, upstream: ScriptedUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.error = RuntimeError(f"bug while handling {SECRET}")
    caplog.set_level(logging.DEBUG)
    r = _chat(client, SECRET)
    assert r.status_code == 500
    err = r.json()["error"]
    rid = r.headers["x-request-id"]
    assert err["code"] == "internal_error" and err["type"] == "server_error"
    assert rid in err["message"]
    assert SECRET not in r.text and "Traceback" not in r.text
    assert f"unhandled RuntimeError in request {rid}" in caplog.text
    assert "Jane" not in caplog.text and "555-0199" not in caplog.text


def test_upstream_error_in_a_stream_before_the_first_chunk_keeps_its_status(
    client: TestClient, upstream: ScriptedUpstream
) -> None:
    upstream.error = UpstreamError(504, "too slow", code="upstream_timeout")
    r = _chat(client, stream=True)
    assert r.status_code == 504
    assert r.json()["error"]["code"] == "upstream_timeout"


def test_upstream_answer_blocked_on_output(client: TestClient, upstream: ScriptedUpstream) -> None:
    upstream.reply = "you could forge it"
    r = _chat(client)
    assert r.json()["choices"][0] == {
        "index": 0, "message": {"role": "assistant", "content": "No."},
        "finish_reason": "content_filter"}


def test_readiness_waits_for_loading_then_reports_ready(upstream: ScriptedUpstream) -> None:
    with _client(upstream, background=False) as c:
        assert c.get("/readyz").json() == {"status": "ready",
                                           "reason": "policies and models loaded"}
        assert c.get("/healthz").status_code == 200


def test_failed_start_up_keeps_readyz_503_with_the_reason(
    upstream: ScriptedUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    engine = _engine(POLICY.replace("checks:\n", "checks:\n  - kind: failing\n"
                                    "    stages: [input]\n"))
    with _client(upstream, engine, background=True) as c:
        for _ in range(200):
            if c.get("/readyz").json()["status"] != "loading":
                break
        r = c.get("/readyz")
        assert r.status_code == 503
        assert r.json() == {
            "status": "failed",
            "reason": "start-up failed in policy 'default': OSError: model file missing",
        }
        chat = _chat(c)
        assert chat.status_code == 503
        assert chat.json()["error"]["code"] == "not_ready"
        assert chat.headers["retry-after"] == "1"
    assert "start-up failed in policy 'default'" in caplog.text


def test_metrics_route_is_404_without_a_registry(client: TestClient) -> None:
    r = client.get("/metrics")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_no_docs_routes(client: TestClient) -> None:
    for path in ("/docs", "/openapi.json", "/redoc"):
        assert client.get(path).status_code == 404
