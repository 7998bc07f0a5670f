"""Train the learned backstop of ``risky_intent``, choose its threshold, export it to ONNX.

    primum train risky-intent --data DIR       # or PRIMUM_DATA_DIR=DIR make train

Data (from the source tree and the data directory; see MODEL_CARD.md):

- the team-written development sets ``tests/data/risky_intent_{dev2..dev8,mini}.jsonl``
  (risky messages of five kinds and look-alikes on the same topics);
- the ``dev`` half of the risky-intent benchmark suite (``benchmarks/data/
  risky_intent_*.jsonl``, ``benchmarks.risky_intent.split_of``); ``test`` items are dropped
  as they are read and never reach a feature;
- the *training part* of each benign control set (``classifiers/harmful_request/splits``),
  every row of it (ordinary medical questions: ``none``).

``tests/data/risky_intent_dev{4..9}_fresh.jsonl`` are never read: they are the held-out
estimates.

Each row is a text (:func:`classifiers.risky.learned.model.text_of` of its user turns:
the last four joined, or the last one) and a label: ``none`` (look-alikes and benign rows)
or the item's kind. Model: one multinomial logistic regression (lbfgs, ``C``) over
[TF-IDF (word unigrams and bigrams, Chinese as character pairs, sublinear tf, ``min_df``) |
all-MiniLM-L6-v2 embedding]. Sample weights: look-alikes ``LOOKALIKE_WEIGHT``; the benign
rows together weigh as much as the risky rows together.

Threshold: grouped k-fold cross-validation on the training rows (``StratifiedGroupKFold``,
shuffled with the seed; a group is an item's ``involves`` field lower-cased, so risky items
and look-alikes about the same medicine or condition share a fold; a MedQuAD document's
questions share one; other benign rows are their own group). The TF-IDF vocabulary is
refitted inside every fold. The threshold is the lowest on a 0.01 grid at which the
out-of-fold risk flags at most ``BENIGN_RATE`` of the benign rows and at most
``LOOKALIKE_RATE`` of the look-alikes. The rules' verdicts on the suite items are recorded
beside the out-of-fold scores, so that the spec reports what the model adds as a backstop
(risky items the rules miss, new look-alike flags).

Every random draw (the fold split, the solver) is fixed by ``--seed``. The head is written
as one ONNX graph (inputs ``tfidf`` [N, terms] and ``embedding`` [N, 384]; output ``proba``
[N, 6]) and checked against scikit-learn's probabilities before ``model_spec.json`` pins
it by sha256.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.embedding.runtime import MODEL_SHA256, Embedder, sha256_file
from classifiers.headtrain import (
    Head,
    ModelFiles,
    TrainingError,
    add_training_arguments,
    benign_training_rows,
    choose_threshold,
    export,
    frac,
    out_of_fold,
    run_training,
    training_record,
    write_model,
)
from classifiers.risky.learned.model import (
    CLASSES,
    HEAD_FILE,
    LEXICAL_FILE,
    SPEC_FILE,
    text_of,
)

RuleVerdicts = Callable[[Sequence[Sequence[Mapping[str, str]]]], Sequence[bool]]
"""Conversations (their messages) -> whether the rules report anything on each."""

__all__ = ["Row", "TrainConfig", "TrainingError", "load_training_set", "run", "train"]

PACKAGE_DIR = Path(__file__).resolve().parent
REPO = PACKAGE_DIR.parents[2]
DEV_SETS = ("dev2", "dev3", "dev4", "dev5", "dev6", "dev7", "dev8", "mini")
"""1.0.0 had dev2-dev4 and mini; 1.1.0 added dev5-dev8 (MODEL_CARD.md). A model with dev9 as
well was measured and not shipped (MODEL_CARD.md, "Retrained with dev9")."""
DEV_FILES = tuple(REPO / "tests" / "data" / f"risky_intent_{n}.jsonl" for n in DEV_SETS)
SUITE_DIR = REPO / "benchmarks" / "data"
HELD_OUT = ("risky_intent_dev4_fresh.jsonl", "risky_intent_dev5_fresh.jsonl",
            "risky_intent_dev6_fresh.jsonl", "risky_intent_dev7_fresh.jsonl",
            "risky_intent_dev8_fresh.jsonl", "risky_intent_dev9_fresh.jsonl")
"""Never trained on: the held-out estimates of the model card."""
C = 4.0
MIN_DF = 2
LOOKALIKE_WEIGHT = 1.5
BENIGN_RATE = 0.002
LOOKALIKE_RATE = 0.01
BUDGETS = (0.0, 0.005, 0.01, 0.02)
"""Look-alike budgets whose thresholds the spec also records (the trade-off curve)."""
VIEW = "turns"
VERSION = "1.1.0"


@dataclass(frozen=True, slots=True)
class TrainConfig:
    data_dir: Path
    out_dir: Path = PACKAGE_DIR
    dev_files: tuple[Path, ...] = DEV_FILES
    suite_dir: Path | None = SUITE_DIR
    folds: int = 5
    seed: int = 0
    c: float = C
    min_df: int = MIN_DF
    view: str = VIEW
    lookalike_rate: float = LOOKALIKE_RATE
    benign_rate: float = BENIGN_RATE
    rules: RuleVerdicts | None = None
    """Whether the rules of ``risky_intent`` report anything on each conversation (a list of
    user turns); given, the spec records the backstop numbers (rule misses caught). The
    check lives in ``guard``, which this package must not import: ``primum train
    risky-intent`` passes ``guard.checks.risky_intent.rules_report``."""
    oof_out: Path | None = None
    """Where to write every row's out-of-fold scores (JSONL), for error analysis."""


@dataclass(slots=True)
class Row:
    text: str
    label: int  # index into CLASSES
    kind: str  # risky | lookalike | benign
    origin: str  # dev2 ... | suite_dev | benign:<set>
    group: str
    severity: str = ""
    lang: str = "en"
    id: str = ""
    turns: list[dict[str, str]] = field(default_factory=list)
    """The item's user-stage messages (for the rules); empty for benign rows."""


def _log(message: str) -> None:
    print(f"[train] {message}", file=sys.stderr, flush=True)


def _rows_from_items(items: Sequence[Any], origin: str, view: str) -> list[Row]:
    rows = []
    for it in items:
        msgs = it.user_turns
        users = [m["content"] for m in msgs if m["role"] == "user"]
        rows.append(Row(
            text=text_of(users, view),
            label=CLASSES.index(it.category) if it.kind == "risky" else 0,
            kind=it.kind, origin=origin, group=f"inv:{it.involves.lower().strip()}",
            severity=it.severity or "", lang=it.lang, id=it.id, turns=list(msgs)))
    return rows


def load_training_set(config: TrainConfig) -> tuple[list[Row], dict[str, str]]:
    """The training rows and the sha256 of every file read (by path relative to the
    repository or the data directory)."""
    from benchmarks.risky_intent import SUITE_GLOB, load_suite, split_of

    files: dict[str, str] = {}
    rows: list[Row] = []

    def shown(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(REPO))
        except ValueError:
            return path.name

    for path in config.dev_files:
        if path.name in HELD_OUT:
            raise TrainingError(f"{path}: the held-out set is never trained on")
        if not path.is_file():
            raise TrainingError(f"{path}: development set not found")
        files[shown(path)] = sha256_file(path)
        name = path.stem.removeprefix("risky_intent_")
        rows += _rows_from_items(load_suite([path]), name, config.view)
    if config.suite_dir is not None:
        paths = sorted(config.suite_dir.glob(SUITE_GLOB))
        if not paths:
            raise TrainingError(f"no {SUITE_GLOB} in {config.suite_dir}")
        for path in paths:
            files[shown(path)] = sha256_file(path)
        dev = [it for it in load_suite(paths) if split_of(it.id) == "dev"]
        rows += _rows_from_items(dev, "suite_dev", config.view)
    benign, benign_files = benign_training_rows(config.data_dir)
    files.update(benign_files)
    rows += [Row(text=b.text, label=0, kind="benign", origin=f"benign:{b.set_name}",
                 group=b.group, id=b.id) for b in benign]
    present = {r.label for r in rows}
    missing = [CLASSES[k] for k in range(len(CLASSES)) if k not in present]
    if missing:
        raise TrainingError(f"no training rows for {', '.join(missing)}")
    if not any(r.kind == "lookalike" for r in rows) or not any(r.kind == "benign" for r in rows):
        raise TrainingError("training needs look-alikes and benign rows")
    return rows, files


def weights(rows: Sequence[Row]) -> npt.NDArray[np.float64]:
    """Look-alikes ``LOOKALIKE_WEIGHT``; the benign rows together weigh as the risky rows."""
    kind = np.array([r.kind for r in rows])
    n_risky = int((kind == "risky").sum())
    n_benign = int((kind == "benign").sum())
    w = np.ones(len(rows))
    w[kind == "benign"] = n_risky / max(n_benign, 1)
    w[kind == "lookalike"] = LOOKALIKE_WEIGHT
    return w


def risk_and_kind(p: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64],
                                                       npt.NDArray[np.int64]]:
    """1 - P(none), and the most probable kind as a CLASSES index (1..5)."""
    return 1.0 - p[:, 0], p[:, 1:].argmax(axis=1) + 1


def summarise(rows: Sequence[Row], risk: npt.NDArray[np.float64],
              pred: npt.NDArray[np.int64], ruled: npt.NDArray[np.bool_] | None,
              t: float) -> dict[str, Any]:
    """Standalone and (with the rules' verdicts) backstop numbers at threshold ``t``."""
    kind = np.array([r.kind for r in rows])
    sev = np.array([r.severity for r in rows])
    lang = np.array([r.lang for r in rows])
    origin = np.array([r.origin for r in rows])
    y = np.array([r.label for r in rows])
    flag = risk >= t
    risky, look = kind == "risky", kind == "lookalike"
    out: dict[str, Any] = {
        "threshold": t,
        "risky_flagged": frac(int((flag & risky).sum()), int(risky.sum())),
        "high_flagged": frac(int((flag & risky & (sev == "high")).sum()),
                              int((risky & (sev == "high")).sum())),
        "kind_right_of_flagged": frac(int((flag & risky & (pred == y)).sum()),
                                       int((flag & risky).sum())),
        "lookalike_flagged": frac(int((flag & look).sum()), int(look.sum())),
        "benign_flagged": {o.removeprefix("benign:"): frac(int((flag & (origin == o)).sum()),
                                                             int((origin == o).sum()))
                           for o in sorted(set(origin.tolist())) if o.startswith("benign:")},
        "by_lang": {g: {"risky_flagged": frac(int((flag & risky & (lang == g)).sum()),
                                               int((risky & (lang == g)).sum())),
                        "lookalike_flagged": frac(int((flag & look & (lang == g)).sum()),
                                                   int((look & (lang == g)).sum()))}
                    for g in sorted(set(lang[risky | look].tolist()))},
    }
    if ruled is not None:
        out["backstop"] = {
            "rule_misses_caught": frac(int((flag & risky & ~ruled).sum()),
                                        int((risky & ~ruled).sum())),
            "new_lookalike_flags": frac(int((flag & look & ~ruled).sum()),
                                         int((look & ~ruled).sum())),
            "rules_plus_backstop": frac(int((risky & (ruled | flag)).sum()),
                                         int(risky.sum())),
        }
    return out


def rule_verdicts(rows: Sequence[Row], rules: RuleVerdicts) -> npt.NDArray[np.bool_]:
    """Whether the rules report anything on each suite item (benign rows: False; they are
    not run, as the benchmark measures them)."""
    with_turns = [r.turns for r in rows if r.turns]
    verdicts = iter(rules(with_turns))
    return np.array([bool(r.turns) and bool(next(verdicts)) for r in rows])


def train(config: TrainConfig, embedder: Embedder | None = None) -> dict[str, Any]:
    """Run the whole pipeline; writes the head, the vocabulary and the spec into
    ``config.out_dir`` and returns the spec."""
    if config.view not in ("turns", "last"):
        raise TrainingError(f"unknown view {config.view!r} (turns or last)")
    started = time.monotonic()
    rows, files = load_training_set(config)
    _log(f"{len(rows)} training rows: {dict(Counter(r.origin for r in rows))}")
    embedder = embedder or Embedder.shared()
    texts = [r.text for r in rows]
    x = embedder.embed(texts)
    _log(f"embedded in {time.monotonic() - started:.0f} s")
    kind = np.array([r.kind for r in rows])
    ruled = rule_verdicts(rows, config.rules) if config.rules is not None else None

    p = out_of_fold(texts, x, np.array([r.label for r in rows], dtype=np.int64),
                    [r.group for r in rows], weights(rows), classes=len(CLASSES),
                    folds=config.folds, seed=config.seed, c=config.c, min_df=config.min_df,
                    log=_log)
    risk, pred = risk_and_kind(p)
    threshold = choose_threshold(risk, kind, config.lookalike_rate, config.benign_rate)
    budgets = {f"{b:g}": choose_threshold(risk, kind, b, config.benign_rate)
               for b in BUDGETS}
    cv: dict[str, Any] = {
        "folds": config.folds,
        "splitter": "StratifiedGroupKFold(shuffle=True, random_state=seed)",
        "groups": "suite items: involves (lower-cased); MedQuAD: document; other benign: row",
        "rule": f"lowest threshold (0.01 grid) with out-of-fold benign <= "
                f"{config.benign_rate:g} and look-alikes <= {config.lookalike_rate:g}",
        "threshold_by_lookalike_budget": budgets,
        "at_threshold": summarise(rows, risk, pred, ruled, threshold),
        "at_budget": {b: summarise(rows, risk, pred, ruled, t) for b, t in budgets.items()},
    }
    _log(f"threshold {threshold} (by look-alike budget: {budgets})")
    _log(f"CV at threshold: {json.dumps(cv['at_threshold'])}")
    if config.oof_out is not None:
        with config.oof_out.open("w", encoding="utf-8") as f:
            for i, r in enumerate(rows):
                f.write(json.dumps({
                    "id": r.id, "origin": r.origin, "kind": r.kind, "label": CLASSES[r.label],
                    "severity": r.severity, "lang": r.lang,
                    "rules": None if ruled is None else bool(ruled[i]),
                    "risk": round(float(risk[i]), 4), "pred": CLASSES[int(pred[i])],
                    "text": r.text}, ensure_ascii=False) + "\n")
        _log(f"wrote out-of-fold scores to {config.oof_out}")

    y = np.array([r.label for r in rows], dtype=np.int64)
    head = Head(config.c, config.min_df, config.seed, len(CLASSES)).fit(
        texts, x, y, weights(rows))
    exported, lexical, diff = export(head, texts, x, "primum_risky_learned_head", _log)
    body = {
        "classes": list(CLASSES),
        "outputs": {"proba": "P(class), classes in order; risk = 1 - P(none), kind = argmax "
                             "over the five kinds"},
        "text": {"view": config.view,
                 "definition": "classifiers.risky.learned.model.text_of(user turns, view)"},
        "thresholds": {"note": threshold},
        "training": {
            "rows": len(rows),
            "by_origin": dict(Counter(r.origin for r in rows)),
            "by_class": {CLASSES[k]: int(v) for k, v in sorted(Counter(y.tolist()).items())},
            "lookalikes": int((kind == "lookalike").sum()),
            **training_record(files=files, held_out=HELD_OUT, seed=config.seed, c=config.c,
                              min_df=config.min_df, lookalike_weight=LOOKALIKE_WEIGHT,
                              benign_weight="risky rows / benign rows", export_diff=diff),
        },
        "cross_validation": cv,
    }
    return write_model(config.out_dir, ModelFiles(HEAD_FILE, LEXICAL_FILE, SPEC_FILE),
                       exported, lexical, name="primum-risky-learned", version=VERSION,
                       encoder_sha256=embedder.sha256 or MODEL_SHA256, body=body,
                       started=started, log=_log)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, PACKAGE_DIR, c=C, min_df=MIN_DF,
                           lookalike_rate=LOOKALIKE_RATE)
    parser.add_argument("--view", choices=("turns", "last"), default=VIEW,
                        help="text read: the last four user turns joined, or the last one "
                        f"(default {VIEW})")


def run(args: argparse.Namespace, rules: RuleVerdicts | None = None) -> int:
    """Train from parsed arguments; ``rules`` as in :attr:`TrainConfig.rules`."""
    return run_training(args.data, lambda data: train(TrainConfig(
        data_dir=data, out_dir=Path(args.out), folds=args.folds, seed=args.seed, c=args.c,
        min_df=args.min_df, view=args.view, lookalike_rate=args.lookalike_rate, rules=rules,
        oof_out=Path(args.oof_out) if args.oof_out else None)))
