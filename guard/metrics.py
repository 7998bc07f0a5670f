"""Prometheus metrics for every decision, with labels that cannot leak or explode.

Labels only ever hold names that configuration or policy defines (tenant, model, check,
category, rule, policy) or closed vocabularies (stage, action, reason, fail mode): never
text, never user ids. Each value is still clamped to a safe charset and length, and each
label name accepts a bounded number of distinct values (later ones become ``other``), so
a caller bug costs a merged series rather than a Prometheus outage.

Multi-worker servers (uvicorn/gunicorn ``--workers N``) need prometheus_client's
multiprocess mode, or each scrape sees one random worker's counts. prometheus_client
decides that mode once, when ``prometheus_client`` is first imported, from
``PROMETHEUS_MULTIPROC_DIR``; each metric then writes to a file in that directory when it
is created. So the parent process sets the variable and calls ``prepare_multiproc_dir``
before any worker starts (and before importing anything that imports prometheus_client),
and every worker exposes ``metrics_registry(dir)``, which aggregates all workers' files.
"""

from __future__ import annotations

import enum
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import values as _values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from guard.recording import CaseRecord, DecisionRecord
from guard.types import Action

__all__ = [
    "CHECK_BUCKETS",
    "MAX_LABEL_CHARS",
    "MAX_LABEL_VALUES",
    "UPSTREAM_BUCKETS",
    "BacklogRow",
    "CaseBacklogCollector",
    "Metrics",
    "NotificationBacklogCollector",
    "clamp_label",
    "metrics_registry",
    "multiprocess_enabled",
    "prepare_multiproc_dir",
    "render_latest",
    "worker_exited",
]

MAX_LABEL_CHARS = 64
MAX_LABEL_VALUES = 200
"""Distinct values per label name per process; beyond it a new value is counted as ``other``."""

CHECK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds. Regex checks take ~1 ms, presidio ~25 ms, an embedding model tens of ms; 5 s
is past any sane per-check budget, so a check that lands in +Inf is a budget bug."""
UPSTREAM_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
"""Seconds. LLM calls run from a fraction of a second to minutes for long generations."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/@-]")
_OTHER = "other"
_UNKNOWN = "unknown"


def clamp_label(value: object, max_chars: int = MAX_LABEL_CHARS) -> str:
    """A label value safe to export: a restricted charset, bounded length, never empty."""
    text = str(value.value) if isinstance(value, enum.Enum) else str(value)
    text = _UNSAFE.sub("_", text)[:max_chars]
    return text or _UNKNOWN


class _LabelGuard:
    """Caps the distinct values each label name may take in this process."""

    def __init__(self, max_values: int) -> None:
        self._max = max_values
        self._seen: dict[str, set[str]] = {}
        self._lock = Lock()

    def __call__(self, name: str, value: object) -> str:
        text = clamp_label(value)
        with self._lock:
            seen = self._seen.setdefault(name, set())
            if text in seen:
                return text
            if len(seen) >= self._max:
                return _OTHER
            seen.add(text)
            return text


def multiprocess_enabled() -> bool:
    """Whether prometheus_client writes values to per-process files (decided at its import)."""
    return bool(getattr(_values.ValueClass, "_multiprocess", False))


class Metrics:
    """Every Primum metric, registered in one registry; also a ``Recorder``.

    Single process: the metrics register in ``registry``, which is what /metrics serves.
    Multiprocess mode: values go to files in PROMETHEUS_MULTIPROC_DIR and
    ``registry`` should come from ``metrics_registry(dir)``: the metric objects then stay
    unregistered, since registering them too would export this worker's values twice.
    """

    def __init__(
        self, registry: CollectorRegistry, *, max_label_values: int = MAX_LABEL_VALUES
    ) -> None:
        self.registry = registry
        self.multiprocess = multiprocess_enabled()
        self._label = _LabelGuard(max_label_values)
        reg = None if self.multiprocess else registry
        self.requests = Counter(
            "primum_requests", "Finished requests by the request-level action.",
            ["tenant", "model", "action"], registry=reg)
        self.findings = Counter(
            "primum_findings", "Findings by check and category; action is that stage's verdict.",
            ["check", "category", "stage", "action"], registry=reg)
        self.principle_findings = Counter(
            "primum_principle_findings",
            "Stage verdicts with a finding attributed to an AMA Principle of Medical Ethics "
            "(1-9), once per principle; action is that stage's verdict.",
            ["principle", "stage", "action"], registry=reg)
        self.criterion_findings = Counter(
            "primum_criterion_findings",
            "Stage verdicts with a finding under a CSEDB safety criterion, once per criterion; "
            "action is that stage's verdict.",
            ["criterion", "stage", "action"], registry=reg)
        self.check_seconds = Histogram(
            "primum_check_seconds", "Wall time of each check run.",
            ["check", "stage"], buckets=CHECK_BUCKETS, registry=reg)
        self.check_failures = Counter(
            "primum_check_failures",
            "Checks that errored or ran past their budget (bypassed, never counted as passed).",
            ["check", "stage", "reason", "fail_mode"], registry=reg)
        self.upstream_seconds = Histogram(
            "primum_upstream_seconds", "Wall time of the upstream LLM call.",
            ["model"], buckets=UPSTREAM_BUCKETS, registry=reg)
        self.upstream_errors = Counter(
            "primum_upstream_errors", "Upstream LLM calls that failed, by model and reason.",
            ["model", "reason"], registry=reg)
        self.escalations = Counter(
            "primum_escalations", "Review cases opened, by escalation rule.",
            ["rule"], registry=reg)
        self.decisions = Counter(
            "primum_decisions", "Stage verdicts by action and policy.",
            ["stage", "action", "policy"], registry=reg)
        self.store_errors = Counter(
            "primum_store_errors", "Audit store operations that failed.",
            ["operation"], registry=reg)
        self.notifications = Counter(
            "primum_notifications",
            "Webhook delivery attempts by webhook and outcome: sent, retry (to be tried "
            "again), failed (given up: refused by the receiver or out of attempts).",
            ["webhook", "outcome"], registry=reg)
        # livemax: any live worker ready means ready; worker_exited() drops a dead one's vote.
        self.ready = Gauge(
            "primum_ready", "1 when this server's policy and checks are loaded.",
            registry=reg, multiprocess_mode="livemax")

    # ----------------------------------------------------------------- Recorder
    async def record_decision(self, record: DecisionRecord) -> None:
        self.observe_decision(record)

    async def open_case(self, case: CaseRecord) -> str | None:
        # Every escalation counts, merged into an existing case or not: the rate of the
        # signal matters to the alerts, not how the review queue groups it.
        self.escalations.labels(rule=self._label("rule", case.rule)).inc()
        return None

    # ----------------------------------------------------------------- direct calls
    def observe_decision(self, record: DecisionRecord) -> None:
        """Count one stage verdict. Synchronous: it only touches memory (or an mmap)."""
        v = record.verdict
        stage = clamp_label(record.stage.value)
        action = clamp_label(v.action)
        self.decisions.labels(
            stage=stage, action=action, policy=self._label("policy", v.policy_id)
        ).inc()
        for f in v.findings:
            self.findings.labels(
                check=self._label("check", f.check),
                category=self._label("category", f.category),
                stage=stage,
                action=action,
            ).inc()
        # Once per decision and principle (criterion): a request that four findings tie to
        # principle 4 is one violation of it, not four.
        for principle in sorted({f.principle for f in v.findings if f.principle is not None}):
            self.principle_findings.labels(
                principle=clamp_label(principle), stage=stage, action=action
            ).inc()
        for criterion in sorted({f.criterion for f in v.findings if f.criterion}):
            self.criterion_findings.labels(
                criterion=self._label("criterion", criterion), stage=stage, action=action
            ).inc()
        for name, ms in v.latency_ms.items():
            self.check_seconds.labels(check=self._label("check", name), stage=stage).observe(
                max(ms, 0.0) / 1000
            )
        for failure in v.failures:
            self.check_failures.labels(
                check=self._label("check", failure.check),
                stage=stage,
                reason=clamp_label(failure.reason),
                fail_mode=clamp_label(failure.fail_mode),
            ).inc()
        if record.upstream_ms is not None:
            self.upstream_seconds.labels(model=self._label("model", record.model)).observe(
                max(record.upstream_ms, 0.0) / 1000
            )

    def count_request(self, tenant: str, model: str, action: Action | str) -> None:
        """Once per finished request, with the most severe action over its stages."""
        self.requests.labels(
            tenant=self._label("tenant", tenant),
            model=self._label("model", model),
            action=clamp_label(action),
        ).inc()

    def upstream_error(self, model: str, reason: str) -> None:
        """An upstream call failed (``reason``: the error code, e.g. ``upstream_timeout``)."""
        self.upstream_errors.labels(
            model=self._label("model", model), reason=self._label("reason", reason)
        ).inc()

    def store_error(self, operation: str) -> None:
        """Pass as ``AuditStore(on_error=...)`` so lost audit writes are visible and alertable."""
        self.store_errors.labels(operation=self._label("operation", operation)).inc()

    def notification(self, webhook: str, outcome: str) -> None:
        """One webhook delivery attempt (``guard.escalation.DeliveryWorker(on_outcome=...)``)."""
        self.notifications.labels(
            webhook=self._label("webhook", webhook), outcome=clamp_label(outcome)
        ).inc()

    def set_ready(self, ready: bool) -> None:
        self.ready.set(1 if ready else 0)


@dataclass(frozen=True, slots=True)
class BacklogRow:
    """Unresolved review cases of one priority and status, and how old the oldest is."""

    priority: str
    status: str
    count: int
    oldest_age_s: float


_Rows = TypeVar("_Rows")


class _StoreReadCollector(Generic[_Rows]):
    """Gauge families read from the audit store when Prometheus scrapes.

    What lives in the database is shared by every worker and every replica, so it is
    queried rather than counted in memory (a counter per worker cannot know that another
    worker's reviewer resolved a case). The answer is cached for ``cache_s`` so frequent
    scrapes of many workers cost one small indexed query each. A store that cannot answer
    drops the families from that scrape (Prometheus then sees them absent: unknown, not
    zero) and counts a store error under ``operation``; a source that returns ``None``
    (the store is not open yet, during start-up) drops them uncounted.
    """

    operation = ""

    def __init__(
        self,
        source: Callable[[], _Rows | None],
        *,
        cache_s: float = 15.0,
        on_error: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._cache_s = cache_s
        self._on_error = on_error
        self._clock = clock
        self._lock = Lock()
        self._cached: tuple[float, _Rows] | None = None

    def describe(self) -> list[Metric]:
        # Registering must not query the store (it may not be open yet).
        return []

    def collect(self) -> Iterator[Metric]:
        rows = self._rows()
        if rows is not None:
            yield from self._families(rows)

    def _families(self, rows: _Rows) -> Iterator[Metric]:
        raise NotImplementedError

    def _rows(self) -> _Rows | None:
        with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < self._cache_s:
                return self._cached[1]
            try:
                found = self._source()
            except Exception:
                if self._on_error is not None:
                    self._on_error(self.operation)
                return None
            if found is not None:
                self._cached = (now, found)
            return found


class CaseBacklogCollector(_StoreReadCollector[Sequence[BacklogRow]]):
    """``primum_cases_unresolved`` and ``primum_case_oldest_unresolved_age_seconds``: the
    review queue, by priority and status."""

    operation = "case_backlog"

    def _families(self, rows: Sequence[BacklogRow]) -> Iterator[Metric]:
        count = GaugeMetricFamily(
            "primum_cases_unresolved",
            "Review cases not yet resolved (open or in review), by priority and status.",
            labels=["priority", "status"])
        age = GaugeMetricFamily(
            "primum_case_oldest_unresolved_age_seconds",
            "Age of the oldest unresolved review case, by priority and status.",
            labels=["priority", "status"])
        for row in rows:
            labels = [clamp_label(row.priority), clamp_label(row.status)]
            count.add_metric(labels, row.count)
            age.add_metric(labels, max(row.oldest_age_s, 0.0))
        yield count
        yield age


class NotificationBacklogCollector(_StoreReadCollector[Mapping[str, int]]):
    """``primum_notifications_pending``: webhook deliveries waiting in the outbox (due or
    waiting for a retry), by webhook."""

    operation = "notification_backlog"

    def _families(self, rows: Mapping[str, int]) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            "primum_notifications_pending",
            "Webhook deliveries not yet sent nor given up, by webhook.", labels=["webhook"])
        for webhook, count in sorted(rows.items()):
            pending.add_metric([clamp_label(webhook)], count)
        yield pending


def metrics_registry(multiproc_dir: str | None) -> CollectorRegistry:
    """The registry to serve at /metrics: fresh, never prometheus_client's global one.

    With ``multiproc_dir`` it holds only a ``MultiProcessCollector`` that sums every
    worker's files. That only works if prometheus_client was imported with
    PROMETHEUS_MULTIPROC_DIR set to the same directory, so a mismatch is an error here
    rather than a /metrics that silently shows nothing.
    """
    registry = CollectorRegistry()
    if multiproc_dir is None:
        return registry
    env = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not multiprocess_enabled() or env is None:
        raise RuntimeError(
            "multiprocess metrics need PROMETHEUS_MULTIPROC_DIR set in the environment "
            "before prometheus_client is first imported"
        )
    if Path(env).resolve() != Path(multiproc_dir).resolve():
        raise RuntimeError(
            f"PROMETHEUS_MULTIPROC_DIR is {env!r} but metrics were asked for {multiproc_dir!r}"
        )
    MultiProcessCollector(registry, path=multiproc_dir)  # type: ignore[no-untyped-call]
    return registry


def prepare_multiproc_dir(path: str | os.PathLike[str]) -> Path:
    """Create the directory, or empty it of a previous run's metric files.

    Call once in the parent before workers start: stale files from a previous run would
    be summed into the new counts. Only prometheus_client's ``*.db`` files are removed, so
    pointing the variable at a shared directory by mistake cannot delete anything else.
    """
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in _metric_files(directory):
        stale.unlink(missing_ok=True)
    return directory


def _metric_files(directory: Path) -> Iterable[Path]:
    for prefix in ("counter_", "gauge_", "histogram_", "summary_"):
        yield from directory.glob(f"{prefix}*.db")


def worker_exited(pid: int, multiproc_dir: str) -> None:
    """Drop a dead worker's live gauges (its ``primum_ready`` vote); counters are kept.

    For a process manager's child-exit hook (gunicorn ``child_exit``).
    """
    mark_process_dead(pid, multiproc_dir)  # type: ignore[no-untyped-call]


def render_latest(
    registry: CollectorRegistry, accept: str | None = None
) -> tuple[bytes, str]:
    """Body and content type for a /metrics response; OpenMetrics when ``accept`` asks for it."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
