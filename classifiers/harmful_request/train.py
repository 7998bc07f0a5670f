"""Train the harmful-request classifier head, choose its thresholds, export it to ONNX.

    primum train harmful-request --data DIR            # or PRIMUM_DATA_DIR=DIR make train

Data (nothing from MedSafetyBench's test split is read):

- harmful: MedSafetyBench ``train`` (900 requests, principle 1-9) and the team-written
  supplement (``data/supplement*.jsonl``: patient, clinician and administrator voices, long
  messages, Chinese; see data/README.md);
- benign: the supplement's hard negatives (dose and overdose questions, legitimate ethics,
  documentation and privacy questions, long consumer questions) and the *training part* of
  each benign control set (``splits.is_training_row``; the rest is reserved for the
  benchmark), capped per set so templated MedQuAD does not drown the rest;
- half of the rows are also framed in one jailbreak wrapper (``augment.WRAPPERS``),
  harmful and benign alike;
- refusals: MedSafetyBench ``train`` ``safe_response`` texts against GenMedGPT reference
  answers (training part), the MedSafetyBench train prompts and the supplement's texts
  (none of them refuses; the prompts teach the head that a harmful topic is not a
  refusal).

Model: three logistic regressions. Harmful vs benign and principle 1-9 (among harmful rows)
read the text's word and word-pair TF-IDF (``lexical``) beside its all-MiniLM-L6-v2
sentence embedding (``classifiers.embedding``, shared with the crisis check): in
cross-validation the pair beat the embedding alone (MODEL_CARD.md). The harmful head reads
the embedding scaled by ``EMBEDDING_WEIGHT`` (0.5), so that it leans less on the topic of a
sentence (a question about an ethics breach embeds next to a request to commit one); the
scale is folded into the exported weights. Refusal vs answer
reads the embedding only. The regularisation strength and the thresholds are
chosen from out-of-fold predictions of a grouped k-fold cross-validation on the training
rows (a row, its wrapped copy and any row with the same text are always in the same fold):

- ``block``: the lowest threshold at which no benign control set (training part) is
  flagged more than ``BENIGN_FLAG_RATE`` out of fold, each set's rate estimated as
  (flagged + 1) / (rows + 2): ordinary questions are answered, and a set of a few hundred
  rows needs a margin (one row of PubMedQA's 250 is 0.4%);
- ``report``: the highest threshold at which out-of-fold recall on MedSafetyBench train is
  at least ``REPORT_RECALL``, but never so low that a benign control set is reported more
  than ``REPORT_BENIGN_RATE`` out of fold (an answer to a reported request that does not
  decline is withheld, so a low ``report`` refuses ordinary questions at the output), and
  never above ``block``; requests between the two are answered and the answer is checked
  (``harmful_compliance``);
- ``refusal``: 0.5.

Every random choice is fixed by the seed and the row it concerns (which benign rows are
kept under a cap, whether and how a row is wrapped, its fold), never by a shared random
stream: adding or removing training rows leaves every other row's draw unchanged, so two
trainings differ only by what their data differ by.

The three regressions are written as one ONNX graph (inputs ``tfidf`` [N, terms] and
``embedding`` [N, 384]; outputs
``harmful`` [N], ``principle`` [N, 9], ``refusal`` [N]) and checked against scikit-learn's
probabilities before ``model_spec.json`` pins it by sha256. The model card's numbers are
the ones this run measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.embedding.runtime import DIMENSION, MODEL_SHA256, Embedder
from classifiers.harmful_request.augment import wrap
from classifiers.harmful_request.lexical import Lexical, LexicalMismatch, analyze, has_cjk
from classifiers.harmful_request.model import HEAD_FILE, LEXICAL_FILE, SPEC_FILE
from classifiers.harmful_request.principles import PRINCIPLES
from classifiers.harmful_request.splits import BENIGN_SETS, is_training_row

__all__ = ["TrainConfig", "TrainingSet", "load_training_set", "main", "train"]

PACKAGE_DIR = Path(__file__).resolve().parent
SUPPLEMENTS = tuple(sorted((PACKAGE_DIR / "data").glob("supplement*.jsonl")))
BENIGN_FLAG_RATE = 0.01
REPORT_RECALL = 0.997
REPORT_BENIGN_RATE = 0.03
BENIGN_CAPS = {"medquad": 3000, "pubmedqa": 250, "healthsearchqa": 375, "genmedgpt": 250}
C_GRID = (8.0, 32.0)
MIN_DF = 2
MAX_TERMS = 30000
EMBEDDING_WEIGHT = 0.5
"""The harmful head reads [TF-IDF | EMBEDDING_WEIGHT x embedding]: with one L2 penalty for
both blocks, a smaller scale makes the embedding's weights dearer, so the head leans less
on the sentence's topic (an ethics *question* and a request to break the same principle
embed close together) and more on its words. Chosen by cross-validation and the team's
dev set (MODEL_CARD.md); folded into the exported embedding weights."""
VERSION = "1.2.0"


class TrainingError(RuntimeError):
    """Training cannot run (missing data, too few rows of a class)."""


@dataclass(frozen=True, slots=True)
class TrainConfig:
    data_dir: Path
    out_dir: Path = PACKAGE_DIR
    supplements: tuple[Path, ...] = SUPPLEMENTS
    folds: int = 5
    seed: int = 13
    benign_caps: dict[str, int] = field(default_factory=lambda: dict(BENIGN_CAPS))
    wrap_fraction: float = 0.5
    c_grid: tuple[float, ...] = C_GRID
    embedding_weight: float = EMBEDDING_WEIGHT
    """Scale of the embedding block in the harmful head's features (1.0: as encoded)."""
    oof_out: Path | None = None
    """Where to write every training row's out-of-fold score (JSONL), for error analysis."""


@dataclass
class TrainingSet:
    """Parallel lists, one entry per training text."""

    texts: list[str] = field(default_factory=list)
    harmful: list[int] = field(default_factory=list)
    principle: list[int] = field(default_factory=list)  # 0 for benign rows
    group: list[int] = field(default_factory=list)  # a row and its wrapped copy share one
    origin: list[str] = field(default_factory=list)  # msb | supplement[:zh] | benign:<set>
    wrapped: list[bool] = field(default_factory=list)
    fold: list[int] = field(default_factory=list)  # cross-validation fold, fixed by the text
    refusal_texts: list[str] = field(default_factory=list)
    refusal_labels: list[int] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256 of what was read

    def add(self, text: str, harmful: int, principle: int, origin: str, wrapped: bool,
            group: int, fold: int) -> None:
        self.texts.append(text)
        self.harmful.append(harmful)
        self.principle.append(principle)
        self.origin.append(origin)
        self.wrapped.append(wrapped)
        self.group.append(group)
        self.fold.append(fold)


def _unit(seed: int, *parts: str) -> float:
    """A number in [0, 1) fixed by the seed and ``parts`` (what the draw is for and the
    row it concerns), the same on every machine."""
    digest = hashlib.sha256("\x00".join((str(seed), *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _fold(seed: int, text: str, folds: int) -> int:
    """The cross-validation fold of a text: equal texts share a fold wherever they come
    from, so a duplicate never tests a model trained on itself."""
    return int(_unit(seed, "fold", " ".join(text.split())) * folds)


def _read_jsonl(path: Path, files: dict[str, str], label: str) -> list[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TrainingError(f"{path}: cannot read ({exc.strerror})") from None
    files[label] = hashlib.sha256(raw).hexdigest()
    rows = []
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise TrainingError(f"{path}:{n}: not a JSON object") from None
    return rows


def load_training_set(config: TrainConfig) -> TrainingSet:
    """Every training row, with its wrapped copies; raises ``TrainingError`` on bad data."""
    data = config.data_dir
    seed = config.seed
    ts = TrainingSet()
    base: list[tuple[str, int, int, str]] = []
    for row in _read_jsonl(data / "medsafetybench" / "train.jsonl", ts.files,
                           "medsafetybench/train.jsonl"):
        if row.get("split", "train") != "train":
            raise TrainingError("medsafetybench/train.jsonl holds a non-train row; refusing "
                                "to train on anything but the train split")
        base.append((str(row["prompt"]), 1, int(row["principle"]), "msb"))
        ts.refusal_texts.append(str(row["safe_response"]))
        ts.refusal_labels.append(1)
        # The request itself is not a refusal: it teaches the refusal head that the
        # topic of a harmful request is not what makes a text a refusal.
        ts.refusal_texts.append(str(row["prompt"]))
        ts.refusal_labels.append(0)
    for path in config.supplements:
        for row in _read_jsonl(path, ts.files, path.name):
            harmful = row["label"] == "harmful"
            text = str(row["text"])
            # Chinese rows are reported apart: the encoder is English, so how the head
            # does on Chinese is its own question.
            origin = "supplement:zh" if has_cjk(text) else "supplement"
            base.append((text, int(harmful), int(row["principle"]) if harmful else 0, origin))
            ts.refusal_texts.append(text)
            ts.refusal_labels.append(0)
    for name, rel in BENIGN_SETS.items():
        path = data / rel
        if not path.exists():
            continue
        rows = [r for r in _read_jsonl(path, ts.files, rel) if is_training_row(name, r["id"])]
        keys = {str(r["id"]): _unit(seed, "cap", name, str(r["id"])) for r in rows}
        rows.sort(key=lambda r: keys[str(r["id"])])
        for r in rows[: config.benign_caps.get(name, len(rows))]:
            base.append((str(r.get("question") or r.get("text")), 0, 0, f"benign:{name}"))
            if name == "genmedgpt" and r.get("reference_answer"):
                ts.refusal_texts.append(str(r["reference_answer"]))
                ts.refusal_labels.append(0)
    for group, (text, harmful, principle, origin) in enumerate(base):
        fold = _fold(seed, text, config.folds)
        ts.add(text, harmful, principle, origin, False, group, fold)
        rng = random.Random(f"{seed}\x00wrap\x00{text}")
        if rng.random() < config.wrap_fraction:
            ts.add(wrap(text, rng), harmful, principle, origin, True, group, fold)
    counts = Counter(ts.harmful)
    if counts[1] < 2 * config.folds or counts[0] < 2 * config.folds:
        raise TrainingError(f"too few rows to train ({counts[1]} harmful, {counts[0]} benign)")
    if len(set(ts.refusal_labels)) < 2:
        raise TrainingError("refusal data needs refusals and ordinary answers (GenMedGPT)")
    return ts


def _lr(c: float, balanced: bool = True) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if balanced else None)


def _oof(model_of: Any, x: npt.NDArray[Any], y: npt.NDArray[np.int64],
         fold: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Out-of-fold probabilities (positive class for binary, all classes otherwise);
    ``fold`` gives each row's fold."""
    classes = np.unique(y)
    out = np.zeros((len(y), len(classes)), dtype=np.float64)
    for k in np.unique(fold):
        te, tr = np.flatnonzero(fold == k), np.flatnonzero(fold != k)
        if len(np.unique(y[tr])) < 2:
            raise TrainingError(f"fold {k}: the other folds hold one class only; "
                                "use fewer folds or more rows")
        model = model_of().fit(x[tr], y[tr])
        columns = np.searchsorted(classes, model.classes_)  # a fold may lack a class
        out[np.ix_(te, columns)] = model.predict_proba(x[te])
    return out[:, 1] if len(classes) == 2 else out


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=analyze, sublinear_tf=True, min_df=MIN_DF,
                           max_features=MAX_TERMS, dtype=np.float64)


class _Combined:
    """A logistic regression on [TF-IDF of the text | embedding_weight x sentence
    embedding]; ``fit`` and
    ``predict_proba`` take row indexes into the texts and embeddings given at creation."""

    def __init__(self, texts: Sequence[str], x: npt.NDArray[np.float32], c: float,
                 balanced: bool, embedding_weight: float = 1.0) -> None:
        self.texts = texts
        self.x = x
        self.c = c
        self.embedding_weight = embedding_weight
        self.balanced = balanced
        self.vectorizer: Any = None
        self.model: Any = None
        self.classes_: Any = None

    def _features(self, rows: npt.NDArray[np.int64]) -> Any:
        from scipy.sparse import csr_matrix, hstack

        tfidf = self.vectorizer.transform([self.texts[i] for i in rows])
        embedding = self.x[rows].astype(np.float64) * self.embedding_weight
        return hstack([tfidf, csr_matrix(embedding)]).tocsr()

    def fit(self, rows: npt.NDArray[np.int64], y: npt.NDArray[np.int64],
            vectorizer: Any = None) -> _Combined:
        """Fit on ``rows``; with ``vectorizer`` (already fitted) its vocabulary is used
        instead of one fitted on these rows."""
        self.vectorizer = vectorizer or _vectorizer().fit([self.texts[i] for i in rows])
        self.model = _lr(self.c, self.balanced).fit(self._features(rows), y)
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, rows: npt.NDArray[np.int64]) -> Any:
        return self.model.predict_proba(self._features(rows))

    def split_coef(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(TF-IDF weights [k, V], embedding weights [k, 384]) on the unscaled embedding:
        ``embedding_weight`` is folded into the embedding weights."""
        v = len(self.vectorizer.vocabulary_)
        coef = np.asarray(self.model.coef_)
        return coef[:, :v], coef[:, v:] * self.embedding_weight


def _rate(mask: npt.NDArray[np.bool_]) -> float:
    return float(mask.mean()) if mask.size else float("nan")


def _thresholds(p: npt.NDArray[np.float64], origin: npt.NDArray[np.str_],
                plain: npt.NDArray[np.bool_], msb: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """``block``: the lowest threshold (grid 0.01) at which every benign control set's
    out-of-fold flag rate is at most ``BENIGN_FLAG_RATE``; ``report``: the highest at
    which out-of-fold recall on MedSafetyBench train is at least ``REPORT_RECALL``, raised
    to the lowest at which every benign set's rate is at most ``REPORT_BENIGN_RATE``,
    never above ``block``. A set's rate is estimated as (flagged + 1) / (rows + 2)
    (Laplace's rule of succession): on a few hundred rows the raw rate sits on one row,
    and a bound met by the raw rate is missed on the set's other rows about half the
    time."""
    sets = [o for o in sorted(set(origin.tolist())) if o.startswith("benign:")]
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    scores = [p[(origin == o) & plain] for o in sets]

    def lowest_within(rate: float) -> float:
        for t in grid:
            if all((int((s >= t).sum()) + 1) / (s.size + 2) <= rate for s in scores):
                return float(t)
        return float(grid[-1])

    block = lowest_within(BENIGN_FLAG_RATE)
    report = float(grid[0])
    for t in grid[::-1]:
        if _rate(p[msb & plain] >= t) >= REPORT_RECALL:
            report = float(t)
            break
    return block, min(max(report, lowest_within(REPORT_BENIGN_RATE)), block)


def flagged_by_origin(p: npt.NDArray[np.float64], origin: npt.NDArray[np.str_],
                      plain: npt.NDArray[np.bool_], y: npt.NDArray[np.int64],
                      t: float) -> dict[str, dict[str, Any]]:
    """Rows and the share at or above ``t``, per origin and label (unwrapped rows), then
    for the wrapped copies per label: the cross-validation table of the model card."""
    out: dict[str, dict[str, Any]] = {}
    for o in sorted(set(origin.tolist())):
        for label, name in ((1, "harmful"), (0, "benign")):
            sel = (origin == o) & plain & (y == label)
            if sel.any():
                out[f"{o}/{name}"] = {"n": int(sel.sum()),
                                      "flagged": round(_rate(p[sel] >= t), 4)}
    for label, name in ((1, "harmful"), (0, "benign")):
        sel = ~plain & (y == label)
        if sel.any():
            out[f"wrapped/{name}"] = {"n": int(sel.sum()),
                                      "flagged": round(_rate(p[sel] >= t), 4)}
    return out


def attribution(pred: npt.NDArray[np.int64], true: npt.NDArray[np.int64],
                plain: npt.NDArray[np.bool_], msb: npt.NDArray[np.bool_]) -> dict[str, Any]:
    """Share of harmful rows (arrays over harmful rows only) whose predicted principle is
    the labelled one: MedSafetyBench rows, all, and per principle (unwrapped rows)."""
    return {
        "msb": round(_rate(pred[msb & plain] == true[msb & plain]), 4),
        "all_harmful": round(_rate(pred[plain] == true[plain]), 4),
        "per_principle": {
            str(k): round(_rate(pred[plain & (true == k)] == k), 4) for k in range(1, 10)
        },
    }


def _onnx_head(harm: _Combined, principle: _Combined, refusal: Any, terms: int) -> bytes:
    """One graph, three logistic regressions: ``harmful`` and ``principle`` read the
    TF-IDF row and the embedding, ``refusal`` the embedding only."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def init(name: str, array: npt.NDArray[Any]) -> Any:
        return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)

    harm_t, harm_e = harm.split_coef()
    prin_t, prin_e = principle.split_coef()
    nodes = [
        helper.make_node("Gemm", ["embedding", "harm_we", "harm_b"], ["harm_e"], transB=1),
        helper.make_node("Gemm", ["tfidf", "harm_wt", "harm_e"], ["harm_logit"], transB=1),
        helper.make_node("Sigmoid", ["harm_logit"], ["harm_p"]),
        helper.make_node("Reshape", ["harm_p", "flat_shape"], ["harmful"]),
        helper.make_node("Gemm", ["embedding", "prin_we", "prin_b"], ["prin_e"], transB=1),
        helper.make_node("Gemm", ["tfidf", "prin_wt", "prin_e"], ["prin_logit"], transB=1),
        helper.make_node("Softmax", ["prin_logit"], ["principle"], axis=1),
        helper.make_node("Gemm", ["embedding", "ref_w", "ref_b"], ["ref_logit"], transB=1),
        helper.make_node("Sigmoid", ["ref_logit"], ["ref_p"]),
        helper.make_node("Reshape", ["ref_p", "flat_shape"], ["refusal"]),
    ]
    initializers = [
        init("harm_we", harm_e), init("harm_wt", harm_t),
        init("harm_b", harm.model.intercept_),
        init("prin_we", prin_e), init("prin_wt", prin_t),
        init("prin_b", principle.model.intercept_),
        init("ref_w", refusal.coef_), init("ref_b", refusal.intercept_),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "flat_shape"),
    ]
    graph = helper.make_graph(
        nodes, "primum_harmful_request_head",
        [helper.make_tensor_value_info("tfidf", TensorProto.FLOAT, ["N", terms]),
         helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", DIMENSION])],
        [helper.make_tensor_value_info("harmful", TensorProto.FLOAT, ["N"]),
         helper.make_tensor_value_info("principle", TensorProto.FLOAT, ["N", 9]),
         helper.make_tensor_value_info("refusal", TensorProto.FLOAT, ["N"])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="primum-train")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def _log(message: str) -> None:
    print(f"[train] {message}", file=sys.stderr, flush=True)


def train(config: TrainConfig, embedder: Embedder | None = None) -> dict[str, Any]:
    """Run the whole pipeline; writes the head, the vocabulary, the spec into
    ``config.out_dir`` and returns the spec."""
    started = time.monotonic()
    ts = load_training_set(config)
    _log(f"{len(ts.texts)} training texts ({dict(Counter(ts.origin))}), "
         f"{len(ts.refusal_texts)} refusal texts")
    embedder = embedder or Embedder.shared()
    x = embedder.embed(ts.texts)
    xr = embedder.embed(ts.refusal_texts)
    y = np.array(ts.harmful, dtype=np.int64)
    prin = np.array(ts.principle, dtype=np.int64)
    fold = np.array(ts.fold, dtype=np.int64)
    origin = np.array(ts.origin)
    plain = ~np.array(ts.wrapped)
    msb = origin == "msb"
    rows = np.arange(len(y))
    _log(f"embedded in {time.monotonic() - started:.0f} s")

    # Model selection: the C with the best out-of-fold recall on MedSafetyBench train at
    # the block threshold (benign control sets flagged at most 1%); ties: the smaller C.
    cv: dict[str, Any] = {"folds": config.folds, "fold_of_row": "sha256(seed, text)",
                          "benign_rate": "(flagged + 1) / (rows + 2)", "grid": {}}
    best: tuple[float, float, float, float] | None = None
    oof_best: npt.NDArray[np.float64] | None = None
    for c in config.c_grid:
        p = _oof(lambda c=c: _Combined(ts.texts, x, c, True, config.embedding_weight),
                 rows, y, fold)
        block, report = _thresholds(p, origin, plain, msb)
        recall = _rate(p[msb & plain] >= block)
        cv["grid"][str(c)] = {"block": block, "msb_recall_at_block": round(recall, 4)}
        _log(f"C={c}: block {block}, MedSafetyBench train recall at block {recall:.4f}")
        if best is None or recall > best[1]:
            best, oof_best = (c, recall, block, report), p
    assert best is not None and oof_best is not None
    c_harm, _, block, report = best
    p = oof_best
    if config.oof_out is not None:
        with config.oof_out.open("w", encoding="utf-8") as f:
            for i in rows:
                f.write(json.dumps({"origin": ts.origin[i], "harmful": ts.harmful[i],
                                    "principle": ts.principle[i], "wrapped": ts.wrapped[i],
                                    "fold": ts.fold[i], "oof": round(float(p[i]), 4),
                                    "text": ts.texts[i]}, ensure_ascii=False) + "\n")
        _log(f"wrote out-of-fold scores to {config.oof_out}")

    harmful_rows = rows[y == 1]
    p_prin = _oof(lambda: _Combined(ts.texts, x, 4.0, False), harmful_rows,
                  prin[harmful_rows], fold[harmful_rows])
    pred = p_prin.argmax(axis=1) + 1
    true = prin[harmful_rows]
    plain_h = plain[harmful_rows]
    msb_h = msb[harmful_rows]
    ref_labels = np.array(ts.refusal_labels, dtype=np.int64)
    ref_fold = np.array([_fold(config.seed, t, config.folds) for t in ts.refusal_texts],
                        dtype=np.int64)
    p_ref = _oof(lambda: _lr(4.0), xr, ref_labels, ref_fold)

    cv.update({
        "C_harmful": c_harm,
        "at_block": flagged_by_origin(p, origin, plain, y, block),
        "at_report": flagged_by_origin(p, origin, plain, y, report),
        "attribution": attribution(pred, true, plain_h, msb_h),
        "refusal": {
            "refusals_detected": round(_rate(p_ref[ref_labels == 1] >= 0.5), 4),
            "non_refusals_flagged": round(_rate(p_ref[ref_labels == 0] >= 0.5), 4),
            "n_refusals": int((ref_labels == 1).sum()),
            "n_non_refusals": int((ref_labels == 0).sum()),
        },
    })
    _log(f"thresholds: block {block}, report {report}")
    _log(f"CV at block: {json.dumps(cv['at_block'])}")
    _log(f"CV at report: {json.dumps(cv['at_report'])}")
    _log(f"attribution (CV): {cv['attribution']}; refusal (CV): {cv['refusal']}")

    harm = _Combined(ts.texts, x, c_harm, True, config.embedding_weight).fit(rows, y)
    # One vocabulary serves both heads, so that one TF-IDF row feeds the graph.
    principle = _Combined(ts.texts, x, 4.0, False).fit(
        harmful_rows, prin[harmful_rows], vectorizer=harm.vectorizer)
    refusal = _lr(4.0).fit(xr, ref_labels)
    lexical = Lexical(dict(harm.vectorizer.vocabulary_), list(harm.vectorizer.idf_))
    head = _onnx_head(harm, principle, refusal, lexical.size)
    sample = rows[:: max(1, len(rows) // 300)]
    _verify(head, lexical, [ts.texts[i] for i in sample], x[sample], harm, principle,
            refusal)

    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / HEAD_FILE).write_bytes(head)
    lexical_raw = lexical.dump(out / LEXICAL_FILE)
    spec: dict[str, Any] = {
        "name": "primum-harmful-request",
        "version": VERSION,
        "trained": dt.date.today().isoformat(),
        "head": {"file": HEAD_FILE, "sha256": hashlib.sha256(head).hexdigest(),
                 "bytes": len(head)},
        "lexical": {"file": LEXICAL_FILE, "sha256": hashlib.sha256(lexical_raw).hexdigest(),
                    "terms": lexical.size},
        "encoder": {"name": "all-MiniLM-L6-v2 (int8 ONNX, classifiers/embedding)",
                    "sha256": embedder.sha256 or MODEL_SHA256},
        "outputs": {"harmful": "P(request breaks an AMA principle)",
                    "principle": "P(principle k | harmful), k = 1..9",
                    "refusal": "P(text is a refusal)"},
        "principles": [p.category for p in PRINCIPLES],
        "thresholds": {"block": block, "report": report, "refusal": 0.5},
        "training": {
            "rows": len(ts.texts),
            "by_origin": dict(Counter(ts.origin)),
            "wrapped_copies": int((~plain).sum()),
            "harmful": int(y.sum()),
            "refusal_rows": len(ts.refusal_texts),
            "files_sha256": ts.files,
            "benign_caps": config.benign_caps,
            "seed": config.seed,
            "embedding_weight": config.embedding_weight,
        },
        "cross_validation": cv,
        "environment": {"python": platform.python_version(), "platform": platform.platform()},
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    _log(f"wrote {out / HEAD_FILE} ({len(head)} bytes), {out / LEXICAL_FILE} and "
         f"{out / SPEC_FILE}")
    return spec


def _verify(head: bytes, lexical: Lexical, texts: Sequence[str], x: npt.NDArray[np.float32],
            harm: _Combined, principle: _Combined, refusal: Any) -> None:
    """The serving path (``Lexical`` + the exported graph) must give scikit-learn's
    features and probabilities."""
    import onnxruntime as ort

    try:
        tfidf = lexical.verified_transform(harm.vectorizer, texts)
    except LexicalMismatch as exc:
        raise TrainingError(str(exc)) from exc
    want = harm.vectorizer.transform(list(texts)).toarray()  # scikit-learn's own features
    session = ort.InferenceSession(head, providers=["CPUExecutionProvider"])
    h, p, r = session.run(["harmful", "principle", "refusal"],
                          {"tfidf": tfidf, "embedding": x})
    def features(model: _Combined) -> npt.NDArray[np.float64]:
        return np.hstack([want, x.astype(np.float64) * model.embedding_weight])

    checks = (
        (h, harm.model.predict_proba(features(harm))[:, 1]),
        (p, principle.model.predict_proba(features(principle))),
        (r, refusal.predict_proba(x)[:, 1]),
    )
    for got, expected in checks:
        diff = float(np.max(np.abs(np.asarray(got) - expected)))
        if diff > 1e-4:
            raise TrainingError(f"exported head differs from scikit-learn by {diff}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=os.environ.get("PRIMUM_DATA_DIR"),
                        help="data directory with medsafetybench/ and benign/ "
                        "(default: $PRIMUM_DATA_DIR)")
    parser.add_argument("--out", default=str(PACKAGE_DIR),
                        help="where to write the head, model_spec.json (default: the package)")
    parser.add_argument("--supplement", action="append", default=None, metavar="FILE",
                        help="team-written training rows (JSONL), repeatable; 'none' to skip "
                        "(default: data/supplement*.jsonl in the package)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--embedding-weight", type=float, default=EMBEDDING_WEIGHT,
                        help="scale of the sentence embedding beside the TF-IDF in the harmful "
                        f"head (default {EMBEDDING_WEIGHT})")
    parser.add_argument("--oof-out", metavar="FILE", default=None,
                        help="also write every training row's out-of-fold harmful score "
                        "(JSONL) for error analysis")


def run(args: argparse.Namespace) -> int:
    if not args.data:
        print("error: give --data DIR or set PRIMUM_DATA_DIR", file=sys.stderr)
        return 2
    data = Path(args.data)
    if not (data / "medsafetybench" / "train.jsonl").is_file():
        print(f"error: {data}/medsafetybench/train.jsonl not found", file=sys.stderr)
        return 2
    chosen = args.supplement or [str(p) for p in SUPPLEMENTS]
    supplements = tuple(Path(p) for p in chosen if p != "none")
    for path in supplements:
        if not path.is_file():
            print(f"error: {path}: supplement not found", file=sys.stderr)
            return 2
    config = TrainConfig(data_dir=data, out_dir=Path(args.out), supplements=supplements,
                         folds=args.folds, seed=args.seed,
                         embedding_weight=args.embedding_weight,
                         oof_out=Path(args.oof_out) if args.oof_out else None)
    try:
        train(config)
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classifiers.harmful_request.train",
                                     description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
