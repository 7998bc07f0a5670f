"""Metrics as an operator sees them: ``primum serve`` with two uvicorn workers (a real
subprocess, PROMETHEUS_MULTIPROC_DIR prepared by the parent), and a real Prometheus
binary scraping it.

The Prometheus test runs when ``PRIMUM_TEST_PROMETHEUS_BIN`` names the binary (CI sets
it; Debian's ``prometheus`` package provides one) and is skipped otherwise.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from proxy.auth import hash_key
from tests.fakes.servers import PrometheusProcess, free_port, stop_process, wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-scrape"
REQUESTS = 24


class Served:
    def __init__(self, url: str, multiproc_dir: Path) -> None:
        self.url = url
        self.multiproc_dir = multiproc_dir
        self.answered = 0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``primum serve --workers 2`` on a free port with the demo model, a check-free policy
    (workers start fast) and its requests already made."""
    tmp = tmp_path_factory.mktemp("scrape")
    (tmp / "policy.yaml").write_text('id: scrape-test\nversion: "1"\n')
    multiproc = tmp / "metrics"
    (tmp / "primum.yaml").write_text(f"""
server: {{workers: 2}}
policies: {{scrape: policy.yaml}}
tenants:
  - {{name: scraper, key_sha256: ["{hash_key(KEY)}"], policy: scrape}}
model_list:
  - {{model_name: primum-demo, litellm_params: {{model: primum/demo}}}}
store: {{url: "sqlite:///{tmp / 'audit.db'}"}}
metrics: {{multiproc_dir: "{multiproc}"}}
""")
    multiproc.mkdir()
    (multiproc / "counter_999999.db").write_bytes(b"stale")  # a previous run's leftovers
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR",
                                                             "PRIMUM_CONFIG")}
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy.cli", "serve", "--config", str(tmp / "primum.yaml"),
         "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as c:
            def ready() -> bool:
                if proc.poll() is not None:
                    raise RuntimeError((tmp / "serve.log").read_text()[-3000:])
                try:
                    # Both workers must be ready: ask several times, on fresh connections.
                    return all(httpx.get(f"{url}/readyz").status_code == 200 for _ in range(8))
                except httpx.TransportError:
                    return False

            wait_until(ready, timeout_s=60, interval_s=0.2)
            result = Served(url, multiproc)
            for i in range(REQUESTS):
                r = httpx.post(f"{url}/v1/chat/completions",
                               headers={"Authorization": f"Bearer {KEY}"},
                               json={"model": "primum-demo",
                                     "messages": [{"role": "user", "content": f"hi {i}"}]})
                assert r.status_code == 200, r.text
                result.answered += 1
            c.get("/healthz")
            yield result
    finally:
        stop_process(proc)
        log.close()


def _requests_total(text: str) -> float:
    return sum(float(m.group(1)) for m in re.finditer(
        r'^primum_requests_total\{[^}]*tenant="scraper"[^}]*\} (\S+)$', text, re.MULTILINE))


def test_two_workers_metrics_are_summed(served: Served) -> None:
    texts = [httpx.get(f"{served.url}/metrics").text for _ in range(6)]
    # Whichever worker answers the scrape, it reports every worker's requests.
    assert {_requests_total(t) for t in texts} == {float(served.answered)}
    assert all("primum_ready 1.0" in t for t in texts)
    pids = {p.stem.rsplit("_", 1)[1] for p in served.multiproc_dir.glob("*.db")}
    assert len(pids) >= 2  # one file set per worker: both workers are writing
    assert "999999" not in pids  # the stale file was wiped before the workers started


@pytest.fixture(scope="module")
def prometheus(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = os.environ.get("PRIMUM_TEST_PROMETHEUS_BIN")
    if not binary:
        pytest.skip("PRIMUM_TEST_PROMETHEUS_BIN is not set")
    target = served.url.removeprefix("http://")
    config = f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: primum
    metrics_path: /metrics
    static_configs: [{{targets: ["{target}"]}}]
"""
    with PrometheusProcess(binary, tmp_path_factory.mktemp("prometheus"), config) as prometheus:
        yield prometheus.url


def test_real_prometheus_scrapes_the_proxy(served: Served, prometheus: str) -> None:
    def series() -> list[dict[str, object]] | None:
        try:
            r = httpx.get(f"{prometheus}/api/v1/query",
                          params={"query": 'sum(primum_requests_total{tenant="scraper"})'})
        except httpx.TransportError:
            return None
        if r.status_code != 200:
            return None
        result: list[dict[str, object]] = r.json()["data"]["result"]
        return result or None

    deadline = time.monotonic() + 30
    result = wait_until(series, timeout_s=30, interval_s=0.5)
    assert time.monotonic() < deadline
    value = result[0]["value"]
    assert isinstance(value, list) and float(value[1]) == served.answered
    up = httpx.get(f"{prometheus}/api/v1/query", params={"query": 'up{job="primum"}'}).json()
    assert up["data"]["result"][0]["value"][1] == "1"
