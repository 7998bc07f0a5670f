"""Notifications of review cases: signed JSON webhooks, delivered from an outbox.

When the audit store opens a case it writes one ``notifications`` row per matching webhook
in the same transaction (``Notifier.deliveries`` is the store's ``deliveries`` hook), so a
crash between "case opened" and "pager called" cannot lose the call. ``DeliveryWorker``, an
asyncio task the proxy starts in its lifespan, POSTs the due rows and records the outcome;
the user's request only ever writes rows, so a slow or dead receiver never delays an
answer.

Delivery is at least once: every process runs a worker and each claims a row atomically
(a conditional UPDATE that only one of them can win) before sending it, but a worker that
dies after the receiver answered and before it recorded "sent" leaves the row to be sent
again when its lease runs out. Receivers deduplicate on ``X-Primum-Delivery``.

The payload names the case and what kind of case it is, never its text: no excerpt, no
user id, nothing a third-party pager or chat tool should hold about a patient. Each request
is signed: ``X-Primum-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with
the webhook's secret, ``X-Primum-Timestamp`` the unix time of the attempt; receivers check
both with ``verify_signature`` (or its ten lines, in deploy/README.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import sqlalchemy as sa

from guard.audit import AuditStore, notifications
from guard.recording import CaseRecord

__all__ = [
    "BACKOFF_S",
    "EVENT_CASE_OPENED",
    "DeliveryWorker",
    "Notifier",
    "Webhook",
    "backoff_s",
    "body_bytes",
    "case_payload",
    "list_notifications",
    "pending_by_webhook",
    "retry_failed",
    "sign",
    "verify_signature",
]

log = logging.getLogger(__name__)

EVENT_CASE_OPENED = "case.opened"
BACKOFF_S = (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)
"""Wait after the 1st, 2nd, ... failed attempt; the last value repeats (the cap). Each is
jittered by +-20 % so that receivers coming back are not hit by every row at once."""
_JITTER = 0.2
_PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "critical": 3}
_RETRY_STATUSES = frozenset({408, 429})
_MAX_ERROR_CHARS = 80


@dataclass(frozen=True, slots=True)
class Webhook:
    """One receiver. ``url`` and ``secret`` are never logged nor stored in the outbox (rows
    name the webhook); a row is delivered with the URL and secret configured when sent."""

    name: str
    url: str = field(repr=False)
    secret: str = field(repr=False)
    escalations: tuple[str, ...] | Literal["*"] = "*"
    min_priority: str = "low"
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError(f"webhook {self.name!r}: the secret is empty")
        if self.min_priority not in _PRIORITY_RANK:
            raise ValueError(f"webhook {self.name!r}: unknown min_priority")
        if self.timeout_s <= 0:
            raise ValueError(f"webhook {self.name!r}: timeout_s must be > 0")

    def matches(self, case: CaseRecord) -> bool:
        rule_ok = self.escalations == "*" or case.rule in self.escalations
        rank = _PRIORITY_RANK.get(case.priority, _PRIORITY_RANK["critical"])
        return rule_ok and rank >= _PRIORITY_RANK[self.min_priority]


def case_payload(case: CaseRecord) -> dict[str, Any]:
    """What a receiver learns about a new case: no excerpt, no metadata, no user."""
    return {
        "event": EVENT_CASE_OPENED,
        "case_id": case.case_id,
        "request_id": case.request_id,
        "time": case.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "tenant": case.tenant,
        "model": case.model,
        "rule": case.rule,
        "priority": case.priority,
        "policy_id": case.policy_id,
        "policy_version": case.policy_version,
        "categories": list(case.categories),
        "review_url": f"/review#/cases/{case.case_id}",
    }


class Notifier:
    """Which webhooks a new case notifies, with what payload: ``AuditStore(deliveries=...)``."""

    def __init__(self, webhooks: Sequence[Webhook]) -> None:
        self.webhooks = tuple(webhooks)

    def deliveries(self, case: CaseRecord) -> list[tuple[str, dict[str, Any]]]:
        matching = [w.name for w in self.webhooks if w.matches(case)]
        if not matching:
            return []
        payload = case_payload(case)
        return [(name, payload) for name in matching]


# ----------------------------------------------------------------- signatures
def body_bytes(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys sorted, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True,
                      ensure_ascii=False).encode("utf-8")


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` of ``b"<timestamp>." + body``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(key, message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str | bytes,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """For receivers: whether ``signature`` (``X-Primum-Signature``) signs the raw request
    ``body`` at ``timestamp`` (``X-Primum-Timestamp``) with ``secret``, and the timestamp is
    within ``tolerance_s`` of ``now`` (a replayed old request fails). Constant-time."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff_s(attempts: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after ``attempts`` failed attempts (1, 2, ...), jittered."""
    base = BACKOFF_S[min(max(attempts, 1), len(BACKOFF_S)) - 1]
    return base * (1 - _JITTER + 2 * _JITTER * rng())


# ------------------------------------------------------------------- the worker
@dataclass(frozen=True, slots=True)
class _Claimed:
    id: str
    webhook: str
    attempts: int
    event: str
    payload: dict[str, Any]


class DeliveryWorker:
    """Deliver due outbox rows; one per process, any number of processes.

    ``run_once`` claims up to ``batch`` due rows (each with a conditional UPDATE that moves
    its ``next_attempt_at`` a lease ahead and counts the attempt: proceeding only when the
    UPDATE changed the row, so two workers never send a row at once), POSTs them
    concurrently and records each outcome: 2xx sent; 4xx other than 408/429 failed at once
    (the receiver refuses it; a 3xx too: redirects are not followed); anything else (5xx,
    408, 429, a timeout, a refused connection) retried after ``backoff_s`` until
    ``max_attempts``, then failed. A worker that dies mid-send leaves the row claimed until
    its lease ends; another worker then retries it.

    ``on_outcome(webhook, outcome)`` (``sent``/``retry``/``failed``) feeds the metrics.
    """

    def __init__(
        self,
        store: AuditStore,
        webhooks: Sequence[Webhook],
        *,
        max_attempts: int = 8,
        poll_s: float = 1.0,
        batch: int = 20,
        on_outcome: Callable[[str, str], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: Callable[[], float] = random.random,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.store = store
        self.webhooks = {w.name: w for w in webhooks}
        self.max_attempts = max_attempts
        self.poll_s = poll_s
        self.batch = batch
        self._on_outcome = on_outcome
        self._clock = clock
        self._rng = rng
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Event | None = None

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Start the background loop (nothing to do without webhooks)."""
        if self._task is not None or not self.webhooks:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="primum-notifications")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Let an attempt in flight finish for up to ``grace_s``, then cancel it (its row
        stays claimed until the lease ends, then any worker retries it)."""
        task, self._task = self._task, None
        if task is not None:
            assert self._stopping is not None
            self._stopping.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), grace_s)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with suppress(BaseException):
                    await task
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        assert self._stopping is not None
        while not self._stopping.is_set():
            try:
                done = await self.run_once()
            except Exception as exc:  # the store is down: try again at the next poll
                log.error("notification delivery: %s", type(exc).__name__)
                done = 0
            if done == 0:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.poll_s)

    # ------------------------------------------------------------- one round
    async def run_once(self) -> int:
        """Claim and attempt the due rows; how many were attempted."""
        claimed = await asyncio.to_thread(self._claim_due)
        if claimed:
            await asyncio.gather(*(self._attempt(row) for row in claimed))
        return len(claimed)

    async def _attempt(self, row: _Claimed) -> None:
        webhook = self.webhooks[row.webhook]
        error: str | None
        permanent = False
        try:
            response = await self._post(webhook, row)
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        else:
            status = response.status_code
            error = None if 200 <= status < 300 else f"http {status}"
            permanent = error is not None and status < 500 and status not in _RETRY_STATUSES
        outcome = await asyncio.to_thread(self._finish, row, error, permanent)
        if outcome != "sent":
            log.warning("webhook %s delivery %s attempt %d: %s (%s)", row.webhook, row.id,
                        row.attempts, error, outcome)
        if self._on_outcome is not None:
            self._on_outcome(row.webhook, outcome)

    async def _post(self, webhook: Webhook, row: _Claimed) -> httpx.Response:
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False, transport=self._transport)
        body = body_bytes(row.payload)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "primum-webhooks/1",
            "X-Primum-Event": row.event,
            "X-Primum-Delivery": row.id,
            "X-Primum-Timestamp": timestamp,
            "X-Primum-Signature": sign(webhook.secret, timestamp, body),
        }
        return await self._client.post(webhook.url, content=body, headers=headers,
                                       timeout=webhook.timeout_s)

    # ------------------------------------------------------------- the store
    def _lease(self, webhook: str) -> timedelta:
        timeout = self.webhooks[webhook].timeout_s
        return timedelta(seconds=max(60.0, 2 * timeout + 30.0))

    def _claim_due(self) -> list[_Claimed]:
        now = self._clock()
        t = notifications
        with self.store._failures_counted("deliver_notifications"):
            with self.store._connect() as conn:
                due = conn.execute(
                    sa.select(t.c.id, t.c.webhook)
                    .where(t.c.status == "pending", t.c.next_attempt_at <= now,
                           t.c.webhook.in_(list(self.webhooks)))
                    .order_by(t.c.next_attempt_at, t.c.id).limit(self.batch)
                ).all()
            claimed: list[_Claimed] = []
            for row_id, webhook in due:
                with self.store._begin() as conn:
                    won = conn.execute(
                        t.update()
                        .where(t.c.id == row_id, t.c.status == "pending",
                               t.c.next_attempt_at <= now)
                        .values(next_attempt_at=now + self._lease(webhook),
                                attempts=t.c.attempts + 1)
                    ).rowcount
                    if won != 1:
                        continue  # another worker took it first
                    row = conn.execute(
                        sa.select(t.c.attempts, t.c.event, t.c.payload).where(t.c.id == row_id)
                    ).one()
                claimed.append(_Claimed(row_id, webhook, int(row.attempts), row.event,
                                        dict(row.payload)))
        return claimed

    def _finish(self, row: _Claimed, error: str | None, permanent: bool) -> str:
        now = self._clock()
        values: dict[str, Any]
        if error is None:
            outcome = "sent"
            values = {"status": "sent", "sent_at": now, "last_error": None}
        elif permanent or row.attempts >= self.max_attempts:
            outcome = "failed"
            values = {"status": "failed", "last_error": error[:_MAX_ERROR_CHARS]}
        else:
            outcome = "retry"
            values = {"last_error": error[:_MAX_ERROR_CHARS],
                      "next_attempt_at": now + timedelta(seconds=backoff_s(row.attempts,
                                                                          self._rng))}
        t = notifications
        with self.store._failures_counted("deliver_notifications"), self.store._begin() as conn:
            # Only if still ours: the same attempt count and still pending (a lease that ran
            # out while the receiver was slow lets another worker's attempt win).
            conn.execute(t.update().where(t.c.id == row.id, t.c.status == "pending",
                                          t.c.attempts == row.attempts).values(values))
        return outcome


# ------------------------------------------------------------------- reading
def pending_by_webhook(store: AuditStore) -> dict[str, int] | None:
    """Deliveries not yet sent nor given up, by webhook (for the metrics); ``None`` while
    the store is not open (start-up), which is not an error."""
    if not store.is_open:
        return None
    t = notifications
    with store._connect() as conn:
        rows = conn.execute(
            sa.select(t.c.webhook, sa.func.count()).where(t.c.status == "pending")
            .group_by(t.c.webhook)
        ).all()
    return {str(name): int(count) for name, count in rows}


def list_notifications(
    store: AuditStore, *, status: str | None = None, case_id: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Outbox rows, newest first (``status="failed"``: the ones to look at)."""
    t = notifications
    query = sa.select(t)
    if status is not None:
        query = query.where(t.c.status == status)
    if case_id is not None:
        query = query.where(t.c.case_id == case_id)
    query = query.order_by(t.c.created_at.desc(), t.c.id).limit(limit)
    with store._connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def retry_failed(store: AuditStore, *, webhook: str | None = None) -> int:
    """Put failed deliveries back in the queue (attempts reset); how many. For an operator
    after fixing a receiver."""
    t = notifications
    query = t.update().where(t.c.status == "failed")
    if webhook is not None:
        query = query.where(t.c.webhook == webhook)
    with store._begin() as conn:
        return int(conn.execute(query.values(status="pending", attempts=0,
                                             next_attempt_at=datetime.now(UTC))).rowcount)
