"""OpenAI response shapes, plus the ``primum`` object that says what the guard did.

Kept apart from the route so the exact wire format (what clients' SDKs parse) is in one
place and table-testable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from guard.result import GuardResult

__all__ = ["StreamHead", "chunk", "completion", "sse", "sse_done"]


def completion_id(request_id: str) -> str:
    return f"chatcmpl-{request_id}"


def completion(
    *,
    request_id: str,
    model: str,
    content: str | None,
    finish_reason: str | None,
    summary: GuardResult,
    usage: dict[str, Any] | None = None,
    message_extra: dict[str, Any] | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    message.update(message_extra or {})
    return {
        "id": completion_id(request_id),
        "object": "chat.completion",
        "created": created or int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "primum": summary.as_dict(),
    }


@dataclass(frozen=True)
class StreamHead:
    """What every chunk of one stream repeats."""

    request_id: str
    model: str
    created: int


def chunk(
    head: StreamHead,
    *,
    delta: dict[str, Any] | None = None,
    finish_reason: str | None = None,
    summary: GuardResult | None = None,
    usage: dict[str, Any] | None = None,
    choices: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": completion_id(head.request_id),
        "object": "chat.completion.chunk",
        "created": head.created,
        "model": head.model,
        "choices": list(choices) if choices is not None else [
            {"index": 0, "delta": delta or {}, "finish_reason": finish_reason}
        ],
    }
    if usage is not None:
        out["usage"] = usage
    if summary is not None:
        out["primum"] = summary.as_dict()
    return out


def sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


def sse_done() -> bytes:
    return b"data: [DONE]\n\n"
