"""A small OpenAI-compatible server standing in for the upstream provider.

It is a real HTTP server (run it with ``tests.conftest.ServerThread``), so the proxy's
requests go through litellm and httpx exactly as they would to OpenAI. Tests script it
through ``FakeUpstream.behaviour`` (fixed reply, HTTP error status, delay) or per request
with a ``REPLY:`` prefix in the last user message, and read ``FakeUpstream.requests`` to
assert what reached the model (e.g. that PHI never did).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

REPLY_PREFIX = "REPLY:"


@dataclass
class Behaviour:
    reply: str | None = None
    """Fixed answer; None: ``REPLY:`` text of the last user message, else an echo of it."""
    status: int = 200
    error_message: str = "the fake upstream failed"
    delay_s: float = 0.0
    chunk_chars: int = 7
    chunk_delay_s: float = 0.0
    """Streams only: pause between content chunks (a slow model)."""
    break_after_chunks: int | None = None
    """Streams only: drop the connection after this many content chunks."""
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    )


class FakeUpstream:
    def __init__(self) -> None:
        self.behaviour = Behaviour()
        self.requests: list[dict[str, Any]] = []
        self.auth_headers: list[str] = []
        self.app = self._build()

    def reset(self) -> None:
        self.behaviour = Behaviour()
        self.requests.clear()
        self.auth_headers.clear()

    def seen_text(self) -> str:
        """Everything the upstream received, as one string (to assert PHI never got here)."""
        return json.dumps([r["messages"] for r in self.requests], ensure_ascii=False)

    def answer_for(self, body: dict[str, Any]) -> str:
        if self.behaviour.reply is not None:
            return self.behaviour.reply
        last = next(
            (m for m in reversed(body.get("messages", [])) if m.get("role") == "user"), {}
        )
        content = last.get("content", "")
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content)
        if content.startswith(REPLY_PREFIX):
            return content[len(REPLY_PREFIX):].strip()
        return f"You said: {content}"

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": "fake", "object": "model"}]}

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Response:
            body = await request.json()
            self.requests.append(body)
            self.auth_headers.append(request.headers.get("authorization", ""))
            b = self.behaviour
            if b.delay_s:
                await asyncio.sleep(b.delay_s)
            if b.status != 200:
                kind = "invalid_request_error" if b.status < 500 else "server_error"
                return JSONResponse(
                    {"error": {"message": b.error_message, "type": kind, "param": None,
                               "code": None}},
                    status_code=b.status,
                )
            text = self.answer_for(body)
            created = int(time.time())
            if body.get("stream"):
                usage = bool((body.get("stream_options") or {}).get("include_usage"))
                return StreamingResponse(
                    self._sse(text, body["model"], created, usage), media_type="text/event-stream"
                )
            return JSONResponse({
                "id": "chatcmpl-fake", "object": "chat.completion", "created": created,
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": b.usage,
            })

        return app

    async def _sse(self, text: str, model: str, created: int, usage: bool) -> AsyncIterator[bytes]:
        def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            data = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(data)}\n\n".encode()

        yield event({"role": "assistant", "content": ""})
        size = self.behaviour.chunk_chars
        for n, i in enumerate(range(0, len(text), size)):
            if n == self.behaviour.break_after_chunks:
                raise ConnectionAbortedError("fake upstream dropped the stream")
            yield event({"content": text[i:i + size]})
            await asyncio.sleep(self.behaviour.chunk_delay_s)
        yield event({}, "stop")
        if usage:
            data = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created,
                    "model": model, "choices": [], "usage": self.behaviour.usage}
            yield f"data: {json.dumps(data)}\n\n".encode()
        yield b"data: [DONE]\n\n"
