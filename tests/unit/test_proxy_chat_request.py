"""Request validation, table-tested without a server (the e2e suite covers the HTTP side)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from proxy.chat_request import parse_chat_request
from proxy.errors import ApiError

MODELS = ["gpt", "local"]


def _parse(body: dict[str, Any] | bytes, max_chars: int = 100) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_chat_request(raw, MODELS, max_chars)


def _user(text: str = "hi") -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def test_minimal_request() -> None:
    chat = _parse({"model": "gpt", "messages": _user()})
    assert (chat.model, chat.stream, chat.include_usage, chat.params) == ("gpt", False, False, {})
    assert chat.messages == _user()


def test_other_params_pass_through_untouched() -> None:
    body = {"model": "gpt", "messages": _user(), "stream": True, "temperature": 0,
            "tools": [{"type": "function", "function": {"name": "f"}}], "n": 1,
            "stream_options": {"include_usage": True}, "vendor_extension": {"x": [1]}}
    chat = _parse(body)
    assert chat.stream is True and chat.include_usage is True
    assert chat.params == {"temperature": 0, "tools": body["tools"], "n": 1,
                           "stream_options": {"include_usage": True},
                           "vendor_extension": {"x": [1]}}


def test_stream_null_means_false() -> None:
    assert _parse({"model": "gpt", "messages": _user(), "stream": None}).stream is False


def test_assistant_tool_call_turn_without_content_is_fine() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function"}]},
        {"role": "tool", "content": "", "tool_call_id": "1"},
    ]
    assert _parse({"model": "gpt", "messages": messages}).messages == messages


def test_messages_are_a_copy() -> None:
    messages = _user()
    chat = parse_chat_request(json.dumps({"model": "gpt", "messages": messages}).encode(),
                              MODELS, 100)
    chat.messages[0]["content"] = "changed"
    assert messages[0]["content"] == "hi"


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        (b"\xff\xfe", 400, "invalid_json", None),
        (b"null", 400, "invalid_json", None),
        ({"model": None, "messages": _user()}, 400, "missing_required_parameter", "model"),
        ({"model": ["gpt"], "messages": _user()}, 400, "invalid_request", "model"),
        ({"model": "GPT", "messages": _user()}, 404, "model_not_found", "model"),
        ({"model": "gpt", "messages": [{"role": "system", "content": ""}]}, 400,
         "empty_content", "messages[0].content"),
        ({"model": "gpt", "messages": [{"role": "user", "content": [
            {"type": "text", "text": " "}]}]}, 400, "empty_content", "messages[0].content"),
        ({"model": "gpt", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "x" * 60}, {"type": "text", "text": "y" * 60}]}]}, 413,
         "message_too_large", "messages[0].content"),
        ({"model": "gpt", "messages": _user(), "stream_options": [1], "stream": True}, 400,
         "invalid_request", "stream_options"),
        ({"model": "gpt", "messages": _user(), "stream": True,
          "stream_options": {"include_usage": "yes"}}, 400, "invalid_request",
         "stream_options.include_usage"),
        ({"model": "gpt", "messages": _user(), "n": True}, 400, "invalid_request", "n"),
        ({"model": "gpt", "messages": _user(), "base_url": "http://x"}, 400, "invalid_request",
         "base_url"),
        ({"model": "gpt", "messages": _user(), "api_key": "sk"}, 400, "invalid_request",
         "api_key"),
        ({"model": "gpt", "messages": _user(), "litellm_logging_obj": 1}, 400,
         "invalid_request", "litellm_logging_obj"),
        ({"model": "gpt", "messages": _user(), "aws_bedrock_runtime_endpoint": "x"}, 400,
         "invalid_request", "aws_bedrock_runtime_endpoint"),
        ({"model": "gpt", "messages": _user(), "timeout": 999}, 400, "invalid_request",
         "timeout"),
    ],
)
def test_rejections(body: Any, status: int, code: str, param: str | None) -> None:
    with pytest.raises(ApiError) as info:
        _parse(body)
    err = info.value
    assert (err.status, err.code, err.param) == (status, code, param)
    assert err.message


def test_json_error_says_where() -> None:
    with pytest.raises(ApiError, match=r"line 1, column 2"):
        _parse(b"{'model': 1}")


def test_unknown_model_lists_the_available_ones() -> None:
    with pytest.raises(ApiError, match="available: gpt, local"):
        _parse({"model": "claude", "messages": _user()})
