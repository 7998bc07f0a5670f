"""The guard's added latency per request, measured side by side.

Three paths to the same fake OpenAI-compatible upstream (a separate process on loopback),
requests interleaved so that machine noise hits all of them alike:

- ``direct``: the client calls the upstream itself (the HTTP cost alone);
- ``proxy-bare``: through the Primum proxy with a policy that has no checks (the proxy's
  own cost: HTTP hop, auth, litellm);
- ``proxy-guarded``: through the proxy with the shipped ``default`` policy (PHI + crisis
  checks on input, PHI on output, audit store and metrics).

The guard's added latency is ``proxy-guarded - proxy-bare``, per request (paired) and as
percentiles. Messages are real patient-voice questions when ``PRIMUM_DATA_DIR`` holds the
benign sets, mixed with messages carrying PHI and crisis messages (both change the path:
redaction, escalation, case writes).

    python -m benchmarks.latency --requests 1000 --out benchmarks/results/latency.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-bench-key"
UPSTREAM_REPLY = (
    "Mild dehydration often causes headaches and tiredness. Drink water steadily through the "
    "day, more in hot weather or when exercising, and watch the colour of your urine: pale "
    "yellow is a good sign. Seek care if you feel confused, faint, cannot keep fluids down, "
    "or have not passed urine for eight hours. Older adults and young children become "
    "dehydrated more quickly, so check on them often during heat waves."
)
PHI_MESSAGES = [
    "Hi, I'm Maria Lopez, DOB 03/14/1961, MRN 4471902. Can I take ibuprofen with lisinopril?",
    "My husband John Carter (phone 617-555-0199) has a rash after starting amoxicillin.",
    "Please email my lab results to sam.ortiz@example.org, member ID XHP449201337.",
]
CRISIS_MESSAGES = [
    "I have been thinking about ending my life and I don't know who to talk to.",
    "I want to take all my pills tonight so it stops.",
]
FALLBACK_MESSAGES = [
    "What are the early signs of type 2 diabetes?",
    "I've had a dry cough for three weeks, no fever. Should I see a doctor?",
    "Is it safe to take paracetamol and ibuprofen together for back pain?",
    "My 4 year old has had diarrhoea since yesterday but is drinking well. What should I do?",
    "How long does it take for a sprained ankle to heal?",
]

BARE_POLICY = """
id: bench-bare
version: "1"
description: No checks at all, to measure the proxy's own cost.
"""


def messages(n: int, seed: int) -> list[str]:
    """A reproducible mix: ~90% ordinary questions, ~7% with PHI, ~3% crisis messages."""
    rng = random.Random(seed)
    pool = list(FALLBACK_MESSAGES)
    data_dir = Path(os.environ.get("PRIMUM_DATA_DIR", ROOT.parent / "shared" / "data"))
    for name, field in (("genmedgpt_patient_dev.jsonl", "text"),
                        ("healthsearchqa_dev.jsonl", "question")):
        path = data_dir / "benign" / name
        if path.exists():
            with path.open(encoding="utf-8") as f:
                pool.extend(str(json.loads(line).get(field, "")) for line in f if line.strip())
    pool = [p for p in pool if p.strip()]
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.03:
            out.append(rng.choice(CRISIS_MESSAGES))
        elif r < 0.10:
            out.append(rng.choice(PHI_MESSAGES))
        else:
            out.append(rng.choice(pool))
    return out


def serve_upstream(port: int) -> None:
    """Run the fake upstream in this process (the benchmark starts it as a child)."""
    import uvicorn

    from tests.fakes.upstream import Behaviour, FakeUpstream

    fake = FakeUpstream()
    fake.behaviour = Behaviour(reply=UPSTREAM_REPLY)
    fake.requests = _Discard()  # keep memory flat over thousands of requests
    uvicorn.run(fake.app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class _Discard(list[Any]):
    def append(self, item: Any) -> None:
        return None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout_s} s")


def write_config(tmp: Path, upstream_port: int, policy: str, name: str) -> Path:
    from proxy.auth import hash_key

    (tmp / f"{name}.db").unlink(missing_ok=True)
    config = tmp / f"{name}.yaml"
    config.write_text(f"""
policies:
  main: {policy}
tenants:
  - name: bench
    key_sha256: ["{hash_key(KEY)}"]
    policy: main
    audience: patient
    country: US
    models: [fake]
model_list:
  - model_name: fake
    litellm_params:
      model: openai/fake
      api_base: http://127.0.0.1:{upstream_port}/v1
      api_key: sk-none
router_settings:
  num_retries: 0
store:
  url: sqlite:///{tmp / (name + '.db')}
""")
    return config


@dataclass
class Path_:
    name: str
    url: str
    headers: dict[str, str]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def run(n: int, warmup: int, seed: int) -> dict[str, Any]:
    python = sys.executable
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="primum-bench-") as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "bare.policy.yaml").write_text(BARE_POLICY)
        try:
            up_port = free_port()
            procs.append(subprocess.Popen(
                [python, "-m", "benchmarks.latency", "--serve-upstream", str(up_port)],
                cwd=ROOT, env=env))
            wait_ready(f"http://127.0.0.1:{up_port}/v1/models")
            ports = {}
            for name, policy in (("bare", str(tmp / "bare.policy.yaml")), ("guarded", "default")):
                port = free_port()
                config = write_config(tmp, up_port, policy, name)
                procs.append(subprocess.Popen(
                    [python, "-m", "proxy.cli", "serve", "--config", str(config),
                     "--port", str(port)],
                    cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                ports[name] = port
            for port in ports.values():
                wait_ready(f"http://127.0.0.1:{port}/readyz")

            auth = {"Authorization": f"Bearer {KEY}"}
            paths = [
                Path_("direct", f"http://127.0.0.1:{up_port}/v1/chat/completions", {}),
                Path_("proxy-bare", f"http://127.0.0.1:{ports['bare']}/v1/chat/completions", auth),
                Path_("proxy-guarded",
                      f"http://127.0.0.1:{ports['guarded']}/v1/chat/completions", auth),
            ]
            texts = messages(n + warmup, seed)
            timings: dict[str, list[float]] = {p.name: [] for p in paths}
            actions: dict[str, int] = {}
            with httpx.Client(timeout=30) as client:
                for i, text in enumerate(texts):
                    body = {"model": "fake", "messages": [{"role": "user", "content": text}]}
                    order = paths[:] if i % 2 == 0 else paths[::-1]
                    for p in order:
                        start = time.perf_counter()
                        r = client.post(p.url, json=body, headers=p.headers)
                        elapsed = (time.perf_counter() - start) * 1000
                        if r.status_code != 200:
                            raise RuntimeError(f"{p.name}: HTTP {r.status_code}: {r.text[:200]}")
                        if i >= warmup:
                            timings[p.name].append(elapsed)
                            if p.name == "proxy-guarded":
                                action = r.headers.get("x-primum-action", "?")
                                actions[action] = actions.get(action, 0) + 1
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    added = [g - b for g, b in zip(timings["proxy-guarded"], timings["proxy-bare"], strict=True)]
    summary = {
        name: {"p50": statistics.median(v), "p90": percentile(v, 90), "p99": percentile(v, 99),
               "mean": statistics.fmean(v)}
        for name, v in timings.items()
    }
    return {
        "requests": n,
        "warmup": warmup,
        "seed": seed,
        "summary": summary,
        "added": {
            "p50_of_difference": statistics.median(added),
            "p99_of_difference": percentile(added, 99),
            "p50_difference": summary["proxy-guarded"]["p50"] - summary["proxy-bare"]["p50"],
            "p99_difference": summary["proxy-guarded"]["p99"] - summary["proxy-bare"]["p99"],
        },
        "actions": dict(sorted(actions.items())),
    }


def report(result: dict[str, Any], command: str) -> str:
    s = result["summary"]
    a = result["added"]
    rows = "\n".join(
        f"| {name} | {v['p50']:.1f} | {v['p90']:.1f} | {v['p99']:.1f} | {v['mean']:.1f} |"
        for name, v in s.items()
    )
    actions = ", ".join(f"{k}: {v}" for k, v in result["actions"].items())
    target_p50 = "met" if a["p50_of_difference"] <= 20 else "NOT met"
    target_p99 = "met" if a["p99_difference"] <= 60 else "NOT met"
    return f"""# Guard latency

Command (from the repository root):

```sh
{command}
```

Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},
{platform.system()} {platform.release()}. {result['requests']} measured requests per path
after {result['warmup']} warm-up requests, interleaved (the order alternates every request),
one connection per path, sequential. Message mix (seed {result['seed']}): real patient
messages and health questions, ~7% with PHI, ~3% crisis messages. Actions taken on the
guarded path: {actions}.

## End-to-end latency per request (ms)

| path | p50 | p90 | p99 | mean |
|---|---|---|---|---|
{rows}

## Added by the guard (proxy-guarded minus proxy-bare, ms)

| measure | ms | target |
|---|---|---|
| median of paired per-request differences | {a['p50_of_difference']:.1f} | <= 20 ({target_p50}) |
| p50 difference | {a['p50_difference']:.1f} | |
| p99 difference | {a['p99_difference']:.1f} | <= 60 ({target_p99}) |
| p99 of paired per-request differences | {a['p99_of_difference']:.1f} | |

The guarded path runs the `default` policy: PHI (presidio + spaCy `en_core_web_sm` on the
sentences that could hold a name, medical recognizers), crisis (lexicon + MiniLM-L6 ONNX
semantic layer, most of the added time), harmful_request (sharing that embedding) and
medication on input; PHI, harmful_compliance and medication on output; and writes two
audit rows per request (SQLite) and the metrics. The bare path runs the same proxy with a
policy without checks, so the difference is the guard's own cost. These machines are
shared: compare the paths within one run, not across runs.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path,
                        default=ROOT / "benchmarks" / "results" / "latency.md")
    parser.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_upstream:
        serve_upstream(args.serve_upstream)
        return 0
    import guard  # noqa: F401  (offline settings)

    result = run(args.requests, args.warmup, args.seed)
    command = f"python -m benchmarks.latency --requests {args.requests} --seed {args.seed}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(result, command))
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    print(args.out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
