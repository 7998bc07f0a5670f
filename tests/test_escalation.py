"""Notifications of review cases: the signed webhook outbox, its delivery worker, merging of
duplicate escalations into one case, the config section, and the proxy end to end.

A real HTTP receiver (uvicorn on loopback) verifies every signature with the helper that
receivers are told to use; the store runs against SQLite and, when CI provides one, a real
PostgreSQL (``fresh_url``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from guard.audit import AuditStore
from guard.engine import Engine
from guard.escalation import (
    BACKOFF_S,
    DeliveryWorker,
    Notifier,
    Webhook,
    backoff_s,
    body_bytes,
    case_payload,
    list_notifications,
    pending_by_webhook,
    retry_failed,
    sign,
    verify_signature,
)
from guard.metrics import NotificationBacklogCollector
from guard.pipeline import Pipeline
from guard.policy import parse_policy
from guard.recording import CaseRecord, MultiRecorder, NullRecorder, dedup_key
from guard.review import ReviewStore
from guard.types import Context, Stage
from proxy.config import ConfigError, parse_config
from proxy.wiring import build_app, quiet_library_logs
from tests.fakes.checks import FAKE_POLICY, fake_registry
from tests.fakes.recorder import ListRecorder
from tests.fakes.servers import ServerThread, free_port, wait_until

SECRET = "whsec-test-0123456789"
EXCERPT = "My name is Johanna Példa-Smith, MRN 4471923, and I want to end my life"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# --------------------------------------------------------------------- receiver
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def payload(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


@dataclass
class Receiver:
    """Answers each path by its script: status codes, or ``"sleep:<s>"`` (then 200); the
    last entry repeats. Verifies every request's signature with ``verify_signature``."""

    scripts: dict[str, list[int | str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            path = request.url.path
            body = await request.body()
            verified = verify_signature(SECRET, body, request.headers.get("x-primum-timestamp"),
                                        request.headers.get("x-primum-signature"))
            self.received.append(Received(path, dict(request.headers), body, verified))
            script = self.scripts.get(path, [200])
            n = self.calls.get(path, 0)
            self.calls[path] = n + 1
            step = script[min(n, len(script) - 1)]
            if isinstance(step, str):
                await asyncio.sleep(float(step.split(":")[1]))
                step = 200
            return Response(status_code=step)

        return Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])

    def to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[tuple[Receiver, ServerThread]]:
    receiver = Receiver()
    with ServerThread(receiver.app()) as server:
        yield receiver, server


@pytest.fixture
def receiver(receiver_server: tuple[Receiver, ServerThread]) -> Receiver:
    r = receiver_server[0]
    r.scripts.clear()
    r.received.clear()
    r.calls.clear()
    return r


@pytest.fixture
def base_url(receiver_server: tuple[Receiver, ServerThread]) -> str:
    return receiver_server[1].url


class Clock:
    """Real time plus an offset the test moves forward (to make retries due)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def _case(case_id: str = "c1", *, rule: str = "crisis", priority: str = "high",
          time: datetime | None = None, key: str | None = None, **kw: Any) -> CaseRecord:
    return CaseRecord(
        case_id=case_id, request_id=f"req-{case_id}", time=time or datetime.now(UTC),
        tenant="clinic", rule=rule, priority=priority, policy_id="default",
        policy_version="2026.1", categories=("crisis/suicidal_ideation",), excerpt=EXCERPT,
        model="fake-gpt", dedup_key=key, **kw)


def _webhook(url: str, name: str = "pager", **kw: Any) -> Webhook:
    return Webhook(name=name, url=url, secret=SECRET, **kw)


def _rows(store: AuditStore) -> list[dict[str, Any]]:
    return list_notifications(store, limit=1000)


# --------------------------------------------------------------------- signatures
def test_signature_verifies_and_rejects_tampering_and_replays() -> None:
    body = body_bytes({"event": "case.opened", "case_id": "c1"})
    ts = str(int(time.time()))
    signature = sign(SECRET, ts, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify_signature(SECRET, body, ts, signature)
    assert verify_signature(SECRET.encode(), body, ts, signature)
    assert not verify_signature("other-secret", body, ts, signature)
    assert not verify_signature(SECRET, body + b" ", ts, signature)
    assert not verify_signature(SECRET, body, str(int(ts) + 1), signature)
    old = str(int(time.time()) - 3600)
    assert not verify_signature(SECRET, body, old, sign(SECRET, old, body))
    assert verify_signature(SECRET, body, old, sign(SECRET, old, body), tolerance_s=7200)
    for missing in (None, "", "abc"):
        assert not verify_signature(SECRET, body, missing, signature)
    assert not verify_signature(SECRET, body, ts, None)


def test_backoff_grows_is_jittered_and_capped() -> None:
    assert [backoff_s(n, lambda: 0.5) for n in range(1, 9)] == [
        5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 3600.0, 3600.0]
    assert backoff_s(1, lambda: 0.0) == pytest.approx(4.0)
    assert backoff_s(1, lambda: 1.0) == pytest.approx(6.0)
    assert BACKOFF_S[-1] == 3600.0


def test_webhooks_match_by_escalation_and_priority() -> None:
    url = "http://127.0.0.1:1/x"
    every = _webhook(url, "every")
    crisis_high = _webhook(url, "crisis-high", escalations=("crisis", "emergency"),
                           min_priority="high")
    notifier = Notifier([every, crisis_high])
    assert [n for n, _ in notifier.deliveries(_case(priority="critical"))] == [
        "every", "crisis-high"]
    assert [n for n, _ in notifier.deliveries(_case(priority="normal"))] == ["every"]
    assert [n for n, _ in notifier.deliveries(_case(rule="medication_review"))] == ["every"]
    assert Notifier([crisis_high]).deliveries(_case(priority="low")) == []
    with pytest.raises(ValueError, match="secret"):
        Webhook(name="x", url=url, secret="")
    assert SECRET not in repr(every) and url not in repr(every)


def test_payload_names_the_case_and_holds_no_text() -> None:
    payload = case_payload(_case("c-42", time=T0, metadata={"note": EXCERPT}))
    assert payload == {
        "event": "case.opened", "case_id": "c-42", "request_id": "req-c-42",
        "time": "2026-03-01T12:00:00Z", "tenant": "clinic", "model": "fake-gpt",
        "rule": "crisis", "priority": "high", "policy_id": "default",
        "policy_version": "2026.1", "categories": ["crisis/suicidal_ideation"],
        "review_url": "/review#/cases/c-42",
    }


def test_dedup_key_hashes_the_user_and_prefers_it_over_the_text() -> None:
    by_user = dedup_key("clinic", "crisis", "user-8842", "some text")
    assert by_user == dedup_key("clinic", "crisis", "user-8842", "other text")
    assert by_user is not None and "user-8842" not in by_user and len(by_user) == 64
    assert by_user != dedup_key("clinic", "crisis", "user-8843", "some text")
    assert by_user != dedup_key("other", "crisis", "user-8842", "some text")
    assert by_user != dedup_key("clinic", "emergency", "user-8842", "some text")
    by_text = dedup_key("clinic", "crisis", None, "x" * 200 + "tail a")
    assert by_text == dedup_key("clinic", "crisis", None, "x" * 200 + "tail b")
    assert by_text != dedup_key("clinic", "crisis", None, "y" * 200)
    assert dedup_key("clinic", "crisis", None, "") is None


# --------------------------------------------------------------------- delivery
async def test_5xx_is_retried_with_back_off_then_sent(
    fresh_url: str, receiver: Receiver, base_url: str
) -> None:
    receiver.scripts["/flaky"] = [500, 200]
    clock = Clock()
    hook = _webhook(f"{base_url}/flaky")
    outcomes: list[tuple[str, str]] = []
    with AuditStore(fresh_url, deliveries=Notifier([hook]).deliveries, clock=clock) as store:
        assert await store.open_case(_case("c1")) == "c1"
        [row] = _rows(store)
        assert (row["status"], row["attempts"], row["webhook"]) == ("pending", 0, "pager")
        assert pending_by_webhook(store) == {"pager": 1}
        worker = DeliveryWorker(store, [hook], clock=clock,
                                on_outcome=lambda w, o: outcomes.append((w, o)))
        try:
            assert await worker.run_once() == 1
            [row] = _rows(store)
            assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1,
                                                                           "http 500")
            wait = (row["next_attempt_at"] - clock()).total_seconds()
            assert 3.0 < wait <= 6.0
            assert await worker.run_once() == 0  # not due yet
            clock.advance(7)
            assert await worker.run_once() == 1
        finally:
            await worker.aclose()
        [row] = _rows(store)
        assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)
        assert row["sent_at"] is not None
        assert pending_by_webhook(store) == {}
    assert outcomes == [("pager", "retry"), ("pager", "sent")]
    got = receiver.to("/flaky")
    assert len(got) == 2 and all(r.verified for r in got)
    first = got[0]
    assert first.headers["content-type"] == "application/json"
    assert first.headers["x-primum-event"] == "case.opened"
    assert first.headers["x-primum-delivery"] == row["id"] == got[1].headers["x-primum-delivery"]
    assert first.payload["case_id"] == "c1" and first.payload["review_url"] == "/review#/cases/c1"


async def test_4xx_fails_at_once_and_can_be_requeued(
    fresh_url: str, receiver: Receiver, base_url: str
) -> None:
    receiver.scripts["/reject"] = [400, 200]
    hook = _webhook(f"{base_url}/reject")
    outcomes: list[str] = []
    with AuditStore(fresh_url, deliveries=Notifier([hook]).deliveries) as store:
        await store.open_case(_case("c1"))
        worker = DeliveryWorker(store, [hook], on_outcome=lambda w, o: outcomes.append(o))
        try:
            assert await worker.run_once() == 1
            [row] = _rows(store)
            assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 1,
                                                                           "http 400")
            assert await worker.run_once() == 0
            assert [r["id"] for r in list_notifications(store, status="failed")] == [row["id"]]
            # An operator fixed the receiver: the failed delivery goes out again.
            assert retry_failed(store) == 1
            assert await worker.run_once() == 1
        finally:
            await worker.aclose()
        [row] = _rows(store)
        assert row["status"] == "sent"
    assert outcomes == ["failed", "sent"]


@pytest.mark.parametrize("status", [408, 429, 503])
async def test_retryable_statuses(
    status: int, receiver: Receiver, base_url: str, tmp_path: Path
) -> None:
    receiver.scripts["/busy"] = [status]
    hook = _webhook(f"{base_url}/busy")
    with AuditStore(f"sqlite:///{tmp_path / 'a.db'}",
                    deliveries=Notifier([hook]).deliveries) as store:
        await store.open_case(_case("c1"))
        worker = DeliveryWorker(store, [hook])
        try:
            await worker.run_once()
        finally:
            await worker.aclose()
        [row] = _rows(store)
        assert (row["status"], row["last_error"]) == ("pending", f"http {status}")


async def test_timeout_is_retried(fresh_url: str, receiver: Receiver, base_url: str) -> None:
    receiver.scripts["/slow"] = ["sleep:2"]
    hook = _webhook(f"{base_url}/slow", timeout_s=0.2)
    with AuditStore(fresh_url, deliveries=Notifier([hook]).deliveries) as store:
        await store.open_case(_case("c1"))
        worker = DeliveryWorker(store, [hook])
        try:
            started = time.monotonic()
            assert await worker.run_once() == 1
            assert time.monotonic() - started < 1.5
        finally:
            await worker.aclose()
        [row] = _rows(store)
        assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1,
                                                                       "ReadTimeout")


async def test_closed_port_is_retried_until_max_attempts_then_failed(fresh_url: str) -> None:
    clock = Clock()
    hook = _webhook(f"http://127.0.0.1:{free_port()}/hook")
    outcomes: list[str] = []
    with AuditStore(fresh_url, deliveries=Notifier([hook]).deliveries, clock=clock) as store:
        await store.open_case(_case("c1"))
        worker = DeliveryWorker(store, [hook], max_attempts=3, clock=clock,
                                on_outcome=lambda w, o: outcomes.append(o))
        try:
            for _ in range(3):
                assert await worker.run_once() == 1
                clock.advance(BACKOFF_S[-1] * 1.3)
            assert await worker.run_once() == 0
        finally:
            await worker.aclose()
        [row] = _rows(store)
        assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3,
                                                                       "ConnectError")
    assert outcomes == ["retry", "retry", "failed"]


async def test_pending_deliveries_survive_a_restart(
    fresh_url: str, receiver: Receiver, base_url: str
) -> None:
    hook = _webhook(f"{base_url}/ok")
    # The first process opens cases and dies before its worker sends anything.
    with AuditStore(fresh_url, deliveries=Notifier([hook]).deliveries) as first:
        for i in range(3):
            await first.open_case(_case(f"c{i}"))
    assert receiver.to("/ok") == []
    with AuditStore(fresh_url) as second:
        assert pending_by_webhook(second) == {"pager": 3}
        worker = DeliveryWorker(second, [hook], poll_s=0.05)
        await worker.start()
        try:
            await asyncio.to_thread(wait_until, lambda: len(receiver.to("/ok")) == 3, 10)
        finally:
            await worker.stop()
        assert {r["status"] for r in _rows(second)} == {"sent"}
    assert sorted(r.payload["case_id"] for r in receiver.to("/ok")) == ["c0", "c1", "c2"]


async def test_a_claimed_row_is_left_alone_until_its_lease_ends(fresh_url: str) -> None:
    clock = Clock()
    hook = _webhook("http://127.0.0.1:1/never")
    with AuditStore(fresh_url, deliveries=Notifier([hook]).deliveries, clock=clock) as store:
        await store.open_case(_case("c1"))
        one = DeliveryWorker(store, [hook], clock=clock)
        two = DeliveryWorker(store, [hook], clock=clock)
        [claimed] = await asyncio.to_thread(one._claim_due)
        assert claimed.attempts == 1
        assert await asyncio.to_thread(two._claim_due) == []
        clock.advance(61)  # the first worker died: after the lease another one retries
        [again] = await asyncio.to_thread(two._claim_due)
        assert (again.id, again.attempts) == (claimed.id, 2)
        # The dead worker's late result is not recorded over the live attempt.
        await asyncio.to_thread(one._finish, claimed, None, False)
        [row] = _rows(store)
        assert (row["status"], row["attempts"]) == ("pending", 2)


async def test_two_workers_never_deliver_the_same_row_twice(
    fresh_url: str, receiver: Receiver, base_url: str
) -> None:
    receiver.scripts["/both"] = ["sleep:0.05"]
    hook = _webhook(f"{base_url}/both")
    with AuditStore(fresh_url, deliveries=Notifier([hook]).deliveries) as store:
        for i in range(12):
            await store.open_case(_case(f"c{i}"))
    # Two processes: each its own store (engine, connections) and worker.
    with AuditStore(fresh_url) as a, AuditStore(fresh_url) as b:
        workers = [DeliveryWorker(a, [hook], batch=5), DeliveryWorker(b, [hook], batch=5)]
        try:
            for _ in range(6):
                await asyncio.gather(*(w.run_once() for w in workers))
        finally:
            for w in workers:
                await w.aclose()
        assert {r["status"] for r in _rows(a)} == {"sent"}
        assert {r["attempts"] for r in _rows(a)} == {1}
    ids = [r.headers["x-primum-delivery"] for r in receiver.to("/both")]
    assert len(ids) == 12 and len(set(ids)) == 12


async def test_nothing_leaks_into_payload_error_or_logs(
    fresh_url: str, receiver: Receiver, base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.scripts["/leak"] = [400]
    password = "hunter2-url-password"
    url = base_url.replace("http://", f"http://ops:{password}@") + "/leak"
    hook = _webhook(url)
    quiet_library_logs()  # as the proxy does: httpx logs every URL at INFO
    caplog.set_level(logging.DEBUG)
    with AuditStore(fresh_url, deliveries=Notifier([hook]).deliveries) as store:
        await store.open_case(_case("c1", metadata={"user": "user-8842"}))
        worker = DeliveryWorker(store, [hook])
        try:
            await worker.run_once()
        finally:
            await worker.aclose()
        [row] = _rows(store)
    stored = json.dumps(row, default=str, ensure_ascii=False)
    sent = b"".join(r.body for r in receiver.to("/leak")).decode()
    for text in (stored, sent, caplog.text):
        for secret in ("Johanna", "4471923", "end my life", SECRET, password, "user-8842"):
            assert secret not in text
    assert row["last_error"] == "http 400"
    assert "pager" in caplog.text  # the webhook is named, its URL is not
    assert "127.0.0.1" not in caplog.text.replace("127.0.0.1:1/", "")


async def test_worker_keeps_going_when_the_store_is_down(tmp_path: Path) -> None:
    hook = _webhook("http://127.0.0.1:1/x")
    errors: list[str] = []
    store = AuditStore(f"sqlite:///{tmp_path / 'a.db'}", on_error=errors.append).open()
    worker = DeliveryWorker(store, [hook], poll_s=0.01)
    await worker.start()
    store.close()  # every query now fails
    await asyncio.sleep(0.1)
    await worker.stop()
    assert worker._task is None


# --------------------------------------------------------------------- merging
async def test_duplicates_merge_within_the_window_not_after_nor_into_resolved(
    fresh_url: str
) -> None:
    hook = _webhook("http://127.0.0.1:1/x")
    key = dedup_key("clinic", "crisis", "user-8842", "")
    with AuditStore(fresh_url, merge_window_s=600,
                    deliveries=Notifier([hook]).deliveries) as store:
        assert await store.open_case(_case("a", time=T0, key=key)) == "a"
        # Same key 5 minutes later: merged into "a", no new case, no new notification.
        assert await store.open_case(_case("b", time=T0 + timedelta(minutes=5), key=key)) == "a"
        assert store.get_case("b") is None
        case = store.get_case("a")
        assert case is not None and case["merged_count"] == 1
        assert case["updated_at"] == T0 + timedelta(minutes=5)
        assert len(_rows(store)) == 1
        detail = ReviewStore(store).case("a")
        assert detail is not None and "dedup_key" not in detail
        merged = [e for e in detail["events"] if e["kind"] == "merged"]
        assert merged == [{"id": merged[0]["id"], "time": "2026-03-01T12:05:00Z",
                           "actor": "primum", "kind": "merged",
                           "detail": {"request_id": "req-b",
                                      "categories": ["crisis/suicidal_ideation"],
                                      "priority": "high"}}]
        # Another key, another rule or no key: a case of its own.
        other = dedup_key("clinic", "crisis", "user-1", "")
        assert await store.open_case(_case("c", time=T0 + timedelta(minutes=6),
                                           key=other)) == "c"
        assert await store.open_case(_case("d", time=T0 + timedelta(minutes=6))) == "d"
        assert await store.open_case(_case("e", time=T0 + timedelta(minutes=6), key=key,
                                           rule="emergency")) == "e"
        # Past the window (counted from when "a" was opened): a new case.
        assert await store.open_case(_case("f", time=T0 + timedelta(minutes=11),
                                           key=key)) == "f"
        # Resolved cases are never merged into.
        ReviewStore(store).update_case("f", "rev", status="resolved", resolution="confirmed")
        assert await store.open_case(_case("g", time=T0 + timedelta(minutes=12),
                                           key=key)) == "g"
        assert await store.open_case(_case("h", time=T0 + timedelta(minutes=13),
                                           key=key)) == "g"
        assert [r["case_id"] for r in sorted(_rows(store), key=lambda r: r["case_id"])] == [
            "a", "c", "d", "e", "f", "g"]


async def test_merging_is_off_with_a_zero_window(fresh_url: str) -> None:
    with AuditStore(fresh_url) as store:
        assert await store.open_case(_case("a", time=T0, key="k")) == "a"
        assert await store.open_case(_case("b", time=T0, key="k")) == "b"


async def test_concurrent_duplicates_open_one_case(fresh_url: str) -> None:
    with AuditStore(fresh_url, merge_window_s=600) as store:
        now = datetime.now(UTC)
        ids = await asyncio.gather(*(store.open_case(_case(f"c{i}", time=now, key="same"))
                                     for i in range(8)))
        assert len(set(ids)) == 1
        case = store.get_case(ids[0])
        assert case is not None and case["merged_count"] == 7


async def test_recorders_report_the_effective_case_id() -> None:
    class Merging(ListRecorder):
        async def open_case(self, case: CaseRecord) -> str | None:
            await super().open_case(case)
            return "existing-case"

    class Failing:
        async def record_decision(self, record: object) -> None:
            raise RuntimeError

        async def open_case(self, case: CaseRecord) -> str | None:
            raise RuntimeError("store down")

    assert await MultiRecorder([NullRecorder(), Merging()]).open_case(_case()) == "existing-case"
    assert await MultiRecorder([NullRecorder(), Failing()]).open_case(_case()) is None


async def test_the_pipeline_records_the_case_it_was_merged_into() -> None:
    class Merging(ListRecorder):
        async def open_case(self, case: CaseRecord) -> str | None:
            await super().open_case(case)
            return "existing-case"

    recorder = Merging()
    pipeline = Pipeline(Engine.build(parse_policy(FAKE_POLICY), fake_registry()), recorder)
    ctx = Context(stage=Stage.INPUT, tenant="t1", metadata={"user": "user-8842"})
    inp = await pipeline.guard_input([{"role": "user", "content": "I want to end my life"}],
                                     ctx)
    assert inp.case_ids == ("existing-case",)
    assert recorder.decisions[-1].case_id == "existing-case"
    [case] = recorder.cases
    assert case.dedup_key == dedup_key("t1", "crisis", "user-8842", "")
    assert "user-8842" not in repr(case)
    # Without a user field the key is the redacted excerpt's (the same message again).
    plain = ListRecorder()
    pipeline = Pipeline(Engine.build(parse_policy(FAKE_POLICY), fake_registry()), plain)
    ctx = Context(stage=Stage.INPUT, tenant="t1")
    for _ in range(2):
        await pipeline.guard_input([{"role": "user", "content": "I want to end my life"}], ctx)
    first, second = plain.cases
    assert first.dedup_key is not None and first.dedup_key == second.dedup_key
    assert first.case_id != second.case_id  # the store decides about merging


# --------------------------------------------------------------------- config
_BASE = """
tenants:
  - {name: clinic, key_sha256: ["%s"], policy: default}
model_list:
  - {model_name: m, litellm_params: {model: openai/x}}
""" % ("0" * 64)


def _parse(notifications: str, env: dict[str, str] | None = None) -> Any:
    return parse_config(_BASE + notifications, "primum.yaml", Path.cwd(),
                        {"PRIMUM_WEBHOOK_SECRET": "s3cr3t-value", **(env or {})})


def test_config_notifications_section() -> None:
    config = _parse("""
notifications:
  webhooks:
    - name: safety-pager
      url: https://${HOOK_HOST}/primum
      secret: ${PRIMUM_WEBHOOK_SECRET}
      escalations: [crisis, emergency]
      min_priority: high
      timeout_s: 5
  max_attempts: 4
  merge_window_s: 120
""", {"HOOK_HOST": "hooks.example.org"})
    n = config.notifications
    assert (n.max_attempts, n.merge_window_s) == (4, 120)
    [hook] = n.webhooks
    assert hook.url == "https://hooks.example.org/primum" and hook.secret == "s3cr3t-value"
    assert hook.escalations == ["crisis", "emergency"] and hook.min_priority == "high"
    assert "s3cr3t-value" not in repr(config) and "hooks.example.org" not in repr(config)
    default = _parse("")
    assert default.notifications.webhooks == []
    assert default.notifications.merge_window_s == 600 and default.notifications.max_attempts == 8


@pytest.mark.parametrize(("section", "env", "message", "field"), [
    ("webhooks: [{name: a, url: 'ftp://user:pw@x/y', secret: k}]", {},
     "http:// or https://", "notifications.webhooks.0.url"),
    ("webhooks: [{name: a, url: '${HOOK_URL}', secret: k}]", {"HOOK_URL": "file:///etc/pw"},
     "http:// or https://", "notifications.webhooks.0.url"),
    ("webhooks: [{name: a, url: 'https://x/y'}]", {}, "Field required",
     "notifications.webhooks.0.secret"),
    ("webhooks: [{name: a, url: 'https://x/y', secret: ''}]", {}, "needs a secret",
     "notifications.webhooks.0.secret"),
    ("webhooks: [{name: a, url: 'https://x/y', secret: '${EMPTY}'}]", {"EMPTY": ""},
     "empty", "notifications.webhooks.0.secret"),
    ("webhooks: [{name: a, url: 'https://x/y', secret: '${NOPE}'}]", {},
     "NOPE is not set", "notifications.webhooks.0.secret"),
    ("webhooks: [{name: a, url: 'https://x/y', secret: k}, {name: a, url: 'https://x/z', "
     "secret: k}]", {}, "unique", "notifications.webhooks.1.name"),
    ("webhooks: [{name: a, url: 'https://x/y', secret: k, min_priority: urgent}]", {},
     "Input should be", "notifications.webhooks.0.min_priority"),
    ("max_attempts: 0", {}, "greater than or equal to 1", "notifications.max_attempts"),
    ("merge_window_s: -1", {}, "greater than or equal to 0", "notifications.merge_window_s"),
    ("retries: 3", {}, "Extra inputs", "notifications.retries"),
])
def test_config_notifications_errors(
    section: str, env: dict[str, str], message: str, field: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _parse(f"notifications:\n  {section}\n", env)
    assert message in str(info.value) and info.value.field == field
    assert "pw" not in str(info.value).replace("pwd", "")


def test_unknown_escalation_names_are_refused_at_wiring(tmp_path: Path) -> None:

    config = _parse(f"""
store: {{url: "sqlite:///{tmp_path / 'a.db'}"}}
notifications:
  webhooks:
    - {{name: pager, url: "https://x/y", secret: "${{PRIMUM_WEBHOOK_SECRET}}",
       escalations: [crisiss]}}
""")
    with pytest.raises(ValueError, match="crisiss"):
        build_app(config)


# --------------------------------------------------------------------- end to end
@pytest.mark.e2e
@pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")
def test_proxy_answers_at_once_and_the_receiver_gets_the_signed_case(
    receiver: Receiver, base_url: str, tmp_path: Path
) -> None:
    from tests.fakes.upstream import FakeUpstream
    from tests.test_proxy_e2e import (
        KEY,
        TEST_POLICY,
        UPSTREAM_KEY,
        GateCheck,
        _config_yaml,
        _registry,
    )

    receiver.scripts["/e2e"] = ["sleep:3"]  # a slow receiver: it must not delay answers
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "e2e.yaml").write_text(TEST_POLICY)
    db = tmp_path / "audit.db"
    fake = FakeUpstream()
    GateCheck.gate.set()
    with ServerThread(fake.app) as upstream:
        text = _config_yaml(upstream.url, db) + """
notifications:
  webhooks:
    - name: safety-pager
      url: ${HOOK_URL}
      secret: ${PRIMUM_WEBHOOK_SECRET}
      escalations: [crisis]
      min_priority: high
      timeout_s: 10
"""
        config = parse_config(text, str(tmp_path / "primum.yaml"), tmp_path, environ={
            "FAKE_UPSTREAM_KEY": UPSTREAM_KEY, "HOOK_URL": f"{base_url}/e2e",
            "PRIMUM_WEBHOOK_SECRET": SECRET})
        app = build_app(config, check_registry=_registry())
        with ServerThread(app) as proxy, httpx.Client(base_url=proxy.url, timeout=30) as c:
            wait_until(lambda: c.get("/readyz").status_code == 200, timeout_s=30)

            def crisis() -> tuple[float, dict[str, Any]]:
                started = time.monotonic()
                r = c.post("/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"},
                           json={"model": "fake-gpt", "user": "patient-77",
                                 "messages": [{"role": "user",
                                               "content": "I want to end my life"}]})
                assert r.status_code == 200, r.text
                return time.monotonic() - started, r.json()["primum"]

            took, primum = crisis()
            assert took < 2.0 and primum["action"] == "escalate"
            [case_id] = primum["case_ids"]
            got = wait_until(lambda: receiver.to("/e2e"), timeout_s=15)
            # The same user in crisis again: merged into the open case, no second page.
            took, again = crisis()
            assert took < 2.0 and again["case_ids"] == [case_id]
            store = AuditStore(f"sqlite:///{db}").open()
            try:
                wait_until(lambda: {r["status"] for r in _rows(store)} == {"sent"}, 15)
                assert len(_rows(store)) == 1
                case = store.get_case(case_id)
                assert case is not None and case["merged_count"] == 1
                decisions = store.list_decisions(request_id=again["request_id"])
                assert {d["stage"]: d["case_id"] for d in decisions} == {
                    "input": case_id, "output": None}
            finally:
                store.close()
            metrics = c.get("/metrics").text
            assert 'primum_notifications_total{outcome="sent",webhook="safety-pager"} 1.0' \
                in metrics
            assert 'primum_notifications_pending' in metrics
    [hit] = got
    assert hit.verified
    assert hit.payload["case_id"] == case_id and hit.payload["rule"] == "crisis"
    assert hit.payload["tenant"] == "clinic" and hit.payload["priority"] == "high"
    assert "end my life" not in hit.body.decode() and "patient-77" not in hit.body.decode()


def test_pending_gauge_is_absent_not_an_error_before_the_store_opens(tmp_path: Path) -> None:
    """A scrape during start-up must not count a store error (it would page someone)."""
    store = AuditStore(f"sqlite:///{tmp_path / 'not-yet.db'}")
    errors: list[str] = []
    collector = NotificationBacklogCollector(lambda: pending_by_webhook(store),
                                             on_error=errors.append)
    assert list(collector.collect()) == [] and errors == []
    with store:
        [family] = collector.collect()
        assert family.name == "primum_notifications_pending" and family.samples == []
