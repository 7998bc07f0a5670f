"""``POST /v1/chat/completions``: authenticate, validate, guard, call upstream, guard again.

The guard's decisions all come from ``guard.pipeline.Pipeline``; this module only
translates between HTTP/OpenAI shapes and the pipeline, for plain answers and for
streams. For a stream the first upstream chunk is awaited before the response starts,
so an upstream that is down still gets the client a proper 502/504 status.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.responses import Response

from guard.pipeline import GuardedStream, InputOutcome, Pipeline
from guard.result import GuardResult
from guard.types import Action, Context, Stage
from proxy.auth import KeyRing
from proxy.chat_request import ChatRequest, parse_chat_request, read_body
from proxy.config import ProxyConfig
from proxy.errors import ApiError, error_body
from proxy.shapes import StreamHead, chunk, completion, sse, sse_done
from proxy.upstream import Upstream

__all__ = ["ChatService"]

log = logging.getLogger(__name__)

_PASSED_MESSAGE_FIELDS = ("tool_calls", "function_call", "refusal", "annotations")
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


@dataclass
class ChatService:
    config: ProxyConfig
    keyring: KeyRing
    pipelines: Mapping[str, Pipeline]
    """Policy id -> its pipeline (shared by the tenants using that policy)."""
    upstream: Upstream

    def allowed_models(self, tenant_models: list[str]) -> list[str]:
        served = set(self.upstream.models())
        return [m for m in tenant_models if m in served]

    async def handle(self, request: Request, request_id: str) -> Response:
        tenant = self.keyring.authenticate(request.headers.get("authorization"))
        server = self.config.server
        body = await read_body(request, server.max_body_bytes)
        chat = parse_chat_request(
            body, self.allowed_models(self.config.tenant_models(tenant)),
            server.max_message_chars,
        )
        pipeline = self.pipelines[tenant.policy]
        # The OpenAI ``user`` field names the end user: it lets duplicate escalations about
        # one person merge into one review case (the store keeps only a hash of it).
        user = chat.params.get("user")
        ctx = Context(
            stage=Stage.INPUT, tenant=tenant.name, audience=tenant.audience,
            country=tenant.country, model=chat.model,
            metadata={"user": user} if isinstance(user, str) and user else {},
        )
        inp = await pipeline.guard_input(chat.messages, ctx, request_id=request_id)
        if inp.answered:
            return self._answer_now(chat, inp)
        if chat.stream:
            return await self._stream(pipeline, chat, ctx, inp)
        return await self._complete(pipeline, chat, ctx, inp)

    # ----------------------------------------------------------- guard answers
    def _answer_now(self, chat: ChatRequest, inp: InputOutcome) -> Response:
        """Block or clarify: the guard answers itself and the upstream is never called."""
        finish = "content_filter" if inp.verdict.action is Action.BLOCK else "stop"
        summary = GuardResult(inp.request_id, inp.verdict, None, inp.case_ids)
        headers = _headers(summary.action, inp.request_id)
        if not chat.stream:
            body = completion(request_id=inp.request_id, model=chat.model, content=inp.answer,
                              finish_reason=finish, summary=summary)
            return JSONResponse(body, headers=headers)

        async def events() -> AsyncIterator[bytes]:
            base = StreamHead(inp.request_id, chat.model, int(time.time()))
            yield sse(chunk(base, delta={"role": "assistant", "content": ""}))
            yield sse(chunk(base, delta={"content": inp.answer}))
            yield sse(chunk(base, finish_reason=finish, summary=summary))
            if chat.include_usage:
                yield sse(chunk(base, choices=[], usage=_zero_usage()))
            yield sse_done()

        return _sse_response(events(), headers)

    # ------------------------------------------------------------- plain answer
    async def _complete(
        self, pipeline: Pipeline, chat: ChatRequest, ctx: Context, inp: InputOutcome
    ) -> Response:
        started = time.perf_counter()
        try:
            answer = await self.upstream.complete(chat.model, inp.messages, chat.params)
        except ApiError as exc:
            pipeline.upstream_failed(ctx, inp, exc.code or exc.type)
            raise
        upstream_ms = (time.perf_counter() - started) * 1000
        choices = answer.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], Mapping) else {}
        message = choice.get("message") or {}
        text = message.get("content")
        out = await pipeline.guard_output(
            text if isinstance(text, str) else "", ctx, inp, upstream_ms=upstream_ms
        )
        summary = GuardResult(inp.request_id, inp.verdict, out.verdict,
                               _distinct(inp.case_ids + out.case_ids))
        extra = {} if out.finish_reason == "content_filter" else {
            k: message[k] for k in _PASSED_MESSAGE_FIELDS if message.get(k)
        }
        # A tool-call answer has no text: keep its content null, as the upstream sent it.
        content = out.text if out.text or isinstance(text, str) else None
        body = completion(
            request_id=inp.request_id, model=chat.model, content=content,
            finish_reason=out.finish_reason or choice.get("finish_reason") or "stop",
            summary=summary, usage=answer.get("usage"), message_extra=extra,
            created=answer.get("created") if isinstance(answer.get("created"), int) else None,
        )
        return JSONResponse(body, headers=_headers(summary.action, inp.request_id))

    # ------------------------------------------------------------------ stream
    async def _stream(
        self, pipeline: Pipeline, chat: ChatRequest, ctx: Context, inp: InputOutcome
    ) -> Response:
        started = time.perf_counter()
        chunks = self.upstream.stream(chat.model, inp.messages, chat.params)
        try:
            first: dict[str, Any] | None = await anext(chunks)
        except StopAsyncIteration:
            first = None
        except ApiError as exc:
            await _aclose(chunks)
            pipeline.upstream_failed(ctx, inp, exc.code or exc.type)
            raise
        except BaseException:
            await _aclose(chunks)
            raise
        guarded = pipeline.stream(ctx, inp)
        events = _StreamEvents(chat, inp, guarded, chunks, first, started,
                               on_error=lambda reason: pipeline.count_upstream_error(
                                   ctx.model or "", reason
                               ) if pipeline.count_upstream_error else None)
        # The header goes out before the answer is checked: it carries the input action;
        # the last chunk's ``primum`` object carries the final one.
        return _sse_response(events.run(), _headers(inp.verdict.action, inp.request_id))


class _StreamEvents:
    """The SSE events of one guarded stream, in order."""

    def __init__(
        self,
        chat: ChatRequest,
        inp: InputOutcome,
        guarded: GuardedStream,
        chunks: AsyncIterator[dict[str, Any]],
        first: dict[str, Any] | None,
        started: float,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.chat = chat
        self.inp = inp
        self.guarded = guarded
        self.chunks = chunks
        self.first = first
        self.started = started
        self.head = StreamHead(inp.request_id, chat.model, int(time.time()))
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.error: ApiError | None = None
        self.on_error = on_error
        self.closed = False

    def _event(self, **kwargs: Any) -> bytes:
        return sse(chunk(self.head, **kwargs))

    async def run(self) -> AsyncIterator[bytes]:
        """The events; if the client goes away mid-stream the decision is still recorded."""
        try:
            async for event in self._run():
                yield event
        finally:
            if not self.closed:
                self.closed = True
                upstream_ms = (time.perf_counter() - self.started) * 1000
                try:
                    await asyncio.shield(self.guarded.close(upstream_ms=upstream_ms))
                except (Exception, asyncio.CancelledError) as exc:
                    log.warning("recording an abandoned stream failed: %s", type(exc).__name__)

    async def _run(self) -> AsyncIterator[bytes]:
        yield self._event(delta={"role": "assistant", "content": ""})
        prefix = self.guarded.prefix()
        if prefix:
            yield self._event(delta={"content": prefix})
        try:
            if not self.guarded.replaces_answer:
                async for event in self._relay():
                    yield event
        except ApiError as exc:  # the upstream failed mid-stream
            self.error = exc
            if self.on_error is not None:
                self.on_error(exc.code or exc.type)
        finally:
            await _aclose(self.chunks)
        upstream_ms = (time.perf_counter() - self.started) * 1000
        self.closed = True
        tail, outcome = await self.guarded.close(upstream_ms=upstream_ms)
        if tail:
            yield self._event(delta={"content": tail})
        if self.error is not None:
            err = self.error
            yield sse(error_body(err.message, err.type, err.param, err.code))
            return
        summary = GuardResult(self.inp.request_id, self.inp.verdict, outcome.verdict,
                               _distinct(self.inp.case_ids + outcome.case_ids))
        finish = outcome.finish_reason or self.finish_reason or "stop"
        yield self._event(finish_reason=finish, summary=summary)
        if self.chat.include_usage and self.usage is not None:
            yield self._event(choices=[], usage=self.usage)
        yield sse_done()

    async def _upstream(self) -> AsyncIterator[dict[str, Any]]:
        if self.first is not None:
            yield self.first
        async for item in self.chunks:
            yield item

    async def _relay(self) -> AsyncIterator[bytes]:
        async for item in self._upstream():
            usage = item.get("usage")
            if isinstance(usage, dict) and usage:
                self.usage = usage
            for choice in item.get("choices") or []:
                delta = choice.get("delta") or {}
                text = delta.get("content")
                if isinstance(text, str) and text:
                    released = await self.guarded.feed(text)
                    if released:
                        yield self._event(delta={"content": released})
                    if self.guarded.blocked:
                        return
                calls = {k: delta[k] for k in ("tool_calls", "function_call") if delta.get(k)}
                if calls:
                    yield self._event(delta=calls)
                if choice.get("finish_reason"):
                    self.finish_reason = str(choice["finish_reason"])


async def _aclose(chunks: AsyncIterator[dict[str, Any]]) -> None:
    close = getattr(chunks, "aclose", None)
    if close is not None:
        await close()


def _headers(action: Action, request_id: str) -> dict[str, str]:
    return {"x-primum-action": action.value, "x-request-id": request_id}


def _sse_response(events: AsyncIterator[bytes], headers: dict[str, str]) -> StreamingResponse:
    return StreamingResponse(
        events, media_type="text/event-stream", headers={**_SSE_HEADERS, **headers}
    )


def _zero_usage() -> dict[str, int]:
    return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


def _distinct(case_ids: tuple[str, ...]) -> tuple[str, ...]:
    """An answer's failure merges into the case its question opened: name that case once."""
    return tuple(dict.fromkeys(case_ids))
