"""Metrics: what one decision counts, label safety, and multi-worker aggregation.

Every test builds a fresh ``CollectorRegistry``; nothing touches prometheus_client's
global registry. The multiprocess test runs real child processes, because
prometheus_client fixes its mode at import time from PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from guard.audit import AuditStore
from guard.metrics import (
    CHECK_BUCKETS,
    MAX_LABEL_CHARS,
    Metrics,
    clamp_label,
    metrics_registry,
    multiprocess_enabled,
    prepare_multiproc_dir,
    render_latest,
)
from guard.recording import CaseRecord, DecisionRecord, MultiRecorder
from guard.types import Action, CheckFailure, Finding, Stage, Verdict

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""(sample name, labels) -> value, as parsed back from an exposition."""


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> Metrics:
    return Metrics(registry)


def _record(
    action: Action = Action.BLOCK,
    stage: Stage = Stage.INPUT,
    upstream_ms: float | None = None,
    model: str = "gpt-4o-mini",
) -> DecisionRecord:
    verdict = Verdict(
        action=action,
        stage=stage,
        policy_id="default",
        policy_version="3",
        findings=(
            Finding(check="ama", category="harm", score=0.9, principle=1,
                    explanation="asks how to hurt a named person"),
            Finding(check="ama", category="harm", score=0.8, principle=1),
            Finding(check="phi", category="name", score=0.85, span=(0, 4), entity="PERSON"),
        ),
        failures=(CheckFailure(check="toxicity", reason="timeout", fail_mode="closed",
                               detail="exceeded 50 ms"),),
        latency_ms={"ama": 2.0, "phi": 30.0, "toxicity": 50.0},
    )
    return DecisionRecord(request_id="r1", time=T0, tenant="clinic-a", model=model,
                          stage=stage, verdict=verdict, excerpt="[PERSON] ...",
                          upstream_ms=upstream_ms)


def _case(rule: str = "harm-review") -> CaseRecord:
    return CaseRecord(case_id="c1", request_id="r1", time=T0, tenant="clinic-a", rule=rule,
                      priority="high", policy_id="default", policy_version="3",
                      categories=("ama/harm",))


def _samples(registry: CollectorRegistry) -> Samples:
    """The /metrics body as served, parsed back: (sample name, labels) -> value."""
    body, content_type = render_latest(registry)
    assert content_type.startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_decision_updates_findings_latency_failures_and_decisions(
    metrics: Metrics, registry: CollectorRegistry
) -> None:
    await metrics.record_decision(_record())
    await metrics.record_decision(_record(Action.ALLOW, Stage.OUTPUT, upstream_ms=1500.0))
    s = _samples(registry)

    assert _value(s, "primum_decisions_total", stage="input", action="block",
                  policy="default") == 1
    assert _value(s, "primum_decisions_total", stage="output", action="allow",
                  policy="default") == 1
    assert _value(s, "primum_findings_total", check="ama", category="harm", stage="input",
                  action="block") == 2
    assert _value(s, "primum_findings_total", check="phi", category="name", stage="output",
                  action="allow") == 1
    assert _value(s, "primum_check_failures_total", check="toxicity", stage="input",
                  reason="timeout", fail_mode="closed") == 1
    assert _value(s, "primum_check_seconds_count", check="phi", stage="input") == 1
    assert _value(s, "primum_check_seconds_sum", check="phi", stage="input") == pytest.approx(0.03)
    # 30 ms lands in the 50 ms bucket, not the 25 ms one.
    assert _value(s, "primum_check_seconds_bucket", check="phi", stage="input", le="0.025") == 0
    assert _value(s, "primum_check_seconds_bucket", check="phi", stage="input", le="0.05") == 1
    assert _value(s, "primum_upstream_seconds_count", model="gpt-4o-mini") == 1
    assert _value(s, "primum_upstream_seconds_sum", model="gpt-4o-mini") == 1.5
    # No request is counted by a stage record: that is count_request's job.
    assert not any(name == "primum_requests_total" for name, _ in s)


async def test_requests_escalations_store_errors_and_ready(
    metrics: Metrics, registry: CollectorRegistry
) -> None:
    metrics.count_request("clinic-a", "gpt-4o-mini", Action.BLOCK)
    metrics.count_request("clinic-a", "gpt-4o-mini", Action.BLOCK)
    metrics.count_request("clinic-a", "", "allow")
    await metrics.open_case(_case())
    metrics.store_error("record_decision")
    metrics.set_ready(True)
    s = _samples(registry)
    assert _value(s, "primum_requests_total", tenant="clinic-a", model="gpt-4o-mini",
                  action="block") == 2
    assert _value(s, "primum_requests_total", tenant="clinic-a", model="unknown",
                  action="allow") == 1
    assert _value(s, "primum_escalations_total", rule="harm-review") == 1
    assert _value(s, "primum_store_errors_total", operation="record_decision") == 1
    assert _value(s, "primum_ready") == 1
    metrics.set_ready(False)
    assert _value(_samples(registry), "primum_ready") == 0


def test_check_buckets_span_one_millisecond_to_five_seconds() -> None:
    assert CHECK_BUCKETS[0] == 0.001 and CHECK_BUCKETS[-1] == 5.0
    assert list(CHECK_BUCKETS) == sorted(CHECK_BUCKETS)


def test_openmetrics_when_asked(metrics: Metrics, registry: CollectorRegistry) -> None:
    metrics.count_request("t", "m", Action.ALLOW)
    body, content_type = render_latest(registry, "application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith(b"# EOF")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("clinic-a", "clinic-a"),
        ("openai/gpt-4o-mini:2024", "openai/gpt-4o-mini:2024"),
        ('bad"label}\n{x="y', "bad_label___x__y"),
        ("Jöhn Smith", "J_hn_Smith"),
        ("", "unknown"),
        ("x" * 500, "x" * MAX_LABEL_CHARS),
        (Action.ESCALATE, "escalate"),
        (Stage.OUTPUT, "output"),
    ],
)
def test_clamp_label(raw: object, expected: str) -> None:
    assert clamp_label(raw) == expected


def test_label_values_are_bounded_per_name(registry: CollectorRegistry) -> None:
    metrics = Metrics(registry, max_label_values=3)
    for i in range(10):
        metrics.count_request(f"tenant-{i}", "m", Action.ALLOW)
    metrics.count_request("tenant-1", "m", Action.ALLOW)  # already seen: keeps its own series
    s = _samples(registry)
    tenants = {dict(labels)["tenant"]: v for (name, labels), v in s.items()
               if name == "primum_requests_total"}
    assert tenants == {"tenant-0": 1, "tenant-1": 2, "tenant-2": 1, "other": 7}


def test_exposition_carries_no_text(metrics: Metrics, registry: CollectorRegistry) -> None:
    metrics.observe_decision(_record())
    body, _ = render_latest(registry)
    assert b"hurt a named person" not in body and b"exceeded 50 ms" not in body
    assert b"[PERSON]" not in body


async def test_metrics_and_store_side_by_side(registry: CollectorRegistry, tmp_path: Path) -> None:
    """A failing store write is counted and logged; the metrics still see the decision."""
    metrics = Metrics(registry)
    with AuditStore(f"sqlite:///{tmp_path / 'a.db'}", on_error=metrics.store_error) as store:
        recorder = MultiRecorder([store, metrics])
        await recorder.record_decision(_record())
        await recorder.open_case(_case())
        await recorder.open_case(_case())  # same case id: the store refuses it
        assert store.count_decisions() == 1
    s = _samples(registry)
    assert _value(s, "primum_store_errors_total", operation="open_case") == 1
    assert _value(s, "primum_escalations_total", rule="harm-review") == 2
    assert _value(s, "primum_decisions_total", stage="input", action="block",
                  policy="default") == 1


# --------------------------------------------------------------------- multiprocess
def test_single_process_mode_here() -> None:
    """The test process itself runs without PROMETHEUS_MULTIPROC_DIR."""
    assert not multiprocess_enabled()
    with pytest.raises(RuntimeError, match="before prometheus_client is first imported"):
        metrics_registry("/tmp")


def test_prepare_multiproc_dir_removes_only_metric_files(tmp_path: Path) -> None:
    d = tmp_path / "prom"
    assert prepare_multiproc_dir(d) == d and d.is_dir()
    (d / "counter_123.db").write_bytes(b"stale")
    (d / "gauge_livemax_123.db").write_bytes(b"stale")
    (d / "notes.txt").write_text("keep me")
    prepare_multiproc_dir(d)
    assert sorted(p.name for p in d.iterdir()) == ["notes.txt"]


_WORKER = """
import sys
from datetime import UTC, datetime
from guard.metrics import Metrics, metrics_registry
from guard.recording import DecisionRecord
from guard.types import Action, Finding, Stage, Verdict

directory, n, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
metrics = Metrics(metrics_registry(directory))
verdict = Verdict(action=Action.BLOCK, stage=Stage.INPUT, policy_id="default",
                  policy_version="3", findings=(Finding(check="ama", category="harm", score=1.0),),
                  latency_ms={"ama": 2.0})
record = DecisionRecord(request_id="r", time=datetime.now(UTC), tenant="clinic-a", model="m",
                        stage=Stage.INPUT, verdict=verdict)
for _ in range(n):
    metrics.count_request("clinic-a", "m", Action.BLOCK)
    metrics.observe_decision(record)
metrics.set_ready(ready)
"""

_SCRAPER = """
import json, sys
from guard.metrics import metrics_registry, render_latest, worker_exited
directory = sys.argv[1]
for pid in sys.argv[2:]:
    worker_exited(int(pid), directory)
body, content_type = render_latest(metrics_registry(directory))
print(json.dumps({"content_type": content_type, "body": body.decode()}))
"""


def _run(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done


def _scrape(env: dict[str, str], directory: Path, *dead: int) -> Samples:
    out = json.loads(_run(_SCRAPER, env, str(directory), *map(str, dead)).stdout)
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(out["body"])
        for s in family.samples
    }


def test_workers_are_summed_across_processes(tmp_path: Path) -> None:
    directory = prepare_multiproc_dir(tmp_path / "prom")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory),
           "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(directory), str(n), ready],
                         cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for n, ready in ((3, "1"), (4, "0"))
    ]
    for w in workers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err

    s = _scrape(env, directory)
    assert _value(s, "primum_requests_total", tenant="clinic-a", model="m", action="block") == 7
    assert _value(s, "primum_decisions_total", stage="input", action="block",
                  policy="default") == 7
    assert _value(s, "primum_findings_total", check="ama", category="harm", stage="input",
                  action="block") == 7
    assert _value(s, "primum_check_seconds_count", check="ama", stage="input") == 7
    assert _value(s, "primum_check_seconds_bucket", check="ama", stage="input", le="0.0025") == 7
    # primum_ready is the max over live workers; once the ready worker exits, it drops.
    assert _value(s, "primum_ready") == 1
    s = _scrape(env, directory, workers[0].pid)
    assert _value(s, "primum_ready") == 0
    assert _value(s, "primum_requests_total", tenant="clinic-a", model="m", action="block") == 7

    # A mismatched directory is refused rather than serving an empty /metrics.
    mismatch = _run("""
import sys
from guard.metrics import metrics_registry
try:
    metrics_registry(sys.argv[1])
except RuntimeError as exc:
    print(exc)
""", env, str(tmp_path))
    assert "PROMETHEUS_MULTIPROC_DIR is" in mismatch.stdout
