"""Guard your own LLM calls in-process: the same engine and policies as the proxy, no server.

``AsyncGuard`` wraps ``litellm.acompletion`` (or any async function with its signature);
``Guard`` is its synchronous twin for scripts and threads without an event loop. Both send
every decision through ``guard.pipeline.Pipeline``, the one code path the proxy uses too:
input checks before the upstream call, output checks after it, window by window for
streams.

    guard = AsyncGuard.from_policy("default")
    response = await guard.acompletion(model="openai/gpt-4o-mini", messages=[...])
    response.choices[0].message.content      # the guarded text
    primum_result(response).action           # typed decision (also ``response.primum``)

litellm is imported on first use, not at ``import guard.sdk``: the CLI and the
guardrails-ai validators use this module without paying litellm's import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from guard.build import build_engine
from guard.checks import CheckRegistry, default_registry
from guard.engine import Engine
from guard.messages import MessageError, normalize_messages
from guard.pipeline import GuardedStream, InputOutcome, OutputOutcome, Pipeline
from guard.policy.schema import Policy
from guard.recording import NullRecorder, Recorder
from guard.redaction import Vault
from guard.result import GuardResult
from guard.types import Action, Audience, Context, Stage, Verdict

if TYPE_CHECKING:
    from litellm.types.utils import ModelResponse, ModelResponseStream

__all__ = [
    "AsyncCompletionStream",
    "AsyncGuard",
    "CompletionFn",
    "CompletionStream",
    "Guard",
    "GuardBlocked",
    "GuardResult",
    "MessageError",
    "primum_result",
]

CompletionFn = Callable[..., Awaitable[Any]]
"""An async function with ``litellm.acompletion``'s signature. It returns a ``ModelResponse``,
or with ``stream=True`` an async iterator of ``ModelResponseStream`` chunks."""

_T = TypeVar("_T")
_RESULT_ATTR = "_primum_result"


# --------------------------------------------------------------------------- results
class GuardBlocked(Exception):
    """Raised instead of returning a safe response when ``raise_on_block=True``.

    ``message`` is the policy's safe text, so a caller that catches this can still show
    the user something kind and specific.
    """

    def __init__(self, result: GuardResult) -> None:
        verdict = result.output if result.output is not None and result.output.blocked \
            else result.input
        self.result = result
        self.verdict = verdict
        self.message = verdict.message or ""
        rules = ", ".join(verdict.rules) or "none"
        super().__init__(
            f"blocked by policy {verdict.policy_id} {verdict.policy_version} at the "
            f"{verdict.stage.value} stage (rules: {rules})"
        )


def primum_result(response: object) -> GuardResult:
    """The typed decision attached to a guarded response, final stream chunk or stream.

    Raises ``LookupError`` for an object that did not come out of a guard (or a stream
    not yet consumed to its end).
    """
    result = getattr(response, _RESULT_ATTR, None)
    if isinstance(result, GuardResult):
        return result
    if isinstance(response, AsyncCompletionStream | CompletionStream) and response.result:
        return response.result
    raise LookupError("no Primum decision attached: not a guarded response, or stream unfinished")


def _attach(target: Any, result: GuardResult) -> None:
    target.primum = result.as_dict()
    setattr(target, _RESULT_ATTR, result)


# ------------------------------------------------------------------------ async guard
class AsyncGuard:
    """Guard litellm calls from async code. One instance per application; share it.

    Construction is cheap; the policy's heavy resources (PHI models) load on first use in
    a worker thread, or up front with ``await guard.load()``.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        audience: Audience = "patient",
        country: str = "US",
        tenant: str = "sdk",
        raise_on_block: bool = False,
        completion_fn: CompletionFn | None = None,
        max_message_chars: int = 100_000,
    ) -> None:
        self.pipeline = pipeline
        self.audience: Audience = audience
        self.country = country
        self.tenant = tenant
        self.raise_on_block = raise_on_block
        self._completion_fn = completion_fn
        self._max_message_chars = max_message_chars
        self._load_lock = threading.Lock()

    @classmethod
    def from_policy(
        cls,
        policy: str | Path | Policy = "default",
        *,
        registry: CheckRegistry | None = None,
        recorder: Recorder | None = None,
        audience: Audience = "patient",
        country: str = "US",
        tenant: str = "sdk",
        raise_on_block: bool = False,
        completion_fn: CompletionFn | None = None,
    ) -> AsyncGuard:
        """Build from a shipped pack name, a policy file, or a loaded ``Policy``.

        ``registry`` defaults to the built-in checks; ``recorder`` (audit store, metrics,
        a test fake) defaults to recording nothing; ``completion_fn`` defaults to
        ``litellm.acompletion``. A bad policy raises ``PolicyError`` here, not at the
        first request.
        """
        return cls(
            Pipeline(_engine_for(policy, registry), recorder or NullRecorder()),
            audience=audience,
            country=country,
            tenant=tenant,
            raise_on_block=raise_on_block,
            completion_fn=completion_fn,
        )

    @property
    def engine(self) -> Engine:
        return self.pipeline.engine

    @property
    def policy(self) -> Policy:
        return self.pipeline.engine.policy

    async def load(self) -> None:
        """Load the checks' models now (in a thread) rather than on the first call."""
        if not self.engine.ready:
            await asyncio.to_thread(self._load_blocking)

    def _load_blocking(self) -> None:
        with self._load_lock:
            if not self.engine.ready:
                self.engine.load()

    def context(self, model: str | None = None) -> Context:
        return Context(
            stage=Stage.INPUT,
            tenant=self.tenant,
            audience=self.audience,
            country=self.country,
            model=model,
        )

    # -------------------------------------------------------------- checks only
    async def check(self, messages: Any, *, model: str | None = None) -> Verdict:
        """The input stage's verdict for ``messages``; nothing is sent upstream."""
        return (await self.guard_input(messages, model=model)).verdict

    async def guard_input(self, messages: Any, *, model: str | None = None) -> InputOutcome:
        """Validate ``messages`` (``MessageError``, a ``ValueError``, when malformed) and
        run the input stage: the verdict, plus the messages as they may leave (redacted)."""
        normalized = normalize_messages(messages, self._max_message_chars)
        await self.load()
        return await self.pipeline.guard_input(normalized, self.context(model))

    async def guard_output(
        self,
        text: str,
        *,
        input: InputOutcome | None = None,
        model: str | None = None,
    ) -> OutputOutcome:
        """Run the output stage on ``text``: the text to show (redacted, restored, amended,
        or the safe response), its finish reason and verdict.

        Without ``input`` the answer is checked on its own, as if its request raised
        nothing; pass the ``InputOutcome`` of its request so input findings (a crisis, the
        user's own identifiers to restore) shape the result.
        """
        await self.load()
        inp = input if input is not None else self._no_input()
        return await self.pipeline.guard_output(text, self.context(model), inp)

    def _no_input(self) -> InputOutcome:
        policy = self.policy
        verdict = Verdict(Action.ALLOW, Stage.INPUT, policy.id, policy.version)
        return InputOutcome(self.pipeline.new_id(), verdict, [], Vault())

    # -------------------------------------------------------------- completions
    @overload
    async def acompletion(
        self, *, stream: Literal[True], **kwargs: Any
    ) -> AsyncCompletionStream: ...

    @overload
    async def acompletion(
        self, *, stream: Literal[False] = ..., **kwargs: Any
    ) -> ModelResponse: ...

    async def acompletion(
        self, *, stream: bool = False, **kwargs: Any
    ) -> ModelResponse | AsyncCompletionStream:
        """``litellm.acompletion`` with the policy applied before and after the call.

        Blocked or clarified requests are answered locally (``finish_reason``
        ``content_filter`` for a block) and never reach the model, unless
        ``raise_on_block`` makes a block raise ``GuardBlocked``. The decision is attached
        to the response: ``response.primum`` (dict) and ``primum_result(response)``.
        With ``stream=True`` the result is an async iterator of chunks whose text is
        released only after its window passed the output checks.
        """
        if "messages" not in kwargs:
            raise MessageError("messages", "'messages' is required")
        if kwargs.get("n") not in (None, 1):
            raise MessageError("n", "the guard checks one answer per request: 'n' must be 1")
        model = kwargs.get("model")
        model_name = model if isinstance(model, str) else None
        inp = await self.guard_input(kwargs["messages"], model=model_name)
        if inp.answered:
            result = GuardResult(inp.request_id, inp.verdict, None, inp.case_ids)
            if inp.verdict.blocked and self.raise_on_block:
                raise GuardBlocked(result)
            finish = "content_filter" if inp.verdict.blocked else "stop"
            if stream:
                return AsyncCompletionStream(
                    lambda s: _answer_chunks(s, model_name, inp.answer, finish, result)
                )
            return _local_response(model_name, inp.answer, finish, result)

        completion = self._completion_fn or _litellm_acompletion()
        started = time.perf_counter()
        call = {**kwargs, "messages": inp.messages}
        if stream:
            upstream = await completion(**call, stream=True)
            return AsyncCompletionStream(
                lambda s: _guarded_chunks(s, self, model_name, inp, upstream, started)
            )
        response = _as_model_response(await completion(**call))
        upstream_ms = (time.perf_counter() - started) * 1000
        choice = response.choices[0]
        original = choice.message.content
        out = await self.pipeline.guard_output(
            original or "", self.context(model_name), inp, upstream_ms
        )
        result = GuardResult(inp.request_id, inp.verdict, out.verdict,
                             inp.case_ids + out.case_ids)
        if out.verdict.blocked and self.raise_on_block:
            raise GuardBlocked(result)
        if original is not None or out.text:
            choice.message.content = out.text
        if out.finish_reason:
            reason: Any = out.finish_reason  # litellm types it as a Literal of known reasons
            choice.finish_reason = reason
            choice.message.tool_calls = None
            choice.message.function_call = None
        _attach(response, result)
        return response


# ------------------------------------------------------------------------- streaming
class AsyncCompletionStream:
    """Chunks of a guarded streamed answer, in litellm's ``ModelResponseStream`` shape.

    The first chunk carries any crisis resources (``GuardedStream.prefix``); model text
    follows window by window; the last chunk carries the finish reason and ``primum``.
    ``result`` is set once the stream is exhausted. After a mid-stream block the model's
    remaining text is discarded and the upstream stream closed. Tool-call deltas are
    relayed as they arrive; like the non-streamed path, only text is checked.
    """

    def __init__(
        self, produce: Callable[[AsyncCompletionStream], AsyncIterator[ModelResponseStream]]
    ) -> None:
        self.result: GuardResult | None = None
        self._chunks = produce(self)

    def __aiter__(self) -> AsyncCompletionStream:
        return self

    async def __anext__(self) -> ModelResponseStream:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        """Stop early: closes the upstream stream and records what was checked so far."""
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            await aclose()


async def _answer_chunks(
    stream: AsyncCompletionStream, model: str | None, text: str, finish: str,
    result: GuardResult,
) -> AsyncIterator[ModelResponseStream]:
    """The guard's own answer (block or clarify) as a stream: the text, then the end."""
    shape = _ChunkShape(model)
    yield shape.chunk(text)
    stream.result = result
    final = shape.chunk(None, finish)
    _attach(final, result)
    yield final


async def _guarded_chunks(
    stream: AsyncCompletionStream, guard: AsyncGuard, model: str | None, inp: InputOutcome,
    upstream: Any, started: float,
) -> AsyncIterator[ModelResponseStream]:
    """Relay the upstream's text through ``GuardedStream``: feed deltas in, yield what it
    releases, and stop reading the model the moment a window is blocked."""
    guarded: GuardedStream = guard.pipeline.stream(guard.context(model), inp)
    shape = _ChunkShape(model)
    prefix = guarded.prefix()
    replaced = guarded.replaces_answer
    upstream_finish: str | None = None
    closed = False
    try:
        if prefix:
            # A "replace" escalation answers with the resources alone: no trailing gap.
            yield shape.chunk(prefix.rstrip() if replaced else prefix)
        async for raw in upstream:
            chunk = _as_chunk(raw)
            shape.adopt(chunk)
            if not chunk.choices:
                continue  # e.g. a usage-only chunk
            choice = chunk.choices[0]
            upstream_finish = choice.finish_reason or upstream_finish
            released = await guarded.feed(choice.delta.content or "")
            if released and not replaced:
                yield shape.chunk(released)
            if choice.delta.tool_calls and not guarded.blocked:
                # Relayed as they come: only text is checked, as in the non-streamed path.
                yield shape.chunk(None, tool_calls=choice.delta.tool_calls)
            if guarded.blocked:
                break
        await _close_upstream(upstream)
        upstream_ms = (time.perf_counter() - started) * 1000
        closed = True
        tail, out = await guarded.close(upstream_ms)
    finally:
        if not closed:  # the consumer stopped early or the upstream failed
            await _close_upstream(upstream)
            await guarded.close((time.perf_counter() - started) * 1000)
    if tail and not replaced:
        yield shape.chunk(tail)
    result = GuardResult(inp.request_id, inp.verdict, out.verdict, inp.case_ids + out.case_ids)
    stream.result = result
    if out.verdict.blocked and guard.raise_on_block:
        raise GuardBlocked(result)
    final = shape.chunk(None, out.finish_reason or upstream_finish or "stop")
    _attach(final, result)
    yield final


async def _close_upstream(upstream: Any) -> None:
    aclose = getattr(upstream, "aclose", None)
    if aclose is not None:
        await aclose()


class _ChunkShape:
    """Builds our chunks with the upstream's id, model and created time, so a client sees
    one consistent stream; the first chunk carries ``role``."""

    def __init__(self, model: str | None) -> None:
        self.id: str | None = None
        self.model = model
        self.created: int | None = None
        self._sent_role = False

    def adopt(self, chunk: ModelResponseStream) -> None:
        if self.id is None:
            self.id = chunk.id
            self.created = chunk.created
            self.model = chunk.model or self.model

    def chunk(
        self, content: str | None, finish_reason: str | None = None, tool_calls: Any = None
    ) -> ModelResponseStream:
        from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices

        role = None if self._sent_role else "assistant"
        self._sent_role = True
        delta = Delta(content=content, role=role, tool_calls=tool_calls)
        made = ModelResponseStream(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[StreamingChoices(index=0, delta=delta, finish_reason=finish_reason)],
        )
        if self.id is None:
            self.id, self.created = made.id, made.created
        return made


# ------------------------------------------------------------------------- sync guard
class Guard:
    """The synchronous twin of ``AsyncGuard``, for scripts, notebooks and worker threads.

    Calls run on a private event loop in a background thread, so they work from any
    thread, with or without a loop of its own, and litellm's connection pools stay bound
    to one long-lived loop. Async applications should use ``AsyncGuard``: a sync call made
    from a coroutine blocks that coroutine's loop until the answer is complete.
    """

    def __init__(self, inner: AsyncGuard) -> None:
        self.inner = inner
        self._runner = _LoopThread()
        weakref.finalize(self, self._runner.close)

    @classmethod
    def from_policy(
        cls,
        policy: str | Path | Policy = "default",
        *,
        registry: CheckRegistry | None = None,
        recorder: Recorder | None = None,
        audience: Audience = "patient",
        country: str = "US",
        tenant: str = "sdk",
        raise_on_block: bool = False,
        completion_fn: CompletionFn | None = None,
    ) -> Guard:
        """As ``AsyncGuard.from_policy``; ``completion_fn`` is still an async function."""
        return cls(AsyncGuard.from_policy(
            policy,
            registry=registry,
            recorder=recorder,
            audience=audience,
            country=country,
            tenant=tenant,
            raise_on_block=raise_on_block,
            completion_fn=completion_fn,
        ))

    @property
    def pipeline(self) -> Pipeline:
        return self.inner.pipeline

    @property
    def policy(self) -> Policy:
        return self.inner.policy

    def load(self) -> None:
        """Load the checks' models now rather than on the first call."""
        self._runner.run(self.inner.load())

    def check(self, messages: Any, *, model: str | None = None) -> Verdict:
        """The input stage's verdict for ``messages``; nothing is sent upstream."""
        return self._runner.run(self.inner.check(messages, model=model))

    def guard_input(self, messages: Any, *, model: str | None = None) -> InputOutcome:
        """As ``AsyncGuard.guard_input``: the verdict and the messages as they may leave."""
        return self._runner.run(self.inner.guard_input(messages, model=model))

    def guard_output(
        self,
        text: str,
        *,
        input: InputOutcome | None = None,
        model: str | None = None,
    ) -> OutputOutcome:
        """As ``AsyncGuard.guard_output``: the text to show for a model's answer."""
        return self._runner.run(self.inner.guard_output(text, input=input, model=model))

    @overload
    def completion(self, *, stream: Literal[True], **kwargs: Any) -> CompletionStream: ...

    @overload
    def completion(self, *, stream: Literal[False] = ..., **kwargs: Any) -> ModelResponse: ...

    def completion(
        self, *, stream: bool = False, **kwargs: Any
    ) -> ModelResponse | CompletionStream:
        """``AsyncGuard.acompletion``, blocking. With ``stream=True``, a sync iterator."""
        if stream:
            inner = self._runner.run(self.inner.acompletion(stream=True, **kwargs))
            return CompletionStream(inner, self._runner)
        return self._runner.run(self.inner.acompletion(stream=False, **kwargs))

    def close(self) -> None:
        """Stop the background loop. Idempotent; also happens when the guard is collected."""
        self._runner.close()

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CompletionStream:
    """A sync iterator over a guarded stream; each ``next()`` waits on the guard's loop."""

    def __init__(self, inner: AsyncCompletionStream, runner: _LoopThread) -> None:
        self._inner = inner
        self._runner = runner

    @property
    def result(self) -> GuardResult | None:
        return self._inner.result

    def __iter__(self) -> Iterator[ModelResponseStream]:
        return self

    def __next__(self) -> ModelResponseStream:
        try:
            return self._runner.run(_next_chunk(self._inner))
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        self._runner.run(self._inner.aclose())


async def _next_chunk(stream: AsyncCompletionStream) -> ModelResponseStream:
    return await stream.__anext__()


class _LoopThread:
    """One event loop on one daemon thread, started on first use.

    Daemon, so a forgotten ``close()`` never keeps the interpreter alive.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        loop = self._start()
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a sync Guard cannot be called from its own event loop")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="primum-guard-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def close(self) -> None:
        """Cancel what still runs on the loop (litellm's logging worker, say), then stop it,
        so closing never leaves "Task was destroyed but it is pending" behind."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        if thread is threading.current_thread():
            loop.call_soon(loop.stop)
            return
        # Best effort: a task that ignores cancellation must not block close().
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_cancel_pending(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            loop.close()


async def _cancel_pending() -> None:
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


# --------------------------------------------------------------------------- helpers
def _engine_for(policy: str | Path | Policy, registry: CheckRegistry | None) -> Engine:
    if isinstance(policy, Policy):
        return Engine.build(policy, registry or default_registry(), source=f"<policy {policy.id}>")
    return build_engine(policy, registry)


def _litellm_acompletion() -> CompletionFn:
    import litellm

    fn: CompletionFn = litellm.acompletion
    return fn


def _as_model_response(response: Any) -> ModelResponse:
    from litellm.types.utils import ModelResponse

    if isinstance(response, ModelResponse):
        return response
    if isinstance(response, Mapping):
        return ModelResponse(**response)
    raise TypeError(f"completion_fn returned {type(response).__name__}, not a ModelResponse")


def _as_chunk(chunk: Any) -> ModelResponseStream:
    from litellm.types.utils import ModelResponseStream

    if isinstance(chunk, ModelResponseStream):
        return chunk
    if isinstance(chunk, Mapping):
        return ModelResponseStream(**chunk)
    raise TypeError(f"completion_fn streamed {type(chunk).__name__}, not a ModelResponseStream")


def _local_response(
    model: str | None, text: str, finish: str, result: GuardResult
) -> ModelResponse:
    from litellm.types.utils import ModelResponse

    response = ModelResponse(
        model=model,
        choices=[{"index": 0, "message": {"role": "assistant", "content": text},
                  "finish_reason": finish}],
    )
    _attach(response, result)
    return response
