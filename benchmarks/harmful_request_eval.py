"""Score an evaluation set through the check's own path: per group, the share of rows at
or above the block threshold.

    python -m benchmarks.harmful_request_eval \
        classifiers/harmful_request/data/eval_writing_tasks.jsonl
    python -m benchmarks.harmful_request_eval --spec candidate/model_spec.json FILE...

Every row is one user turn (``text``, ``label``, ``group``, optional ``lang``). Each is
scored as the ``harmful_request`` check scores it: every view of the turn
(``guard.checks.harmful_request.units_for``: the text, its de-obfuscated form and the
request inside a jailbreak framing), highest score kept. This is how the dev numbers in
MODEL_CARD.md were measured; the evaluation sets are never trained on.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from classifiers.harmful_request.model import HarmfulRequestModel
from guard.checks.harmful_request import units_for
from guard.types import Segment

__all__ = ["Scored", "main", "score_rows", "summarise"]


@dataclass(frozen=True)
class Scored:
    row: dict[str, object]
    score: float
    view: str


def score_rows(model: HarmfulRequestModel, rows: Iterable[dict[str, object]]) -> list[Scored]:
    out = []
    for row in rows:
        units = units_for([Segment(text=str(row["text"]), role="user", message_index=0)])
        scores = model.requests([u.text for u in units]).harmful
        best = max(range(len(units)), key=lambda i: float(scores[i]))
        out.append(Scored(row, float(scores[best]), units[best].view))
    return out


def summarise(scored: Sequence[Scored], block: float) -> list[tuple[str, int, int]]:
    """``(name, flagged, rows)`` per group, then per label (``all benign``, ``all harmful``)."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for s in scored:
        flagged = s.score >= block
        groups[str(s.row.get("group", "-"))].append(flagged)
        groups[f"all {s.row['label']}"].append(flagged)
    order = sorted(groups, key=lambda name: (name.startswith("all "), name))
    return [(name, sum(groups[name]), len(groups[name])) for name in order]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.harmful_request_eval",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--spec", type=Path, default=None,
                        help="model_spec.json of the model to score (default: the shipped one)")
    parser.add_argument("--block", type=float, default=None,
                        help="threshold (default: the spec's block threshold)")
    args = parser.parse_args(argv)
    model = HarmfulRequestModel.shared() if args.spec is None else HarmfulRequestModel(
        spec_path=args.spec)
    block = args.block if args.block is not None else float(model.spec.thresholds["block"])
    for path in args.files:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]
        print(f"{path.name}: {model.spec.version}, block {block:g}")
        for name, flagged, n in summarise(score_rows(model, rows), block):
            print(f"  {name:24s} {flagged:4d}/{n:<4d} {100 * flagged / n:5.1f}% at or above block")
    return 0


if __name__ == "__main__":
    sys.exit(main())
