"""Each check's time on long messages: does it grow linearly with the length?

The proxy accepts messages up to 100,000 characters (``guard/messages.py``). A check whose
work per match depends on the length of the message is quadratic, and one request can then
hold a worker for minutes (critical_illness took 217 s on 48,000 characters before 0.5.1).
This benchmark runs every input and output check of a policy (``default``: all of them) on

- adversarial messages: one phrase repeated with no sentence end (a match every few
  characters, no punctuation to bound the sentence around it);
- realistic long messages: a pasted multi-paragraph note built from the team's eval rows
  (``tests/data``: critical-illness, medication and risky-intent messages, in a fixed
  shuffled order), and for the output stage a long answer built from reference answers;

at 6k, 24k and 96k characters, and reports the median of ``--runs`` runs of the check's own
synchronous scan (``check.scan``, or ``detect`` for the checks without one) and the ratio
time(96k) / time(24k): about 4 for linear work, 16 for quadratic.

    python -m benchmarks.long_inputs --out benchmarks/results/long-inputs.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guard.sdk import AsyncGuard
from guard.types import Context, Finding, Segment, Stage

ROOT = Path(__file__).resolve().parents[1]
SIZES = (6_000, 24_000, 96_000)
INPUT_PHRASES = (
    "chest pain and ",
    "no no no chest pain ",
    "stop taking insulin, use ",
    "I take 500 mg ibuprofen and ",
    "我对青霉素过敏，",
    "12 12 12 mg ",
    "k1ll",
)
OUTPUT_PHRASES = (
    "take 1000 mg acetaminophen every 4 hours and ",
    "no need to go to the ER, wait and see and ",
)
NOTE = "clinical note (eval rows)"
ANSWER = "long answer (reference answers)"
_INPUT_ROWS = ("critical_eval_6.jsonl", "medication_probe_5.jsonl", "risky_intent_dev4.jsonl")
_FALLBACK_ANSWER = (
    "Chest pain with sweating can be a heart attack: call 911 now and chew 325 mg of aspirin "
    "if you are not allergic. Do not drive yourself. Keep taking your usual medicines, and "
    "tell the paramedics about the ibuprofen 400 mg you took this morning. ")


def _user_texts() -> list[str]:
    texts: list[str] = []
    for name in _INPUT_ROWS:
        for line in (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if "text" in row:
                texts.append(row["text"])
            else:
                texts.extend(m["content"] for m in row["messages"] if m["role"] == "user")
    random.Random(7).shuffle(texts)
    return texts


def _answers() -> list[str]:
    data_dir = Path(os.environ.get("PRIMUM_DATA_DIR", ROOT.parent / "shared" / "data"))
    path = data_dir / "benign" / "genmedgpt_patient_dev.jsonl"
    if not path.exists():
        return [_FALLBACK_ANSWER]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    answers = [r["reference_answer"] for r in rows if r.get("reference_answer")]
    random.Random(7).shuffle(answers)
    return answers


def _paste(texts: list[str], size: int) -> str:
    """Paragraphs of ``texts`` (ending a sentence each) up to ``size`` characters."""
    parts: list[str] = []
    n = 0
    i = 0
    while n < size:
        text = texts[i % len(texts)].strip()
        if text[-1] not in ".!?。！？":
            text += "."
        parts.append(text)
        n += len(text) + 2
        i += 1
    return "\n\n".join(parts)[:size]


def _repeat(phrase: str, size: int) -> str:
    return (phrase * (size // len(phrase) + 1))[:size]


def _runner(check: Any, stage: Stage, text: str, fake: tuple[Finding, ...]) -> Callable[[], Any]:
    if stage is Stage.INPUT:
        segments = [Segment(role="user", text=text, message_index=0)]
        ctx = Context(stage=stage)
    else:
        # the answer to a message with an emergency and a risky plan (so that the output
        # rules of critical_illness and risky_intent run)
        segments = [Segment(role="assistant", text=text, message_index=-1)]
        ctx = Context(stage=stage, input_findings=fake, conversation=(Segment(
            role="user", text="Chest pain and sweating; I stopped my insulin, taking "
            "ibuprofen 400 mg.", message_index=0),))
    # medication keeps its analysis of a text (an LRU cache): each run starts without it
    analyse = getattr(getattr(check, "assessor", None), "analyse", None)
    clear = getattr(analyse, "cache_clear", lambda: None)
    scan = getattr(check, "scan", None)
    if scan is not None and type(check).__name__ != "CrisisCheck":
        return lambda: (clear(), scan(segments, ctx))
    return lambda: (clear(), asyncio.run(check.detect(segments, ctx)))


def measure(policy: str, runs: int, sizes: tuple[int, ...],
            only: set[str] | None) -> dict[str, Any]:
    guard = AsyncGuard.from_policy(policy)
    engine = guard.engine
    checks: dict[Stage, list[tuple[str, Any]]] = {}
    for stage in (Stage.INPUT, Stage.OUTPUT):
        for config, check in engine.checks_for(stage):
            if only and config.kind not in only:
                continue
            check.load()
            checks.setdefault(stage, []).append((config.kind, check))
    names = {kind: check.name for kind, check in checks.get(Stage.INPUT, [])}
    fake = (
        Finding(check=names.get("critical_illness", "critical_illness"),
                category="emergency.acs", score=0.95, advice="Call emergency services."),
        *(Finding(check=names.get("risky_intent", "risky_intent"), category=f"high.{kind}",
                  score=0.9, advice="x")
          for kind in ("misuse", "treatment_abandonment", "care_delay", "self_treatment",
                       "false_cure")),
    )
    users, answers = _user_texts(), _answers()
    messages = {
        Stage.INPUT: [(p, lambda size, p=p: _repeat(p, size)) for p in INPUT_PHRASES]
        + [(NOTE, lambda size: _paste(users, size))],
        Stage.OUTPUT: [(p, lambda size, p=p: _repeat(p, size)) for p in OUTPUT_PHRASES]
        + [(ANSWER, lambda size: _paste(answers, size))],
    }
    rows: list[dict[str, Any]] = []
    for stage, stage_checks in checks.items():
        for label, build in messages[stage]:
            texts = {size: build(size) for size in sizes}
            for kind, check in stage_checks:
                times: dict[int, float] = {}
                for size in sizes:
                    run = _runner(check, stage, texts[size], fake)
                    run()  # warm-up (caches, lazy loading)
                    samples = []
                    for _ in range(runs):
                        t0 = time.perf_counter()
                        run()
                        samples.append(time.perf_counter() - t0)
                    times[size] = statistics.median(samples)
                rows.append({"stage": stage.value, "message": label, "check": kind,
                             "seconds": {str(s): t for s, t in times.items()}})
                print(f"{stage.value:6} {kind:18} {label[:34]:34} " + " ".join(
                    f"{s // 1000}k:{t:.3f}s" for s, t in times.items()), flush=True)
    return {"policy": policy, "runs": runs, "sizes": list(sizes), "rows": rows}


def report(result: dict[str, Any], command: str) -> str:
    sizes = result["sizes"]
    head = " | ".join(f"{s // 1000}k (s)" for s in sizes)
    ratio = f"{sizes[-1] // 1000}k/{sizes[-2] // 1000}k" if len(sizes) > 1 else "ratio"
    lines = [
        "# Long inputs: check time against message length",
        "",
        "Command (from the repository root):",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}. Policy "
        f"`{result['policy']}`: every input and output check. Each time is the median of "
        f"{result['runs']} runs (after one warm-up run) of the check's own synchronous scan "
        "on one message of that many characters. The ratio of the two largest sizes is about "
        "4 for work linear in the length and 16 for quadratic work. These machines are "
        "shared and noisy: compare rows within one run.",
        "",
        "Messages: a phrase repeated with no sentence end (adversarial: a match every few "
        "characters and no punctuation to bound the sentence around it); a pasted clinical "
        "note of eval rows (critical-illness, medication and risky-intent messages of "
        "`tests/data`, shuffled, one paragraph each); for the output stage, a long answer of "
        "GenMedGPT reference answers. Output-stage runs answer a message with an emergency "
        "and a risky plan, so the output rules of every check run.",
        "",
    ]
    for stage in ("input", "output"):
        rows = [r for r in result["rows"] if r["stage"] == stage]
        if not rows:
            continue
        lines += [f"## {stage.capitalize()} stage", "",
                  f"| message | check | {head} | {ratio} |",
                  "|---|---|" + "---|" * (len(sizes) + 1)]
        for r in rows:
            t = [r["seconds"][str(s)] for s in sizes]
            rr = f"{t[-1] / t[-2]:.1f}" if len(t) > 1 and t[-2] > 0 else "-"
            label = r["message"] if r["message"] in (NOTE, ANSWER) else f"`{r['message']!r}` x n"
            lines.append(f"| {label} | {r['check']} | " + " | ".join(f"{x:.3f}" for x in t)
                         + f" | {rr} |")
        lines.append("")
    worst = max(result["rows"], key=lambda r: r["seconds"][str(sizes[-1])])
    lines += [
        f"Slowest at {sizes[-1] // 1000}k characters: {worst['check']} ({worst['stage']}) on "
        f"{worst['message']!r}, {worst['seconds'][str(sizes[-1])]:.2f} s. Before 0.5.1 "
        "critical_illness took 12 s on 12k and 217 s on 48k characters of `'chest pain and '`, "
        "risky_intent 32 s on 48k of `'stop taking insulin, use '`, medication 9 s on 48k of "
        "`'I take 500 mg ibuprofen and '` (quadratic: sentence and clause looked for from the "
        "start of the message for every match and unbounded without punctuation, per-scan "
        "rules searched again for every match, every cue compared with every object), and the "
        "shared normaliser 21 s on 24k of `'k1ll'` (each leet digit walked its whole word).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", default="default")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES),
                        help="comma-separated message lengths in characters")
    parser.add_argument("--check", action="append", help="only this check kind (repeat)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                        "long-inputs.md")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    result = measure(args.policy, args.runs, sizes, set(args.check) if args.check else None)
    command = f"python -m benchmarks.long_inputs --policy {args.policy} --runs {args.runs} " \
              f"--sizes {args.sizes}"
    if args.check:
        command += "".join(f" --check {c}" for c in args.check)
    command += f" --out {args.out.relative_to(ROOT) if args.out.is_absolute() else args.out}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(result, command), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
