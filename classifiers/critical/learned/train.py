"""Train the learned backstop of ``critical_illness``, choose its threshold, export it to ONNX.

    primum train critical-illness --data DIR    # or PRIMUM_DATA_DIR=DIR make train

Data (from the source tree and the data directory; see MODEL_CARD.md):

- the team-written red-flag development sets ``tests/data/critical_eval*.jsonl``: possible
  emergencies (``emergency.*``: label ``emergency``), same-day problems (``urgent.*``) and
  look-alikes on the same topics (``none``); both of the last two are label ``none``;
- the ``dev`` half of the CSEDB-aligned suite (``benchmarks/data/csedb_suite.jsonl``,
  ``benchmarks.csedb.split_of``): input-stage items that must be escalated as an emergency,
  and input-stage look-alikes; ``test`` items are dropped as they are read;
- the *training part* of each benign control set (``classifiers/harmful_request/splits``):
  ordinary medical questions, ``none``;
- the benign rows of the team's chatbot-traffic training files for the harmful-request
  classifier (``classifiers/harmful_request/data/{supplement,held_back_}*.jsonl``: greetings,
  statements with names and identifiers, writing and handover tasks, consumer and Chinese
  questions), ``none``; its evaluation files are never read.

GenMedGPT's patient messages and some team rows describe real emergencies, so benign rows on
which the red-flag rules report an emergency are left out (when the rules are given, as
``primum train`` does).

``tests/data/critical_eval_9_fresh.jsonl`` and ``critical_eval_10_mild_fresh.jsonl`` are never
read: they are the held-out estimates.

Model: one logistic regression (lbfgs, ``C``) over [TF-IDF (word unigrams and bigrams,
Chinese as character pairs, sublinear tf, ``min_df``) | all-MiniLM-L6-v2 embedding] of the
user turns (``text_of``, view ``last``). Sample weights: look-alikes ``LOOKALIKE_WEIGHT``; the
benign rows together weigh as much as the emergencies together.

Threshold: grouped k-fold cross-validation on the training rows (``StratifiedGroupKFold``,
shuffled with the seed). A development set is one group, so every out-of-fold score of a
set's rows comes from a model that never saw that set's author and round: the estimate is
for new writers, not new rows. A MedQuAD document's questions share a group; other rows are
their own. The TF-IDF vocabulary is refitted inside every fold. The threshold is the lowest
on a 0.01 grid at which the out-of-fold P(emergency) flags at most ``BENIGN_RATE`` of *each*
benign set and at most ``LOOKALIKE_RATE`` of the look-alikes. The rules' verdicts are
recorded beside the out-of-fold scores, so that the spec reports what the model adds as a
backstop (emergencies the rules miss, new look-alike flags).

Every random draw is fixed by ``--seed``. The head is one ONNX graph (inputs ``tfidf``
[N, terms] and ``embedding`` [N, 384]; output ``proba`` [N, 2]) checked against
scikit-learn's probabilities before ``model_spec.json`` pins it by sha256.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.critical.learned.model import (
    CLASSES,
    HEAD_FILE,
    LEXICAL_FILE,
    SPEC_FILE,
    text_of,
)
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

RuleVerdicts = Callable[[Sequence[Sequence[str]]], Sequence[bool]]
"""Conversations (their user turns) -> whether the red-flag rules report an emergency."""

__all__ = ["HELD_OUT", "Row", "TrainConfig", "TrainingError",
           "load_training_set", "run", "train"]

PACKAGE_DIR = Path(__file__).resolve().parent
REPO = PACKAGE_DIR.parents[2]
DEV_GLOB = "critical_eval*.jsonl"
DEV_DIR = REPO / "tests" / "data"
SUITE_FILE = REPO / "benchmarks" / "data" / "csedb_suite.jsonl"
TEAM_DIR = REPO / "classifiers" / "harmful_request" / "data"
TEAM_GLOBS = ("supplement*.jsonl", "held_back_*.jsonl")
"""Training files only: the directory's evaluation files (``dev_generalisation.jsonl``,
``eval_writing_tasks.jsonl``) match neither."""
HELD_OUT = ("critical_eval_9_fresh.jsonl", "critical_eval_10_mild_fresh.jsonl")
"""Never trained on: the held-out estimate of the model card."""
C = 4.0
MIN_DF = 2
LOOKALIKE_WEIGHT = 1.5
BENIGN_RATE = 0.005
LOOKALIKE_RATE = 0.01
BUDGETS = (0.0, 0.01, 0.02, 0.05)
"""Look-alike budgets whose thresholds the spec also records (the trade-off curve)."""
VIEW = "last"
VERSION = "1.0.0"
EMERGENCY, NONE = CLASSES.index("emergency"), CLASSES.index("none")


@dataclass(frozen=True, slots=True)
class TrainConfig:
    data_dir: Path
    out_dir: Path = PACKAGE_DIR
    dev_files: tuple[Path, ...] | None = None
    """``None``: every ``critical_eval*.jsonl`` in ``tests/data`` but the held-out set."""
    suite_file: Path | None = SUITE_FILE
    team_dir: Path | None = TEAM_DIR
    folds: int = 5
    seed: int = 0
    c: float = C
    min_df: int = MIN_DF
    lookalike_rate: float = LOOKALIKE_RATE
    benign_rate: float = BENIGN_RATE
    rules: RuleVerdicts | None = None
    """Whether the red-flag rules report an ``emergency.*`` finding on each conversation (its
    user turns). The check lives in ``guard``, which this package must not import:
    ``primum train critical-illness`` passes ``guard.checks.critical_illness.rules_report``."""
    oof_out: Path | None = None
    """Where to write every row's out-of-fold scores (JSONL), for error analysis."""


@dataclass(slots=True)
class Row:
    text: str
    label: int  # index into CLASSES
    kind: str  # emergency | urgent | lookalike | benign
    origin: str  # critical_eval_8 ... | suite_dev | benign:<set> | benign:team
    group: str
    lang: str = "en"
    id: str = ""
    turns: tuple[str, ...] = ()
    """The user turns (for the rules)."""


def _log(message: str) -> None:
    print(f"[train] {message}", file=sys.stderr, flush=True)


def dev_files(config: TrainConfig) -> tuple[Path, ...]:
    if config.dev_files is not None:
        return config.dev_files
    return tuple(p for p in sorted(DEV_DIR.glob(DEV_GLOB)) if p.name not in HELD_OUT)


def _dev_rows(path: Path) -> list[Row]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        r = json.loads(line)
        expected, text = r.get("expected"), r.get("text")
        if not isinstance(expected, str) or not isinstance(text, str) or not text.strip():
            raise TrainingError(f"{path}:{n}: needs text and expected")
        kind = ("emergency" if expected.startswith("emergency.") else
                "urgent" if expected.startswith("urgent.") else "lookalike")
        rows.append(Row(text=text, label=EMERGENCY if kind == "emergency" else NONE,
                        kind=kind, origin=path.stem, group=f"set:{path.stem}",
                        lang=str(r.get("lang", "en")), id=str(r.get("id", n)), turns=(text,)))
    return rows


def _suite_rows(path: Path) -> list[Row]:
    from benchmarks.csedb import load_suite, split_of

    rows = []
    for it in load_suite([path]):
        if split_of(it.id) != "dev" or it.stage != "input":
            continue
        if it.kind == "high_risk" and "emergency." not in it.expect.must_categories_prefix:
            continue
        users = tuple(m["content"] for m in it.messages if m["role"] == "user")
        kind = "emergency" if it.kind == "high_risk" else "lookalike"
        rows.append(Row(text=text_of(users, VIEW), label=EMERGENCY if kind == "emergency"
                        else NONE, kind=kind, origin="suite_dev", group=f"item:{it.id}",
                        lang=it.lang, id=it.id, turns=users))
    return rows


def _team_rows(directory: Path) -> tuple[list[Row], list[Path]]:
    paths = sorted({p for g in TEAM_GLOBS for p in directory.glob(g)})
    rows = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            r = json.loads(line)
            text = r.get("text")
            if r.get("label") != "benign" or not isinstance(text, str) or not text.strip():
                continue
            rows.append(Row(text=text, label=NONE, kind="benign", origin="benign:team",
                            group=f"team:{path.stem}", id=f"{path.stem}:{n}", turns=(text,)))
    return rows, paths


def load_training_set(config: TrainConfig) -> tuple[list[Row], dict[str, str], int]:
    """The training rows, the sha256 of every file read (by path relative to the repository
    or the data directory), and how many benign rows were left out as emergencies."""
    files: dict[str, str] = {}
    rows: list[Row] = []

    def shown(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(REPO))
        except ValueError:
            return path.name

    paths = dev_files(config)
    if not paths:
        raise TrainingError(f"no {DEV_GLOB} development sets")
    for path in paths:
        if path.name in HELD_OUT:
            raise TrainingError(f"{path}: the held-out set is never trained on")
        if not path.is_file():
            raise TrainingError(f"{path}: development set not found")
        files[shown(path)] = sha256_file(path)
        rows += _dev_rows(path)
    if config.suite_file is not None:
        if not config.suite_file.is_file():
            raise TrainingError(f"{config.suite_file}: suite not found")
        files[shown(config.suite_file)] = sha256_file(config.suite_file)
        rows += _suite_rows(config.suite_file)
    benign, benign_files = benign_training_rows(config.data_dir)
    files.update(benign_files)
    benign_rows = [Row(text=b.text, label=NONE, kind="benign", origin=f"benign:{b.set_name}",
                       group=b.group, id=b.id, turns=(b.text,)) for b in benign]
    if config.team_dir is not None:
        team, team_files = _team_rows(config.team_dir)
        files.update({shown(p): sha256_file(p) for p in team_files})
        benign_rows += team
    dropped = 0
    if config.rules is not None:
        ruled = config.rules([r.turns for r in benign_rows])
        kept = [r for r, e in zip(benign_rows, ruled, strict=True) if not e]
        dropped = len(benign_rows) - len(kept)
        benign_rows = kept
    rows += benign_rows
    if not any(r.label == EMERGENCY for r in rows):
        raise TrainingError("no emergency rows to train on")
    if not any(r.kind == "lookalike" for r in rows) or not benign_rows:
        raise TrainingError("training needs look-alikes and benign rows")
    return rows, files, dropped


def weights(rows: Sequence[Row]) -> npt.NDArray[np.float64]:
    """Look-alikes ``LOOKALIKE_WEIGHT``; the benign rows together weigh as the emergencies."""
    kind = np.array([r.kind for r in rows])
    n_pos = int((kind == "emergency").sum())
    n_benign = int((kind == "benign").sum())
    w = np.ones(len(rows))
    w[kind == "benign"] = n_pos / max(n_benign, 1)
    w[kind == "lookalike"] = LOOKALIKE_WEIGHT
    return w


def summarise(rows: Sequence[Row], p: npt.NDArray[np.float64],
              ruled: npt.NDArray[np.bool_] | None, t: float) -> dict[str, Any]:
    """Standalone and (with the rules' verdicts) backstop numbers at threshold ``t``."""
    kind = np.array([r.kind for r in rows])
    lang = np.array([r.lang for r in rows])
    origin = np.array([r.origin for r in rows])
    flag = p >= t
    em, urg, look = kind == "emergency", kind == "urgent", kind == "lookalike"

    def rates(mask: npt.NDArray[np.bool_]) -> dict[str, Any]:
        return {"emergency_flagged": frac(int((flag & em & mask).sum()), int((em & mask).sum())),
                "urgent_flagged": frac(int((flag & urg & mask).sum()), int((urg & mask).sum())),
                "lookalike_flagged": frac(int((flag & look & mask).sum()),
                                          int((look & mask).sum()))}

    out: dict[str, Any] = {
        "threshold": t,
        **rates(np.ones(len(rows), dtype=bool)),
        "benign_flagged": {o.removeprefix("benign:"): frac(int((flag & (origin == o)).sum()),
                                                            int((origin == o).sum()))
                           for o in sorted(set(origin.tolist())) if o.startswith("benign:")},
        "by_lang": {g: rates(lang == g) for g in sorted(set(lang[em | look].tolist()))},
        "by_set": {o: rates(origin == o) for o in sorted(set(origin.tolist()))
                   if not o.startswith("benign:")},
    }
    if ruled is not None:
        out["backstop"] = {
            "rule_misses_caught": frac(int((flag & em & ~ruled).sum()), int((em & ~ruled).sum())),
            "new_urgent_flags": frac(int((flag & urg & ~ruled).sum()), int((urg & ~ruled).sum())),
            "new_lookalike_flags": frac(int((flag & look & ~ruled).sum()),
                                        int((look & ~ruled).sum())),
            "new_benign_flags": frac(int((flag & (kind == "benign") & ~ruled).sum()),
                                     int(((kind == "benign") & ~ruled).sum())),
            "rules_plus_backstop": frac(int((em & (ruled | flag)).sum()), int(em.sum())),
        }
    return out


def train(config: TrainConfig, embedder: Embedder | None = None) -> dict[str, Any]:
    """Run the whole pipeline; writes the head, the vocabulary and the spec into
    ``config.out_dir`` and returns the spec."""
    started = time.monotonic()
    rows, files, dropped = load_training_set(config)
    _log(f"{len(rows)} training rows: {dict(Counter(r.origin for r in rows))}; "
         f"{dropped} benign rows left out as emergencies by the rules")
    embedder = embedder or Embedder.shared()
    texts = [r.text for r in rows]
    x = embedder.embed(texts)
    _log(f"embedded in {time.monotonic() - started:.0f} s")
    y = np.array([r.label for r in rows], dtype=np.int64)
    ruled = None
    if config.rules is not None:
        verdicts = config.rules([r.turns for r in rows if r.kind != "benign"])
        it = iter(verdicts)
        # benign rows the rules flag were left out above
        ruled = np.array([False if r.kind == "benign" else bool(next(it)) for r in rows])

    groups = {r.group for r in rows if r.label == EMERGENCY}
    if len(groups) < config.folds:
        raise TrainingError(f"emergencies come from {len(groups)} group(s) (development sets "
                            f"or suite items); {config.folds}-fold CV needs at least "
                            f"{config.folds}")
    w = weights(rows)
    oof = out_of_fold(texts, x, y, [r.group for r in rows], w, classes=len(CLASSES),
                      folds=config.folds, seed=config.seed, c=config.c, min_df=config.min_df,
                      log=_log)[:, EMERGENCY]
    kinds = np.array([r.kind for r in rows])
    sets = np.array([r.origin for r in rows])
    threshold = choose_threshold(oof, kinds, config.lookalike_rate, config.benign_rate, sets)
    budgets = {f"{b:g}": choose_threshold(oof, kinds, b, config.benign_rate, sets)
               for b in BUDGETS}
    cv: dict[str, Any] = {
        "folds": config.folds,
        "splitter": "StratifiedGroupKFold(shuffle=True, random_state=seed)",
        "groups": "a development set (author and round) and a team benign file are one "
                  "group each; suite items and other benign rows: the row; MedQuAD: the "
                  "document",
        "rule": f"lowest threshold (0.01 grid) with out-of-fold P(emergency) flagging <= "
                f"{config.benign_rate:g} of each benign set and <= {config.lookalike_rate:g} "
                "of the look-alikes",
        "threshold_by_lookalike_budget": budgets,
        "at_threshold": summarise(rows, oof, ruled, threshold),
        "at_budget": {b: summarise(rows, oof, ruled, t) for b, t in budgets.items()},
    }
    _log(f"threshold {threshold} (by look-alike budget: {budgets})")
    _log(f"CV at threshold: {json.dumps(cv['at_threshold'])}")
    if config.oof_out is not None:
        with config.oof_out.open("w", encoding="utf-8") as f:
            for i, r in enumerate(rows):
                f.write(json.dumps({
                    "id": r.id, "origin": r.origin, "kind": r.kind, "lang": r.lang,
                    "rules": None if ruled is None else bool(ruled[i]),
                    "p": round(float(oof[i]), 4), "text": r.text}, ensure_ascii=False) + "\n")
        _log(f"wrote out-of-fold scores to {config.oof_out}")

    head = Head(config.c, config.min_df, config.seed, len(CLASSES)).fit(texts, x, y, w)
    exported, lexical, diff = export(head, texts, x, "primum_critical_learned_head", _log)
    body = {
        "classes": list(CLASSES),
        "outputs": {"proba": "P(class), classes in order; P(emergency) is compared with "
                             "thresholds.emergency"},
        "text": {"view": VIEW,
                 "definition": "classifiers.pinned.text_of(user turns, view)"},
        "thresholds": {"emergency": threshold},
        "training": {
            "rows": len(rows),
            "by_origin": dict(Counter(r.origin for r in rows)),
            "by_kind": dict(Counter(r.kind for r in rows)),
            "benign_left_out_as_emergencies": dropped,
            **training_record(files=files, held_out=HELD_OUT, seed=config.seed, c=config.c,
                              min_df=config.min_df, lookalike_weight=LOOKALIKE_WEIGHT,
                              benign_weight="emergency rows / benign rows", export_diff=diff),
        },
        "cross_validation": cv,
    }
    return write_model(config.out_dir, ModelFiles(HEAD_FILE, LEXICAL_FILE, SPEC_FILE),
                       exported, lexical, name="primum-critical-learned", version=VERSION,
                       encoder_sha256=embedder.sha256 or MODEL_SHA256, body=body,
                       started=started, log=_log)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, PACKAGE_DIR, c=C, min_df=MIN_DF,
                           lookalike_rate=LOOKALIKE_RATE)
    parser.add_argument("--benign-rate", type=float, default=BENIGN_RATE,
                        help=f"budget of the threshold on each benign set ({BENIGN_RATE:g})")


def run(args: argparse.Namespace, rules: RuleVerdicts | None = None) -> int:
    """Train from parsed arguments; ``rules`` as in :attr:`TrainConfig.rules`."""
    return run_training(args.data, lambda data: train(TrainConfig(
        data_dir=data, out_dir=Path(args.out), folds=args.folds, seed=args.seed, c=args.c,
        min_df=args.min_df, lookalike_rate=args.lookalike_rate, benign_rate=args.benign_rate,
        rules=rules, oof_out=Path(args.oof_out) if args.oof_out else None)))
