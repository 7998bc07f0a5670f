"""Read and validate one ``POST /v1/chat/completions`` body.

Each failure is an OpenAI error naming the field (``param``) and what to do about it.
Parameters the proxy does not interpret pass through to the upstream unchanged, except
litellm's own control keywords: litellm lets a call's keywords override the deployment's
settings, so a client sending ``api_base`` would otherwise redirect the configured
provider key to a server of its choosing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from guard.messages import MessageError, normalize_messages
from proxy.errors import ApiError, bad_request

__all__ = ["ChatRequest", "parse_chat_request", "read_body"]

_FORBIDDEN = frozenset({
    "api_key", "api_base", "base_url", "api_version", "custom_llm_provider", "organization",
    "timeout", "stream_timeout", "num_retries", "max_retries", "fallbacks",
    "context_window_fallbacks", "content_policy_fallbacks", "model_list", "headers",
    "extra_headers", "client", "logger_fn", "caching", "cache", "deployment_id",
    "input_cost_per_token", "output_cost_per_token", "specific_deployment", "proxy_server_request",
    "metadata_variable_name", "no-log", "no_log",
})
_FORBIDDEN_PREFIXES = ("litellm_", "mock_", "aws_", "azure_", "vertex_", "api_", "watsonx_")
_ALWAYS_TEXT = frozenset({"user", "system", "developer"})


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    include_usage: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    """Everything else in the body, passed to the upstream as is."""


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The body, refusing more than ``max_bytes`` before reading it (Content-Length) and
    while reading it (a client may lie or stream chunked)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise bad_request(None, "invalid Content-Length header") from None
        if size > max_bytes:
            raise _too_large(size, max_bytes)
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(total, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        413, f"request body is {size}+ bytes; this deployment accepts at most {limit}",
        code="request_too_large",
    )


def parse_chat_request(
    body: bytes, allowed_models: Sequence[str], max_message_chars: int
) -> ChatRequest:
    if not body.strip():
        raise bad_request(None, "request body is empty: send a JSON chat completion request",
                          code="invalid_json")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(
            exc, json.JSONDecodeError) else ""
        raise bad_request(None, f"request body is not valid JSON{where}",
                          code="invalid_json") from None
    if not isinstance(data, dict):
        raise bad_request(None, "request body must be a JSON object", code="invalid_json")

    model = data.pop("model", None)
    if model is None:
        raise bad_request("model", "'model' is required", code="missing_required_parameter")
    if not isinstance(model, str):
        raise bad_request("model", "'model' must be a string")
    if model not in allowed_models:
        known = ", ".join(allowed_models) or "none"
        raise ApiError(
            404, f"model {model!r} does not exist or is not available to this key "
            f"(available: {known})", code="model_not_found", param="model",
        )

    if "messages" not in data:
        raise bad_request("messages", "'messages' is required",
                          code="missing_required_parameter")
    try:
        messages = normalize_messages(data.pop("messages"), max_message_chars)
    except MessageError as exc:
        if exc.code == "message_too_large":
            raise ApiError(413, exc.message, code=exc.code, param=exc.param) from None
        raise bad_request(exc.param, exc.message) from None
    _check_not_empty(messages)

    stream = data.pop("stream", None)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise bad_request("stream", "'stream' must be a boolean")
    include_usage = _include_usage(data.get("stream_options"), stream)
    n = data.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n != 1):
        raise bad_request("n", "'n' must be 1: each answer is safety-checked on its own, so "
                          "send one request per answer")
    for name in data:
        if name in _FORBIDDEN or name.startswith(_FORBIDDEN_PREFIXES):
            raise bad_request(
                name, f"parameter {name!r} is not allowed: the proxy's configuration chooses "
                "the upstream, its credentials and its retries",
            )
    return ChatRequest(model, messages, stream, include_usage, data)


def _include_usage(options: Any, stream: bool) -> bool:
    if options is None:
        return False
    if not isinstance(options, Mapping):
        raise bad_request("stream_options", "'stream_options' must be an object")
    if not stream:
        raise bad_request("stream_options", "'stream_options' is only allowed with stream: true")
    value = options.get("include_usage", False)
    if not isinstance(value, bool):
        raise bad_request("stream_options.include_usage", "'include_usage' must be a boolean")
    return value


def _check_not_empty(messages: list[dict[str, Any]]) -> None:
    """Empty user/system turns are a client bug (400)."""
    for i, message in enumerate(messages):
        content = message.get("content")
        if isinstance(content, str):
            texts = [content]
        elif isinstance(content, list):
            texts = [str(part.get("text", "")) for part in content]
        else:
            continue
        param = f"messages[{i}].content"
        if message.get("role") in _ALWAYS_TEXT and not any(t.strip() for t in texts):
            raise bad_request(param, f"{param} is empty", code="empty_content")
