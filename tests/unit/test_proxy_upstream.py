"""The upstream seam: the offline demo model through litellm's real Router, the proxy's
own time limit, and the exception -> HTTP status table."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.demo_model import DEMO_MODEL, demo_answer
from proxy.upstream import LiteLLMUpstream, UpstreamError, map_upstream_error
from tests.fakes.servers import ServerThread
from tests.fakes.upstream import Behaviour, FakeUpstream

pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")

DEMO = [{"model_name": "primum-demo", "litellm_params": {"model": DEMO_MODEL}}]


def _messages(text: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}]


def test_demo_answer_echoes_the_last_user_turn_as_it_arrived() -> None:
    answer = demo_answer([{"role": "user", "content": "first"},
                          {"role": "assistant", "content": "ok"},
                          {"role": "user", "content": "I am [PERSON_1],\n  hello"}])
    assert answer == (
        "(primum-demo, an offline demo model) You asked: «I am [PERSON_1], hello». A real "
        "deployment points this proxy at OpenAI, Azure, Anthropic, Ollama or vLLM."
    )


def test_demo_answer_truncates_long_questions() -> None:
    answer = demo_answer([{"role": "user", "content": [{"type": "text", "text": "a " * 400}]}])
    asked = answer.split("«")[1].split("»")[0]
    assert len(asked) <= 301 and asked.endswith("…")


async def test_demo_model_through_the_router() -> None:
    upstream = LiteLLMUpstream(DEMO)
    assert upstream.models() == ["primum-demo"]
    answer = await upstream.complete("primum-demo", _messages("dose of [DRUG_1]?"), {})
    message = answer["choices"][0]["message"]
    assert message["content"] == demo_answer(_messages("dose of [DRUG_1]?"))
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert answer["usage"]["total_tokens"] > 0


async def test_demo_model_streams_through_the_router() -> None:
    upstream = LiteLLMUpstream(DEMO)
    chunks = [c async for c in upstream.stream(
        "primum-demo", _messages("hi"), {"stream_options": {"include_usage": True}})]
    text = "".join(c["choices"][0]["delta"].get("content") or ""
                   for c in chunks if c.get("choices"))
    assert text == demo_answer(_messages("hi"))
    assert len(chunks) > 5
    assert any(c.get("usage") for c in chunks)


async def test_the_proxys_own_time_limit_gives_504() -> None:
    fake = FakeUpstream()
    fake.behaviour = Behaviour(delay_s=0.6)
    with ServerThread(fake.app) as server:
        upstream = LiteLLMUpstream(
            [{"model_name": "m", "litellm_params": {
                "model": "openai/m", "api_base": f"{server.url}/v1", "api_key": "k"}}],
            {"num_retries": 0}, timeout_s=0.2, config_source="p.yaml",
        )
        with pytest.raises(UpstreamError) as info:
            await upstream.complete("m", _messages("hi"), {})
        assert info.value.status == 504
        assert info.value.message == "the upstream for model 'm' in p.yaml did not answer " \
            "within 0.2 s"
        with pytest.raises(UpstreamError) as info:
            async for _ in upstream.stream("m", _messages("hi"), {}):
                pass
        assert info.value.status == 504


class _StatusError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status
        self.message = message


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (TimeoutError(), 504, "upstream_timeout"),
        (_StatusError(408, "timeout"), 504, "upstream_timeout"),
        (_StatusError(429, "slow down"), 429, "rate_limit_exceeded"),
        (_StatusError(401, "bad key sk-123"), 502, "upstream_auth_error"),
        (_StatusError(403, "forbidden"), 502, "upstream_auth_error"),
        (_StatusError(404, "no such model"), 502, "upstream_error"),
        (_StatusError(400, "litellm.BadRequestError: OpenAIException - max_tokens too big\n\n"
                      "LiteLLM: model group 'm' failed"), 400, "upstream_bad_request"),
        (_StatusError(422, "bad field"), 400, "upstream_bad_request"),
        (_StatusError(500, "boom"), 502, "upstream_error"),
        (_StatusError(503, "overloaded"), 502, "upstream_error"),
        (ConnectionError("refused"), 502, "upstream_error"),
    ],
)
def test_error_table(exc: BaseException, status: int, code: str) -> None:
    err = map_upstream_error(exc, "m", "conf.yaml", 5)
    assert (err.status, err.code) == (status, code)
    assert "sk-123" not in err.message


def test_bad_request_keeps_only_the_providers_words() -> None:
    err = map_upstream_error(
        _StatusError(400, "litellm.BadRequestError: OpenAIException - max_tokens too big\n\n"
                     "LiteLLM: model group 'm' failed"), "m")
    assert err.message == "max_tokens too big"


def test_auth_error_points_at_the_models_config() -> None:
    err = map_upstream_error(_StatusError(401, "Incorrect API key sk-123"), "gpt", "/etc/p.yaml")
    assert "model 'gpt' in /etc/p.yaml" in err.message
    assert "litellm_params" in err.message
