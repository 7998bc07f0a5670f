"""The composition root: config file in, a ready-to-serve app out.

The only place that knows which real components exist (policy engines, the audit store,
Prometheus metrics, litellm); ``create_app`` itself takes them injected.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from fastapi import FastAPI

from guard.audit import AuditStore
from guard.build import build_engine
from guard.checks import CheckRegistry
from guard.checks.phi import PhiCheck
from guard.engine import Engine
from guard.escalation import DeliveryWorker, Notifier, Webhook, pending_by_webhook
from guard.metrics import (
    CaseBacklogCollector,
    Metrics,
    NotificationBacklogCollector,
    metrics_registry,
    multiprocess_enabled,
)
from guard.recording import MultiRecorder
from guard.review import ReviewStore
from guard.types import Stage
from proxy.app import create_app
from proxy.config import CONFIG_ENV, NotificationsConfig, ProxyConfig, load_config
from proxy.upstream import LiteLLMUpstream

__all__ = ["app_factory", "build_app", "build_app_from_config", "quiet_library_logs"]


def build_app_from_config(path: str | os.PathLike[str] | None = None) -> FastAPI:
    """``path``, else ``$PRIMUM_CONFIG``, else the embedded default config."""
    return build_app(load_config(path))


def build_app(
    config: ProxyConfig,
    *,
    load_in_background: bool = True,
    check_registry: CheckRegistry | None = None,
) -> FastAPI:
    """Wire the real components. ``check_registry`` defaults to the built-in checks;
    tests pass one with fakes added to run everything else for real."""
    quiet_library_logs()
    multiproc_dir = config.metrics.multiproc_dir
    if multiproc_dir is None and multiprocess_enabled():
        multiproc_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    registry = metrics_registry(multiproc_dir)
    metrics = Metrics(registry)
    _ensure_sqlite_dir(config.store.url)
    engines = {pid: build_engine(path, check_registry) for pid, path in config.policies.items()}
    webhooks = _webhooks(config.notifications, engines)
    store = AuditStore(
        config.store.url,
        on_error=metrics.store_error,
        merge_window_s=config.notifications.merge_window_s,
        # The deliveries of a new case are written in the case's own transaction.
        deliveries=Notifier(webhooks).deliveries if webhooks else None,
    )
    worker = DeliveryWorker(store, webhooks, max_attempts=config.notifications.max_attempts,
                            on_outcome=metrics.notification)
    if webhooks:
        registry.register(NotificationBacklogCollector(
            lambda: pending_by_webhook(store), on_error=metrics.store_error))
    # Reviewer notes are the one free text a person adds to the store: PHI is replaced by
    # placeholders before it is written (the analyzer loads on the first note).
    notes = PhiCheck("review-notes", frozenset({Stage.INPUT}))
    review = ReviewStore(store, redact=notes.redact_text)
    registry.register(CaseBacklogCollector(review.backlog, on_error=metrics.store_error))
    upstream = LiteLLMUpstream(
        config.router_model_list(),
        config.router_settings.as_kwargs(),
        timeout_s=config.server.request_timeout_s,
        config_source=config.source,
    )
    return create_app(
        config,
        engines=engines,
        upstream=upstream,
        recorder=MultiRecorder([store, metrics]),
        metrics=metrics,
        registry_for_metrics=registry,
        load_in_background=load_in_background,
        startup=[store.open],
        shutdown=[store.close],
        review=review,
        workers=[worker],
    )


def _webhooks(config: NotificationsConfig, engines: dict[str, Engine]) -> list[Webhook]:
    """The configured webhooks; an escalation name no policy defines is an error (a typo
    would otherwise silently never page anyone)."""
    known = {name for engine in engines.values() for name in engine.policy.escalations}
    out = []
    for webhook in config.webhooks:
        if webhook.escalations != "*":
            unknown = sorted(set(webhook.escalations) - known)
            if unknown:
                raise ValueError(
                    f"notifications.webhooks {webhook.name!r}: no policy defines the "
                    f"escalation(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        out.append(Webhook(
            name=webhook.name, url=webhook.url, secret=webhook.secret,
            escalations="*" if webhook.escalations == "*" else tuple(webhook.escalations),
            min_priority=webhook.min_priority, timeout_s=webhook.timeout_s,
        ))
    return out


def app_factory() -> FastAPI:
    """For ``uvicorn --factory proxy.wiring:app_factory``: each worker builds its own app
    from ``$PRIMUM_CONFIG`` (``primum serve`` sets it, and prepares the metrics dir)."""
    return build_app_from_config(os.environ.get(CONFIG_ENV) or None)


_QUIETED = {
    # litellm logs failed calls with the provider's error text, which can quote the request.
    "LiteLLM": logging.ERROR, "LiteLLM Router": logging.ERROR, "LiteLLM Proxy": logging.ERROR,
    "litellm": logging.ERROR,
    # The OpenAI SDK logs every request body (the messages) at DEBUG.
    "openai": logging.WARNING, "httpx": logging.WARNING, "httpcore": logging.WARNING,
}


def quiet_library_logs() -> None:
    """Keep message text out of the logs even when an operator turns on DEBUG: the
    libraries on the upstream path log request bodies and provider errors that quote them.
    """
    for name, level in _QUIETED.items():
        logging.getLogger(name).setLevel(level)


def _ensure_sqlite_dir(url: str) -> None:
    """Create the parent directory of a SQLite file (``sqlite:///var/primum.db``)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return
    database = url[len(prefix):].split("?", 1)[0]
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
