"""The FastAPI app, built by ``create_app`` from injected parts: no module-level app or state.

Everything heavy (policies' models, the audit store, the upstream) is passed in, so tests
build the same app around fakes and real components alike. Start-up work (loading the
checks' models, opening the store) runs in threads inside the lifespan; until it is done
``/readyz`` says 503 and why, while ``/healthz`` already answers.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, Literal, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from guard.engine import Engine
from guard.metrics import Metrics, render_latest
from guard.pipeline import Pipeline
from guard.policy.loader import PolicyError
from guard.recording import Recorder
from guard.review import ReviewStore
from proxy.auth import KeyRing
from proxy.chat import ChatService
from proxy.config import ProxyConfig
from proxy.errors import ApiError, install_error_handlers
from proxy.review import install_review
from proxy.upstream import Upstream

__all__ = ["BackgroundWorker", "Readiness", "create_app"]

log = logging.getLogger(__name__)

Hook = Callable[[], object]
"""A blocking start-up or shutdown step (e.g. ``AuditStore.open``); runs in a thread."""


class BackgroundWorker(Protocol):
    """A task that runs while the server does (the webhook delivery worker): started once
    start-up is done, stopped before the shutdown hooks close what it uses."""

    async def start(self) -> None: ...

    async def stop(self, grace_s: float = ...) -> None: ...


class Readiness:
    """Where start-up stands: ``loading`` -> ``ready``, or ``failed`` with a reason."""

    def __init__(self) -> None:
        self.state: Literal["loading", "ready", "failed"] = "loading"
        self.reason = "loading policies, check models and the audit store"

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def as_dict(self) -> dict[str, str]:
        return {"status": self.state, "reason": self.reason}


def create_app(
    config: ProxyConfig,
    *,
    engines: Mapping[str, Engine],
    upstream: Upstream,
    recorder: Recorder,
    metrics: Metrics | None = None,
    registry_for_metrics: Any | None = None,
    load_in_background: bool = True,
    startup: Sequence[Hook] = (),
    shutdown: Sequence[Hook] = (),
    review: ReviewStore | None = None,
    workers: Sequence[BackgroundWorker] = (),
) -> FastAPI:
    """Build the proxy app.

    ``engines`` maps each policy id in ``config.policies`` to its engine (loaded here, in
    the lifespan). ``registry_for_metrics`` is the Prometheus registry served at
    /metrics. With ``load_in_background`` the server accepts connections at once and
    /readyz turns 200 when loading is done; without it start-up waits for loading and a
    failure stops the server. ``review`` serves the review API and page at /review over
    the audit store (the config's ``review.reviewers`` hold the keys). ``workers`` start
    when loading is done and stop on shutdown, before the ``shutdown`` hooks.
    """
    missing = sorted({t.policy for t in config.tenants} - set(engines))
    if missing:
        raise ValueError(f"no engine for policies: {', '.join(missing)}")
    counter = metrics.count_request if metrics is not None else None
    upstream_errors = metrics.upstream_error if metrics is not None else None
    pipelines = {pid: Pipeline(engine, recorder, count_request=counter,
                               count_upstream_error=upstream_errors)
                 for pid, engine in engines.items()}
    readiness = Readiness()
    chat = ChatService(config, KeyRing(config.tenants), pipelines, upstream)

    async def load() -> None:
        step = ""
        try:
            for pid, engine in engines.items():
                step = f"policy {pid!r}"
                await asyncio.to_thread(engine.load)
            for hook in startup:
                step = getattr(hook, "__qualname__", "a start-up step")
                await asyncio.to_thread(hook)
            for worker in workers:
                step = type(worker).__name__
                await worker.start()
        except Exception as exc:
            readiness.state = "failed"
            readiness.reason = f"start-up failed in {step}: {_describe(exc, step)}"
            log.error("%s", readiness.reason)
            raise
        readiness.state, readiness.reason = "ready", "policies and models loaded"
        if metrics is not None:
            metrics.set_ready(True)
        log.info("ready: %d policies, %d models", len(engines), len(upstream.models()))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(load())
        if not load_in_background:
            await task
        try:
            yield
        finally:
            if not task.done():
                task.cancel()
            with suppress(BaseException):
                await task
            if metrics is not None:
                metrics.set_ready(False)
            for worker in workers:
                with suppress(Exception):
                    await worker.stop()
            for hook in shutdown:
                await asyncio.to_thread(hook)

    app = FastAPI(
        title="Primum", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.config = config
    app.state.readiness = readiness
    app.state.pipelines = pipelines
    app.state.upstream = upstream
    install_error_handlers(app)
    install_review(app, config, review, ready=lambda: readiness.ready)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        return JSONResponse(readiness.as_dict(), 200 if readiness.ready else 503)

    @app.get("/metrics")
    async def metrics_endpoint(request: Request) -> Response:
        if registry_for_metrics is None:
            raise ApiError(404, "metrics are not enabled on this server", code="not_found")
        body, content_type = render_latest(registry_for_metrics, request.headers.get("accept"))
        return Response(body, media_type=content_type)

    @app.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        tenant = chat.keyring.authenticate(request.headers.get("authorization"))
        names = chat.allowed_models(config.tenant_models(tenant))
        return {
            "object": "list",
            "data": [{"id": n, "object": "model", "created": 0, "owned_by": "primum"}
                     for n in names],
        }

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        request_id = uuid.uuid4().hex
        request.state.request_id = request_id
        if not readiness.ready:
            raise ApiError(
                503, f"Primum is not ready yet ({readiness.reason}); retry shortly",
                code="not_ready", headers={"retry-after": "1"},
            )
        return await chat.handle(request, request_id)

    return app


def _describe(exc: BaseException, step: str) -> str:
    """Loading a policy's checks touches only files we ship or configure, so its error text
    is safe to show; a start-up hook's (e.g. a database error quoting a connection URL)
    is shown by type only."""
    if isinstance(exc, PolicyError) or step.startswith("policy "):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__
