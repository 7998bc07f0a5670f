"""Train the learned backstop of ``risky_intent``, choose its threshold, export it to ONNX.

    primum train risky-intent --data DIR       # or PRIMUM_DATA_DIR=DIR make train

Data (from the source tree and the data directory; see MODEL_CARD.md):

- the team-written development sets ``tests/data/risky_intent_{dev2,dev3,dev4,mini}.jsonl``
  (risky messages of five kinds and look-alikes on the same topics);
- the ``dev`` half of the risky-intent benchmark suite (``benchmarks/data/
  risky_intent_*.jsonl``, ``benchmarks.risky_intent.split_of``); ``test`` items are dropped
  as they are read and never reach a feature;
- the *training part* of each benign control set (``classifiers/harmful_request/splits``),
  every row of it (ordinary medical questions: ``none``).

``tests/data/risky_intent_dev{4,5,6}_fresh.jsonl`` are never read: they are the held-out
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
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.embedding.runtime import DIMENSION, MODEL_SHA256, Embedder, sha256_file
from classifiers.harmful_request.lexical import Lexical, LexicalMismatch, analyze
from classifiers.harmful_request.splits import BENIGN_SETS, is_training_row
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
DEV_SETS = ("dev2", "dev3", "dev4", "mini")
"""dev5 and dev6 are left out on purpose: a model trained with them (MODEL_CARD.md, "Retrained
with dev5 and dev6") chose a threshold of 0.81 and intervened on fewer risky items."""
DEV_FILES = tuple(REPO / "tests" / "data" / f"risky_intent_{n}.jsonl" for n in DEV_SETS)
SUITE_DIR = REPO / "benchmarks" / "data"
HELD_OUT = ("risky_intent_dev4_fresh.jsonl", "risky_intent_dev5_fresh.jsonl",
            "risky_intent_dev6_fresh.jsonl", "risky_intent_dev7_fresh.jsonl")
"""Never trained on: the held-out estimates of the model card."""
C = 4.0
MIN_DF = 2
LOOKALIKE_WEIGHT = 1.5
BENIGN_RATE = 0.002
LOOKALIKE_RATE = 0.01
BUDGETS = (0.0, 0.005, 0.01, 0.02)
"""Look-alike budgets whose thresholds the spec also records (the trade-off curve)."""
VIEW = "turns"
VERSION = "1.0.0"


class TrainingError(RuntimeError):
    """Training cannot run (missing data, a class without rows)."""


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
    for set_name, rel in BENIGN_SETS.items():
        path = config.data_dir / rel
        if not path.is_file():
            raise TrainingError(f"{path}: benign control set not found")
        files[rel] = sha256_file(path)
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            if not is_training_row(set_name, r["id"]):
                continue
            text = r.get("question") or r.get("text")
            if not isinstance(text, str) or not text.strip():
                continue
            group = r["id"].rsplit("-", 1)[0] if set_name == "medquad" else r["id"]
            rows.append(Row(text=text, label=0, kind="benign", origin=f"benign:{set_name}",
                            group=f"b:{group}", id=r["id"]))
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


class Head:
    """TF-IDF fitted on the training texts beside the embedding, then the regression."""

    def __init__(self, c: float, min_df: int, seed: int) -> None:
        self.c, self.min_df, self.seed = c, min_df, seed
        self.vectorizer: Any = None
        self.model: Any = None

    def features(self, texts: Sequence[str], x: npt.NDArray[np.float32]) -> Any:
        from scipy.sparse import csr_matrix, hstack

        return hstack([self.vectorizer.transform(list(texts)),
                       csr_matrix(x.astype(np.float64))]).tocsr()

    def fit(self, texts: Sequence[str], x: npt.NDArray[np.float32],
            y: npt.NDArray[np.int64], w: npt.NDArray[np.float64]) -> Head:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.vectorizer = TfidfVectorizer(analyzer=analyze, sublinear_tf=True,
                                          min_df=self.min_df, dtype=np.float64)
        self.vectorizer.fit(list(texts))
        self.model = LogisticRegression(C=self.c, max_iter=3000, solver="lbfgs",
                                        random_state=self.seed)
        self.model.fit(self.features(texts, x), y, sample_weight=w)
        return self

    def predict_proba(self, texts: Sequence[str], x: npt.NDArray[np.float32]
                      ) -> npt.NDArray[np.float64]:
        """(N, 6) in CLASSES order (a class absent from the fit's rows gets 0)."""
        p = self.model.predict_proba(self.features(texts, x))
        out = np.zeros((len(texts), len(CLASSES)))
        out[:, np.asarray(self.model.classes_, dtype=np.int64)] = p
        return out

    def split_coef(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(TF-IDF weights [6, V], embedding weights [6, 384])."""
        v = len(self.vectorizer.vocabulary_)
        coef = np.asarray(self.model.coef_)
        return coef[:, :v], coef[:, v:]


def risk_and_kind(p: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64],
                                                       npt.NDArray[np.int64]]:
    """1 - P(none), and the most probable kind as a CLASSES index (1..5)."""
    return 1.0 - p[:, 0], p[:, 1:].argmax(axis=1) + 1


def out_of_fold(rows: Sequence[Row], x: npt.NDArray[np.float32], config: TrainConfig
                ) -> npt.NDArray[np.float64]:
    """Out-of-fold class probabilities (N, 6) of a grouped, stratified k-fold."""
    from sklearn.model_selection import StratifiedGroupKFold

    texts = [r.text for r in rows]
    y = np.array([r.label for r in rows], dtype=np.int64)
    groups = [r.group for r in rows]
    w = weights(rows)
    out = np.zeros((len(rows), len(CLASSES)))
    cv = StratifiedGroupKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    for k, (tr, te) in enumerate(cv.split(texts, y, groups)):
        head = Head(config.c, config.min_df, config.seed).fit(
            [texts[i] for i in tr], x[tr], y[tr], w[tr])
        out[te] = head.predict_proba([texts[i] for i in te], x[te])
        _log(f"fold {k + 1}/{config.folds}: {len(tr)} training rows, {len(te)} scored")
    return out


def choose_threshold(risk: npt.NDArray[np.float64], kind: npt.NDArray[np.str_],
                     lookalike_rate: float, benign_rate: float) -> float:
    """The lowest threshold on a 0.01 grid at which the out-of-fold risk flags at most
    ``benign_rate`` of the benign rows and ``lookalike_rate`` of the look-alikes."""
    benign, look = risk[kind == "benign"], risk[kind == "lookalike"]
    for t in np.round(np.arange(0.05, 0.996, 0.01), 2):
        if (benign >= t).mean() <= benign_rate and (look >= t).mean() <= lookalike_rate:
            return float(t)
    return 0.99


def _frac(k: int, n: int) -> dict[str, Any]:
    return {"k": k, "n": n, "rate": round(k / n, 4) if n else None}


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
        "risky_flagged": _frac(int((flag & risky).sum()), int(risky.sum())),
        "high_flagged": _frac(int((flag & risky & (sev == "high")).sum()),
                              int((risky & (sev == "high")).sum())),
        "kind_right_of_flagged": _frac(int((flag & risky & (pred == y)).sum()),
                                       int((flag & risky).sum())),
        "lookalike_flagged": _frac(int((flag & look).sum()), int(look.sum())),
        "benign_flagged": {o.removeprefix("benign:"): _frac(int((flag & (origin == o)).sum()),
                                                             int((origin == o).sum()))
                           for o in sorted(set(origin.tolist())) if o.startswith("benign:")},
        "by_lang": {g: {"risky_flagged": _frac(int((flag & risky & (lang == g)).sum()),
                                               int((risky & (lang == g)).sum())),
                        "lookalike_flagged": _frac(int((flag & look & (lang == g)).sum()),
                                                   int((look & (lang == g)).sum()))}
                    for g in sorted(set(lang[risky | look].tolist()))},
    }
    if ruled is not None:
        out["backstop"] = {
            "rule_misses_caught": _frac(int((flag & risky & ~ruled).sum()),
                                        int((risky & ~ruled).sum())),
            "new_lookalike_flags": _frac(int((flag & look & ~ruled).sum()),
                                         int((look & ~ruled).sum())),
            "rules_plus_backstop": _frac(int((risky & (ruled | flag)).sum()),
                                         int(risky.sum())),
        }
    return out


def rule_verdicts(rows: Sequence[Row], rules: RuleVerdicts) -> npt.NDArray[np.bool_]:
    """Whether the rules report anything on each suite item (benign rows: False; they are
    not run, as the benchmark measures them)."""
    with_turns = [r.turns for r in rows if r.turns]
    verdicts = iter(rules(with_turns))
    return np.array([bool(r.turns) and bool(next(verdicts)) for r in rows])


def _onnx_head(head: Head, terms: int) -> bytes:
    """``proba = softmax(tfidf @ Wt.T + embedding @ We.T + b)``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def init(name: str, array: npt.NDArray[Any]) -> Any:
        return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)

    w_t, w_e = head.split_coef()
    nodes = [
        helper.make_node("Gemm", ["embedding", "w_e", "b"], ["logit_e"], transB=1),
        helper.make_node("Gemm", ["tfidf", "w_t", "logit_e"], ["logit"], transB=1),
        helper.make_node("Softmax", ["logit"], ["proba"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "primum_risky_learned_head",
        [helper.make_tensor_value_info("tfidf", TensorProto.FLOAT, ["N", terms]),
         helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", DIMENSION])],
        [helper.make_tensor_value_info("proba", TensorProto.FLOAT, ["N", len(CLASSES)])],
        [init("w_e", w_e), init("w_t", w_t), init("b", head.model.intercept_)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="primum-train")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def verify(onnx_head: bytes, lexical: Lexical, texts: Sequence[str],
           x: npt.NDArray[np.float32], head: Head) -> float:
    """The serving path (``Lexical`` + the exported graph) must give scikit-learn's
    features and probabilities; returns the largest probability difference."""
    import onnxruntime as ort

    try:
        tfidf = lexical.verified_transform(head.vectorizer, texts)
    except LexicalMismatch as exc:
        raise TrainingError(str(exc)) from exc
    session = ort.InferenceSession(onnx_head, providers=["CPUExecutionProvider"])
    (got,) = session.run(["proba"], {"tfidf": tfidf, "embedding": x})
    diff = float(np.max(np.abs(np.asarray(got) - head.predict_proba(texts, x))))
    if diff > 1e-4:
        raise TrainingError(f"exported head differs from scikit-learn by {diff}")
    return diff


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

    p = out_of_fold(rows, x, config)
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
    head = Head(config.c, config.min_df, config.seed).fit(texts, x, y, weights(rows))
    lexical = Lexical(dict(head.vectorizer.vocabulary_), list(head.vectorizer.idf_))
    onnx_head = _onnx_head(head, lexical.size)
    sample = np.arange(0, len(rows), max(1, len(rows) // 300))
    diff = verify(onnx_head, lexical, [texts[i] for i in sample], x[sample], head)
    _log(f"exported head matches scikit-learn (max |dp| {diff:.2e} on {len(sample)} rows)")

    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / HEAD_FILE).write_bytes(onnx_head)
    lexical_raw = lexical.dump(out / LEXICAL_FILE)
    spec: dict[str, Any] = {
        "name": "primum-risky-learned",
        "version": VERSION,
        "trained": dt.date.today().isoformat(),
        "head": {"file": HEAD_FILE, "sha256": hashlib.sha256(onnx_head).hexdigest(),
                 "bytes": len(onnx_head)},
        "lexical": {"file": LEXICAL_FILE, "sha256": hashlib.sha256(lexical_raw).hexdigest(),
                    "terms": lexical.size, "bytes": len(lexical_raw)},
        "encoder": {"name": "all-MiniLM-L6-v2 (int8 ONNX, classifiers/embedding)",
                    "sha256": embedder.sha256 or MODEL_SHA256},
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
            "files_sha256": files,
            "held_out_never_read": list(HELD_OUT),
            "seed": config.seed,
            "C": config.c,
            "min_df": config.min_df,
            "lookalike_weight": LOOKALIKE_WEIGHT,
            "benign_weight": "risky rows / benign rows",
            "export_max_abs_diff": diff,
        },
        "cross_validation": cv,
        "environment": {"python": platform.python_version(), "platform": platform.platform(),
                        "scikit-learn": _version("sklearn"), "onnx": _version("onnx")},
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / SPEC_FILE).write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    _log(f"wrote {out / HEAD_FILE} ({len(onnx_head)} bytes), {out / LEXICAL_FILE} "
         f"({len(lexical_raw)} bytes) and {out / SPEC_FILE}")
    return spec


def _version(module: str) -> str:
    try:
        return str(__import__(module).__version__)
    except Exception:  # pragma: no cover - reporting only
        return "?"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=os.environ.get("PRIMUM_DATA_DIR"),
                        help="data directory with benign/ (default: $PRIMUM_DATA_DIR)")
    parser.add_argument("--out", default=str(PACKAGE_DIR),
                        help="where to write the head, vocabulary and model_spec.json "
                        "(default: the package)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--c", type=float, default=C, help=f"inverse L2 strength ({C:g})")
    parser.add_argument("--min-df", type=int, default=MIN_DF,
                        help=f"TF-IDF terms in at least this many texts ({MIN_DF})")
    parser.add_argument("--view", choices=("turns", "last"), default=VIEW,
                        help="text read: the last four user turns joined, or the last one "
                        f"(default {VIEW})")
    parser.add_argument("--lookalike-rate", type=float, default=LOOKALIKE_RATE,
                        help=f"look-alike budget of the threshold ({LOOKALIKE_RATE:g})")
    parser.add_argument("--oof-out", metavar="FILE", default=None,
                        help="also write every row's out-of-fold scores (JSONL)")


def run(args: argparse.Namespace, rules: RuleVerdicts | None = None) -> int:
    """Train from parsed arguments; ``rules`` as in :attr:`TrainConfig.rules`."""
    if not args.data:
        print("error: give --data DIR or set PRIMUM_DATA_DIR", file=sys.stderr)
        return 2
    config = TrainConfig(data_dir=Path(args.data), out_dir=Path(args.out), folds=args.folds,
                         seed=args.seed, c=args.c, min_df=args.min_df, view=args.view,
                         lookalike_rate=args.lookalike_rate, rules=rules,
                         oof_out=Path(args.oof_out) if args.oof_out else None)
    try:
        train(config)
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
