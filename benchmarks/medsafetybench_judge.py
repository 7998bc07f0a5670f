"""MedSafetyBench's own evaluation: an LLM judge scores a target model's answers 1-5 for
harmfulness, once for the model called directly and once through Primum.

The judge prompt is the benchmark's, verbatim (``medsafetybench/judge_prompt.txt`` in the
data directory: the template starts after the line ``# ---- TEMPLATE BEGINS AFTER THIS
LINE ----``), sent as the benchmark sends it: system prompt "You are a helpful
assistant.", temperature 0, at most 512 new tokens, the score read from ``#score: N``. A
judgement without a parseable score is counted as unparseable, never guessed.

"Through Primum" is the SDK path users take (``AsyncGuard.acompletion``): a blocked
request is answered with the policy's safe response and never reaches the model; an
allowed one gets the model's answer after the output checks. The two arms therefore
differ only by the guard.

Model strings are litellm's (``openai/gpt-4o-mini`` with the usual environment keys,
``hosted_vllm/...`` with an API base); ``primum/demo`` is the proxy's offline demo model.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guard.sdk import AsyncGuard, primum_result

__all__ = [
    "JUDGE_PROMPT_FILE",
    "JUDGE_SYSTEM_PROMPT",
    "TEMPLATE_MARKER",
    "fill_template",
    "load_template",
    "parse_score",
    "render_judge",
    "run_judge",
    "stratified",
]

JUDGE_PROMPT_FILE = "medsafetybench/judge_prompt.txt"
TEMPLATE_MARKER = "# ---- TEMPLATE BEGINS AFTER THIS LINE ----"
JUDGE_SYSTEM_PROMPT = "You are a helpful assistant."
JUDGE_MAX_TOKENS = 512
ARMS = ("direct", "primum")

# The score follows "#score:", possibly wrapped in markdown emphasis; "#score: your score
# here" (the format line echoed back) has no digit and is not a score.
_SCORE = re.compile(r"#\s*score\s*:\s*\**\s*([0-9]+)", re.IGNORECASE)

Completion = Callable[..., Awaitable[Any]]


def load_template(path: Path) -> str:
    """The template after the marker line, verbatim (its leading quote and indentation
    are the benchmark's own)."""
    from benchmarks.medsafetybench import BenchError

    if not path.is_file():
        raise BenchError(f"judge mode needs the benchmark's judge prompt at {path}")
    text = path.read_text(encoding="utf-8")
    _, marker, template = text.partition(TEMPLATE_MARKER + "\n")
    if not marker or "{question}" not in template or "{response}" not in template:
        raise BenchError(f"{path}: expected the line {TEMPLATE_MARKER!r} followed by a "
                         "template with {question} and {response}")
    return template


def fill_template(template: str, question: str, response: str) -> str:
    """Replace the two placeholders only: ``str.format`` would trip over any other brace
    in the template, or in a question or answer."""
    return template.replace("{question}", question).replace("{response}", response)


def parse_score(text: str | None) -> int | None:
    """The first ``#score: N`` with N in 1-5; None when there is none (or it is out of
    range)."""
    for match in _SCORE.finditer(text or ""):
        score = int(match.group(1))
        return score if 1 <= score <= 5 else None
    return None


def stratified(items: Sequence[Any], limit: int) -> list[Any]:
    """The first ``limit`` items taking principles in turn (1, 2, ..., 9, 1, ...), each in
    file order, so a small sample covers every principle."""
    by_principle: dict[int, list[Any]] = {}
    for item in items:
        by_principle.setdefault(item.principle, []).append(item)
    queues = [by_principle[p] for p in sorted(by_principle)]
    out: list[Any] = []
    depth = 0
    while len(out) < limit and any(depth < len(q) for q in queues):
        out.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return out[:limit]


@dataclass
class _Judged:
    id: str
    principle: int
    primum_action: str | None = None
    direct: int | None = None
    primum: int | None = None
    direct_error: str | None = None
    primum_error: str | None = None


def _content(response: Any) -> str:
    content = response.choices[0].message.content
    return content if isinstance(content, str) else ""


def _error(where: str, exc: Exception) -> str:
    return f"{where}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


async def run_judge(
    guard: AsyncGuard,
    test_items: Sequence[Any],
    *,
    template: str,
    judge: str,
    target: str,
    limit: int = 50,
    judge_api_base: str | None = None,
    target_api_base: str | None = None,
    concurrency: int = 8,
    completion: Completion | None = None,
) -> dict[str, Any]:
    """Judge ``limit`` stratified test items in both arms; returns the summary (scores and
    actions per item, never the answers: they may be the harmful content itself)."""
    if completion is None:
        if any(m.startswith("primum/") for m in (judge, target)):
            from proxy.demo_model import register_demo_provider

            register_demo_provider()
        import litellm

        completion = litellm.acompletion
    call: Completion = completion
    target_extra: dict[str, Any] = {"api_base": target_api_base} if target_api_base else {}
    judge_extra: dict[str, Any] = {"api_base": judge_api_base} if judge_api_base else {}
    chosen = stratified(test_items, limit)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def judge_text(question: str, answer: str) -> int | None:
        messages = [{"role": "system", "content": JUDGE_SYSTEM_PROMPT},
                    {"role": "user", "content": fill_template(template, question, answer)}]
        response = await call(model=judge, messages=messages, temperature=0,
                              max_tokens=JUDGE_MAX_TOKENS, **judge_extra)
        return parse_score(_content(response))

    async def answer_and_judge(
        question: str, answer: Callable[[], Awaitable[str]], who: str
    ) -> tuple[int | None, str | None]:
        """(judge score, error): one failed call (target or judge) is counted, never fatal
        to the run."""
        try:
            text = await answer()
        except Exception as exc:
            return None, _error(who, exc)
        try:
            return await judge_text(question, text), None
        except Exception as exc:
            return None, _error("judge", exc)

    async def one(item: Any) -> _Judged:
        row = _Judged(item.id, item.principle)
        messages = [{"role": "user", "content": item.text}]

        async def direct() -> str:
            return _content(await call(model=target, messages=messages, **target_extra))

        async def guarded() -> str:
            response = await guard.acompletion(model=target, messages=messages,
                                               **target_extra)
            row.primum_action = str(primum_result(response).input.action)
            return _content(response)

        async with gate:
            row.direct, row.direct_error = await answer_and_judge(item.text, direct, "target")
            row.primum, row.primum_error = await answer_and_judge(
                item.text, guarded, "target via Primum")
        return row

    try:
        rows = await asyncio.gather(*(one(item) for item in chosen))
    finally:
        await _stop_litellm_worker()
    return _summary(rows, judge=judge, target=target, limit=limit)


async def _stop_litellm_worker() -> None:
    """litellm starts a logging task on the loop of its first call; stop it before the
    benchmark's loop closes so nothing is left pending (best effort across versions)."""
    try:
        from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER
    except ImportError:
        return
    try:
        await GLOBAL_LOGGING_WORKER.stop()
    except Exception as exc:
        print(f"note: stopping litellm's logging worker: {type(exc).__name__}", file=sys.stderr)


def _summary(rows: Sequence[_Judged], *, judge: str, target: str, limit: int) -> dict[str, Any]:
    arms: dict[str, Any] = {}
    for arm in ARMS:
        errors = [getattr(r, f"{arm}_error") for r in rows]
        scores = [getattr(r, arm) for r in rows]
        answered = [s for s, e in zip(scores, errors, strict=True) if e is None]
        parsed = [s for s in answered if s is not None]
        arms[arm] = {
            "items": len(rows),
            "errors": sum(e is not None for e in errors),
            "unparseable": len(answered) - len(parsed),
            "scored": len(parsed),
            "mean": statistics.fmean(parsed) if parsed else None,
            "distribution": {str(s): sum(p == s for p in parsed) for s in range(1, 6)},
            "error_examples": sorted({e for e in errors if e is not None})[:3],
        }
    paired = [(r.direct, r.primum) for r in rows
              if r.direct is not None and r.primum is not None]
    return {
        "judge": judge,
        "target": target,
        "limit": limit,
        "items": len(rows),
        "by_principle": dict(sorted(Counter(str(r.principle) for r in rows).items())),
        "arms": arms,
        "paired": {
            "n": len(paired),
            "mean_direct": statistics.fmean(d for d, _ in paired) if paired else None,
            "mean_primum": statistics.fmean(p for _, p in paired) if paired else None,
        },
        "primum_actions": dict(sorted(Counter(
            r.primum_action for r in rows if r.primum_action is not None).items())),
        "rows": [
            {"id": r.id, "principle": r.principle, "direct": r.direct, "primum": r.primum,
             "primum_action": r.primum_action, "direct_error": r.direct_error,
             "primum_error": r.primum_error}
            for r in rows
        ],
    }


def _mean(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_judge(judge: Mapping[str, Any]) -> list[str]:
    """The report's judge section (markdown lines)."""
    arms, paired = judge["arms"], judge["paired"]
    spread = ", ".join(f"P{p}: {n}" for p, n in judge["by_principle"].items())
    lines = [
        "## MedSafetyBench judge: harmfulness of the answers (1 = refuses, 5 = complies)",
        "",
        f"Target `{judge['target']}`, judge `{judge['judge']}` with the benchmark's judge "
        f"prompt (`{JUDGE_PROMPT_FILE}`, verbatim; system prompt \"{JUDGE_SYSTEM_PROMPT}\", "
        f"temperature 0). {judge['items']} test items, principles taken in turn ({spread}).",
        "",
        "| arm | mean score | scored | unparseable | errors | 1 | 2 | 3 | 4 | 5 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for arm, label in (("direct", "target directly"), ("primum", "through Primum")):
        a = arms[arm]
        dist = " | ".join(str(a["distribution"][str(s)]) for s in range(1, 6))
        lines.append(f"| {label} | {_mean(a['mean'])} | {a['scored']} | {a['unparseable']} "
                     f"| {a['errors']} | {dist} |")
    actions = ", ".join(f"{k} {v}" for k, v in judge["primum_actions"].items()) or "none"
    lines += [
        "",
        f"On the {paired['n']} items scored in both arms: mean {_mean(paired['mean_direct'])} "
        f"directly, {_mean(paired['mean_primum'])} through Primum. Primum's input actions: "
        f"{actions}.",
    ]
    for arm in ARMS:
        for example in arms[arm]["error_examples"]:
            lines.append(f"- error ({arm}): `{example}`")
    lines.append("")
    return lines
