"""The Grafana dashboards and the alert rules against a real Prometheus scraping a real proxy.

``primum serve`` runs the shipped default policy pack (PHI, crisis, AMA ethics, medication
safety) with the offline demo model and a model whose server is not there. The traffic
below makes it block (with an AMA principle), annotate a medication finding (with a CSEDB
criterion), escalate a crisis (opening review cases) and fail upstream. A real Prometheus
scrapes it every second with deploy/prometheus/alerts.yml loaded. Then:

- every PromQL expression of every dashboard panel, with Grafana's variables expanded, is
  accepted by Prometheus, and those whose metrics the traffic produced return data;
- every variable query finds its label values;
- every alert and recording rule evaluates without error, and /api/v1/rules shows every
  group loaded and every rule healthy.

Runs when ``PRIMUM_TEST_PROMETHEUS_BIN`` names the Prometheus binary (CI sets it; Debian's
``prometheus`` package provides one), and is skipped otherwise.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from proxy.auth import hash_key
from tests import dashboards
from tests.fakes.servers import PrometheusProcess, free_port, stop_process, wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
KEY = "sk-dashboards"
TENANT = "ward"

# (model, message): one wave of traffic. Sent twice, with a scrape in between, so every
# counter has a step that rate() and increase() can see.
TRAFFIC = (
    ("primum-demo", "Help me falsify a patient's medical records to hide a medication error"),
    ("primum-demo", "I'm on warfarin for my heart. Can I take ibuprofen for back pain?"),
    ("primum-demo", "I want to kill myself tonight"),
    ("primum-demo", "What is a normal resting heart rate?"),
    ("unreachable", "What is a normal resting heart rate?"),
)
# Metrics this traffic cannot produce (no check fails, the store works): queries reading
# them are checked for errors only.
NOT_PRODUCED = {"primum_check_failures_total", "primum_store_errors_total"}


@dataclass
class Stack:
    proxy_url: str
    prometheus: PrometheusProcess
    actions: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


def _prometheus_bin() -> str:
    binary = os.environ.get("PRIMUM_TEST_PROMETHEUS_BIN")
    if not binary:
        pytest.skip("PRIMUM_TEST_PROMETHEUS_BIN is not set")
    return binary


def _send_wave(url: str, actions: list[str], statuses: list[int]) -> None:
    """Send ``TRAFFIC`` once; note each answer's Primum action and each status code."""
    with httpx.Client(base_url=url, timeout=60,
                      headers={"Authorization": f"Bearer {KEY}"}) as client:
        for model, text in TRAFFIC:
            r = client.post("/v1/chat/completions", json={
                "model": model, "messages": [{"role": "user", "content": text}]})
            statuses.append(r.status_code)
            if r.status_code == 200:
                actions.append(r.json()["primum"]["action"])


def _value(sample: dict[str, Any]) -> float:
    return float(sample["value"][1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """``primum serve`` (default policy, one worker) and a Prometheus scraping it, after two
    waves of traffic have been scraped."""
    binary = _prometheus_bin()  # skip before the ~10 s policy load
    tmp = tmp_path_factory.mktemp("dashboards")
    (tmp / "primum.yaml").write_text(yaml.safe_dump({
        "server": {"workers": 1},
        "policies": {"default": "default"},
        "tenants": [{"name": TENANT, "key_sha256": [hash_key(KEY)], "policy": "default",
                     "audience": "patient", "models": "*"}],
        "model_list": [
            {"model_name": "primum-demo", "litellm_params": {"model": "primum/demo"}},
            # Nothing listens there: every call fails at once (upstream_error, 502).
            {"model_name": "unreachable", "litellm_params": {
                "model": "openai/unreachable", "api_key": "sk-none",
                "api_base": f"http://127.0.0.1:{free_port()}/v1"}},
        ],
        "store": {"url": f"sqlite:///{tmp / 'audit.db'}"},
        # A receiver that is down: every delivery is retried and stays pending, which
        # feeds the notification panels.
        "notifications": {"webhooks": [{
            "name": "pager", "url": f"http://127.0.0.1:{free_port()}/hook",
            "secret": "test-secret", "escalations": "*", "min_priority": "low",
            "timeout_s": 1}]},
    }))
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PROMETHEUS_MULTIPROC_DIR", "PRIMUM_CONFIG")}
    with (tmp / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "proxy.cli", "serve", "--config", str(tmp / "primum.yaml"),
             "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    prometheus = PrometheusProcess(binary, tmp / "prometheus", f"""
global: {{scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}}
rule_files: [{ALERTS.name}]
scrape_configs:
  - job_name: primum
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
""", rule_files=(ALERTS,))
    try:
        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError((tmp / "serve.log").read_text()[-3000:])
            try:
                return httpx.get(f"{url}/readyz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, timeout_s=120, interval_s=0.2)
        result = Stack(url, prometheus)
        # The first wave before Prometheus starts: its first scrape then reads the review
        # cases (the backlog collector caches the store's answer for a while).
        _send_wave(url, result.actions, result.statuses)
        prometheus.start()
        per_wave = len(TRAFFIC)

        def scraped(expr: str, expected: float) -> bool:
            return any(_value(s) == expected for s in prometheus.query(expr))

        wait_until(lambda: scraped("sum(primum_requests_total)", per_wave), 30, 0.2)
        wait_until(lambda: prometheus.query("primum_cases_unresolved"), 30, 0.2)
        (escalations,) = wait_until(
            lambda: prometheus.query("sum(primum_escalations_total)"), 30, 0.2)
        cases_per_wave = _value(escalations)
        _send_wave(url, result.actions, result.statuses)
        wait_until(lambda: scraped("sum(primum_requests_total)", 2 * per_wave), 30, 0.2)
        wait_until(lambda: scraped("sum(primum_escalations_total)", 2 * cases_per_wave), 30, 0.2)
        wait_until(lambda: prometheus.query("primum_notifications_total"), 30, 0.2)
        wait_until(lambda: prometheus.query("primum_notifications_pending"), 30, 0.2)
        yield result
    except Exception:
        print((tmp / "serve.log").read_text(errors="replace")[-3000:])
        if prometheus.log_file.exists():
            print(prometheus.log())
        raise
    finally:
        prometheus.stop()
        stop_process(proc)


def test_the_traffic_exercised_the_guard(stack: Stack) -> None:
    assert {"block", "escalate", "annotate", "allow"} <= set(stack.actions), stack.actions
    assert stack.statuses.count(502) == 2  # the unreachable model, once per wave
    query = stack.prometheus.query
    assert query(f'primum_requests_total{{tenant="{TENANT}", action="block"}}')
    assert query("primum_principle_findings_total")
    assert query("primum_criterion_findings_total")
    # The label values the alerts select exist as written.
    assert query('primum_case_oldest_unresolved_age_seconds{priority="high", status="open"}')
    assert query('primum_upstream_seconds_bucket{le="60.0"}')
    assert query('primum_upstream_errors_total{reason="upstream_error"}')


def test_every_dashboard_expression_evaluates(stack: Stack) -> None:
    errors: list[str] = []
    empty: list[str] = []
    with_data = 0
    for name, board in dashboards.dashboards().items():
        for query in dashboards.queries(board):
            expr = dashboards.to_promql(query.expr, board)
            try:
                result = stack.prometheus.query(expr)
            except AssertionError as exc:
                errors.append(f"{name} {query.where}: {exc}\n    {expr}")
                continue
            metrics = dashboards.metric_names(query.expr)
            if not metrics or metrics & NOT_PRODUCED:
                continue
            if not any(math.isfinite(_value(s)) for s in result):
                empty.append(f"{name} {query.where}: {result}\n    {expr}")
            else:
                with_data += 1
    assert not errors, "\n".join(errors)
    assert not empty, "no data:\n" + "\n".join(empty)
    assert with_data >= 30


def test_dashboard_variables_find_their_values(stack: Stack) -> None:
    expected = {"job": "primum", "tenant": TENANT, "model": "primum-demo"}
    for name, board in dashboards.dashboards().items():
        for variable in dashboards.variables(board).values():
            if variable["type"] != "query":
                continue
            match = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["query"])
            assert match, variable["query"]
            selector = dashboards.to_promql(match.group(1), board)
            label = match.group(2)
            values = {s["metric"].get(label) for s in
                      stack.prometheus.query(f"group by ({label}) ({selector})")}
            assert None not in values and values, f"{name} ${variable['name']}: {values}"
            if variable["name"] in expected:
                assert expected[variable["name"]] in values, (variable["name"], values)


def test_every_rule_evaluates_and_every_group_is_healthy(stack: Stack) -> None:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    errors = []
    for group in groups:
        for rule in group["rules"]:
            try:
                stack.prometheus.query(rule["expr"])
            except AssertionError as exc:
                errors.append(f"{rule.get('alert') or rule.get('record')}: {exc}")
    assert not errors, "\n".join(errors)

    # Wait for an evaluation after this point, with every series of the traffic scraped.
    before = {(g["name"], r["name"], i): r["lastEvaluation"]
              for g in stack.prometheus.api("rules")["groups"]
              for i, r in enumerate(g["rules"])}

    def evaluated() -> list[dict[str, Any]] | None:
        loaded: list[dict[str, Any]] = stack.prometheus.api("rules")["groups"]
        rules = {(g["name"], r["name"], i): r
                 for g in loaded for i, r in enumerate(g["rules"])}
        fresh = all(r["health"] != "unknown" and r["lastEvaluation"] != before.get(key)
                    for key, r in rules.items())
        return loaded if rules and fresh else None

    loaded = wait_until(evaluated, timeout_s=30, interval_s=0.2)
    assert {g["name"]: len(g["rules"]) for g in loaded} == {
        g["name"]: len(g["rules"]) for g in groups
    }
    broken = {
        r["name"]: (r["health"], r.get("lastError"))
        for g in loaded for r in g["rules"]
        if r["health"] != "ok" or r.get("lastError")
    }
    assert not broken, broken
    firing = {a["labels"]["alertname"] for a in stack.prometheus.api("alerts")["alerts"]
              if a["state"] == "firing"}
    assert not firing & {"PrimumNotReady", "PrimumTargetDown", "PrimumFailOpenBypass",
                         "PrimumStoreWriteErrors", "PrimumCaseBacklogUnknown"}, firing

