"""Medication safety: dangerous doses and combinations caught, safe look-alikes and real
medication questions left alone.

    primum bench medication [--data DIR] [--policy medication-safety]
        [--out benchmarks/results/medication.md] [--limit-benign N]

The guard is built as users build it (``AsyncGuard.from_policy``, one per audience) and each
case goes through the stage it is written for: input cases as a conversation, output cases
as the conversation plus the answer under test. Measured:

- the team-written scenario suite (``benchmarks/data/medication_cases_*.jsonl``): dangerous
  cases flagged (a finding in a dangerous category at the case's stage) and safe look-alikes
  flagged as dangerous, overall, per type, stage, language and audience, with Wilson 95%
  intervals, and the policy action each got. The suite is split in two halves by a hash of
  the case id: ``dev`` (looked at while the rules were written) and ``test`` (not looked at);
  both are reported, so the gap between them is visible;
- real medication questions from the benign sets in ``--data`` (MedQuAD's MedlinePlus drug
  questions, HealthSearchQA, GenMedGPT patient messages) that name a drug in the knowledge
  base: block+escalate rate (target <= 1%), annotate and clarify rates, flagged-dangerous rate;
- latency of the check alone per message (median, p99), one message at a time.

Output: markdown at ``--out``, JSON and a PNG plot beside it. Every number is computed by the
run; the report starts with the command that made it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import shlex
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.stats import hash_half, wilson
from classifiers.medication.assess import CATEGORIES
from classifiers.medication.extract import DrugMatcher
from classifiers.medication.kb import DrugKB
from guard.build import resolve_policy
from guard.checks.medication import MedicationCheck
from guard.sdk import AsyncGuard
from guard.types import Context, Segment, Stage

SUITE_GLOB = "medication_cases_*.jsonl"
DANGEROUS = frozenset(c for c, (_, danger) in CATEGORIES.items() if danger)
TYPES = ("dose", "unit", "frequency", "interaction", "pregnancy", "lactation", "renal",
         "hepatic", "age", "allergy")
BENIGN_FILES = {
    "medquad": ("benign/medquad.jsonl", "question"),
    "healthsearchqa": ("benign/healthsearchqa_dev.jsonl", "question"),
    "genmedgpt": ("benign/genmedgpt_patient_dev.jsonl", "text"),
}


DEV_ONLY_PREFIXES = ("MC-",)
"""Cases written as a second development set (``medication_cases_c.jsonl``): all dev."""


def split_of(case_id: str) -> str:
    """'dev' or 'test', fixed by the id: half of the first sets was never looked at."""
    if case_id.startswith(DEV_ONLY_PREFIXES):
        return "dev"
    return hash_half(case_id)


@dataclass(frozen=True)
class Case:
    id: str
    label: str
    type: str
    stage: str
    audience: str
    lang: str
    messages: list[dict[str, str]]
    response: str | None
    source: str

    @property
    def split(self) -> str:
        return split_of(self.id)


def load_suite(paths: Iterable[Path]) -> list[Case]:
    cases: list[Case] = []
    seen: set[str] = set()
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            missing = [k for k in ("id", "label", "type", "stage", "audience", "messages")
                       if k not in row]
            if missing:
                raise ValueError(f"{path}:{n}: missing field(s) {', '.join(missing)}")
            if row["id"] in seen:
                raise ValueError(f"{path}:{n}: duplicate case id {row['id']}")
            seen.add(row["id"])
            if row["label"] not in ("dangerous", "safe") or row["stage"] not in ("input",
                                                                                 "output"):
                raise ValueError(f"{path}:{n}: bad label or stage")
            if row["stage"] == "output" and not row.get("response"):
                raise ValueError(f"{path}:{n}: an output case needs a response")
            if not row.get("source"):
                raise ValueError(f"{path}:{n}: a case needs its clinical source")
            cases.append(Case(row["id"], row["label"], row["type"], row["stage"],
                              row["audience"], row.get("lang", "en"), row["messages"],
                              row.get("response"), row["source"]))
    return cases


@dataclass(frozen=True)
class Outcome:
    case: Case
    flagged: bool
    action: str
    categories: tuple[str, ...]


async def run_case(guards: Mapping[str, AsyncGuard], check: str, case: Case) -> Outcome:
    guard = guards[case.audience]
    inp = await guard.guard_input(case.messages)
    verdict = inp.verdict
    if case.stage == "output":
        verdict = (await guard.guard_output(case.response or "", input=inp)).verdict
    found = [f for f in verdict.findings if f.check == check]
    flagged = any(f.category in DANGEROUS for f in found)
    return Outcome(case, flagged, verdict.action.value, tuple(sorted({f.category for f in found})))


def rate(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    k = sum(o.flagged for o in outcomes)
    n = len(outcomes)
    lo, hi = wilson(k, n)
    return {"flagged": k, "n": n, "rate": k / n if n else 0.0, "ci95": [lo, hi]}


def benign_questions(data: Path, matcher: DrugMatcher, limit: int | None
                     ) -> dict[str, list[str]]:
    """Rows of the benign sets that name a drug in the knowledge base."""
    out: dict[str, list[str]] = {}
    for name, (rel, field) in BENIGN_FILES.items():
        path = data / rel
        if not path.is_file():
            continue
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]
        rows.sort(key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())
        texts = [r[field] for r in rows if any(m.drug for m in matcher.find(r[field]))]
        out[name] = texts[:limit] if limit else texts
    return out


async def run_benign(guard: AsyncGuard, check: str, texts: Sequence[str]) -> dict[str, Any]:
    actions: Counter[str] = Counter()
    dangerous = 0
    examples: list[str] = []
    for text in texts:
        verdict = (await guard.guard_input([{"role": "user", "content": text}])).verdict
        actions[verdict.action.value] += 1
        found = [f for f in verdict.findings if f.check == check]
        if any(f.category in DANGEROUS for f in found):
            dangerous += 1
            if len(examples) < 8:
                cats = ", ".join(sorted({f.category for f in found}))
                examples.append(f"{text[:140]} -> {cats}")
    n = len(texts)
    stopped = actions["block"] + actions["escalate"]
    return {"n": n, "actions": dict(actions), "block_escalate": stopped,
            "block_escalate_rate": stopped / n if n else 0.0,
            "annotate_rate": actions["annotate"] / n if n else 0.0,
            "clarify_rate": actions["clarify"] / n if n else 0.0,
            "dangerous": dangerous, "dangerous_rate": dangerous / n if n else 0.0,
            "examples": examples}


def latency(check: MedicationCheck, texts: Sequence[str]) -> dict[str, float]:
    times: list[float] = []
    ctx = Context(stage=Stage.INPUT)
    check.assessor.analyse.cache_clear()
    for text in texts:
        segments = [Segment(text, "user", 0)]
        start = time.perf_counter()
        check.scan(segments, ctx)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"n": len(times), "p50_ms": statistics.median(times),
            "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
            "mean_ms": statistics.fmean(times)}


def group(outcomes: Sequence[Outcome], key: Any) -> dict[str, dict[str, Any]]:
    buckets: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        buckets[key(o)].append(o)
    return {k: rate(v) for k, v in sorted(buckets.items())}


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label in ("dangerous", "safe"):
        subset = [o for o in outcomes if o.case.label == label]
        out[label] = {
            "all": rate(subset),
            "by_split": group(subset, lambda o: o.case.split),
            "by_type": group(subset, lambda o: o.case.type),
            "by_stage": group(subset, lambda o: o.case.stage),
            "by_lang": group(subset, lambda o: o.case.lang),
            "by_audience": group(subset, lambda o: o.case.audience),
            "actions": dict(Counter(o.action for o in subset)),
        }
    return out


def _pct(r: Mapping[str, Any]) -> str:
    lo, hi = r["ci95"]
    return f"{100 * r['rate']:.1f}% ({r['flagged']}/{r['n']}; 95% CI {100 * lo:.1f}-{100 * hi:.1f})"


def report(result: Mapping[str, Any], misses: Sequence[Outcome], plot: str | None) -> str:
    s = result["suite"]
    d, f = s["dangerous"], s["safe"]
    lines = [
        "# Medication safety benchmark",
        "",
        f"Command: `{result['command']}`  ",
        f"Run: {result['time']} on {result['machine']}; policy {result['policy']}; "
        f"knowledge base {result['kb']['version']} ({result['kb']['drugs']} drugs, "
        f"{result['kb']['interactions']} interaction entries covering "
        f"{result['kb']['pairs']} drug pairs).",
        "",
        "## Targets",
        "",
        "| target | result | |",
        "|---|---|---|",
        f"| dangerous cases flagged >= 95% | {_pct(d['all'])} | "
        f"{'PASS' if d['all']['rate'] >= 0.95 else 'FAIL'} |",
        f"| safe look-alikes flagged as dangerous <= 2% | {_pct(f['all'])} | "
        f"{'PASS' if f['all']['rate'] <= 0.02 else 'FAIL'} |",
    ]
    for name, b in result["benign"].items():
        lines.append(f"| {name}: medication questions blocked or escalated <= 1% | "
                     f"{100 * b['block_escalate_rate']:.2f}% ({b['block_escalate']}/{b['n']}) | "
                     f"{'PASS' if b['block_escalate_rate'] <= 0.01 else 'FAIL'} |")
    lat = result["latency"]
    lines += [
        f"| check adds <= 5 ms p50 per message | p50 {lat['p50_ms']:.2f} ms, p99 "
        f"{lat['p99_ms']:.2f} ms (n={lat['n']}) | {'PASS' if lat['p50_ms'] <= 5 else 'FAIL'} |",
        "",
    ]
    if plot:
        lines += [f"![flag rates by type]({plot})", ""]
    lines += ["## Scenario suite", "",
              "The suite was written by the team without looking at the check. `dev` (half "
              "of sets a and b by id hash, and all of set c) was looked at while the rules "
              "were written; `test` (the other half of a and b) was not.", "",
              "| | dangerous flagged | safe flagged as dangerous |", "|---|---|---|"]
    for dim in ("by_split", "by_type", "by_stage", "by_lang", "by_audience"):
        keys = sorted(set(d[dim]) | set(f[dim]))
        for k in keys:
            dr = d[dim].get(k)
            fr = f[dim].get(k)
            lines.append(f"| {dim[3:]}: {k} | {_pct(dr) if dr else '-'} | "
                         f"{_pct(fr) if fr else '-'} |")
    lines += ["", "Actions (medication-safety policy): dangerous "
              + ", ".join(f"{a} {n}" for a, n in sorted(d["actions"].items()))
              + "; safe " + ", ".join(f"{a} {n}" for a, n in sorted(f["actions"].items())),
              "", "## Real medication questions (benign sets)", "",
              "Rows of each set that name a drug in the knowledge base, as one patient message.",
              "", "| set | n | block+escalate | annotate | clarify | flagged dangerous |",
              "|---|---|---|---|---|---|"]
    for name, b in result["benign"].items():
        lines.append(f"| {name} | {b['n']} | {100 * b['block_escalate_rate']:.2f}% | "
                     f"{100 * b['annotate_rate']:.2f}% | {100 * b['clarify_rate']:.2f}% | "
                     f"{100 * b['dangerous_rate']:.2f}% |")
    for name, b in result["benign"].items():
        if b["examples"]:
            lines += ["", f"Flagged in {name} (first {len(b['examples'])}):", ""]
            lines += [f"- {e}" for e in b["examples"]]
    dev_misses = [o for o in misses if o.case.split == "dev"]
    lines += ["", f"## Dev-split errors ({len(dev_misses)}; test-split errors are counted, "
              "not listed)", ""]
    for o in dev_misses[:60]:
        lines.append(f"- {o.case.id} ({o.case.label}, {o.case.type}, {o.case.stage}): "
                     f"{', '.join(o.categories) or 'no finding'}")
    return "\n".join(lines) + "\n"


def plot_png(result: Mapping[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    s = result["suite"]
    types = [t for t in TYPES if t in s["dangerous"]["by_type"] or t in s["safe"]["by_type"]]
    dang = [100 * s["dangerous"]["by_type"].get(t, {"rate": 0})["rate"] for t in types]
    safe = [100 * s["safe"]["by_type"].get(t, {"rate": 0})["rate"] for t in types]
    fig, ax = plt.subplots(figsize=(9, 4))
    x = range(len(types))
    ax.bar([i - 0.2 for i in x], dang, width=0.4, label="dangerous flagged")
    ax.bar([i + 0.2 for i in x], safe, width=0.4, label="safe flagged as dangerous")
    ax.axhline(95, linestyle="--", linewidth=0.8)
    ax.set_xticks(list(x), types, rotation=30)
    ax.set_ylabel("%")
    ax.set_ylim(0, 105)
    ax.legend(loc="center right")
    ax.set_title("Medication check: flag rate by scenario type")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


async def main_async(args: argparse.Namespace) -> int:
    suite_paths = sorted(Path(args.suite_dir).glob(SUITE_GLOB))
    cases = load_suite(suite_paths)
    policy = resolve_policy(args.policy)
    registry = getattr(args, "registry", None)
    guards = {aud: AsyncGuard.from_policy(policy, registry=registry, audience=aud,
                                          tenant="bench")
              for aud in ("patient", "clinician")}
    for g in guards.values():
        await g.load()
    check_name = args.check
    outcomes = [await run_case(guards, check_name, c) for c in cases]
    misses = [o for o in outcomes if o.flagged != (o.case.label == "dangerous")]

    kb = DrugKB.shared()
    matcher = DrugMatcher(kb)
    data = Path(args.data or os.environ.get("PRIMUM_DATA_DIR", "../shared/data"))
    benign_sets = benign_questions(data, matcher, args.limit_benign)
    benign = {name: await run_benign(guards["patient"], check_name, texts)
              for name, texts in benign_sets.items()}
    check = MedicationCheck("medication", frozenset({Stage.INPUT}))
    sample = [t for texts in benign_sets.values() for t in texts][:2000]
    sample += [c.messages[-1]["content"] for c in cases if c.stage == "input"]
    result: dict[str, Any] = {
        "command": command_line(args, data),
        "time": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}",
        "policy": f"{guards['patient'].policy.id} {guards['patient'].policy.version}",
        "kb": {"version": kb.version, "drugs": len(kb.drugs),
               "interactions": len(kb.interactions), "pairs": kb.pair_count()},
        "suite_files": [p.name for p in suite_paths],
        "suite": summarise(outcomes),
        "benign": benign,
        "latency": latency(check, sample),
        "errors": [{"id": o.case.id, "split": o.case.split, "label": o.case.label,
                    "type": o.case.type, "stage": o.case.stage, "categories": o.categories}
                   for o in misses],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    png = out.with_suffix(".png")
    plotted = plot_png(result, png)
    out.write_text(report(result, misses, png.name if plotted else None), encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(result, indent=1, ensure_ascii=False),
                                        encoding="utf-8")
    print(f"wrote {out}")
    d, s = result["suite"]["dangerous"]["all"], result["suite"]["safe"]["all"]
    print(f"dangerous flagged {d['flagged']}/{d['n']}, safe flagged {s['flagged']}/{s['n']}")
    return 0


def command_line(args: argparse.Namespace, data: Path) -> str:
    """The command that reproduces this run, every option spelled out."""
    parts = ["primum", "bench", "medication", "--data", str(data), "--policy", str(args.policy),
             "--check", args.check, "--suite-dir", str(args.suite_dir), "--out", str(args.out)]
    if args.limit_benign is not None:
        parts += ["--limit-benign", str(args.limit_benign)]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(main_async(args))
