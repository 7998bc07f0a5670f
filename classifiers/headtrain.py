"""Training side of a pinned head (``classifiers.pinned``): word TF-IDF beside the shared
MiniLM embedding, one multinomial logistic regression, exported to ONNX by hand.

The learned backstops of ``risky_intent`` (``classifiers/risky/learned``) and
``critical_illness`` (``classifiers/critical/learned``) are trained with these pieces; each
trainer says what its rows and classes are. Needs the ``train`` extra (scikit-learn, scipy,
onnx); serving needs none of it.

- :class:`Head` fits the TF-IDF on the training texts and the regression on [TF-IDF |
  embedding];
- :func:`out_of_fold` gives grouped, stratified k-fold probabilities (the TF-IDF refitted
  in every fold);
- :func:`choose_threshold` picks the lowest threshold within a benign and a look-alike
  budget;
- :func:`onnx_head` writes ``proba = softmax(tfidf @ Wt.T + embedding @ We.T + b)`` and
  :func:`verify` checks the serving path (``Lexical`` + that graph) against scikit-learn;
- :func:`benign_training_rows` reads the training part of the benign control sets.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.embedding.runtime import DIMENSION, sha256_file
from classifiers.harmful_request.lexical import Lexical, LexicalMismatch, analyze
from classifiers.harmful_request.splits import BENIGN_SETS, is_training_row

__all__ = ["BenignRow", "Head", "ModelFiles", "TrainingError", "add_training_arguments",
           "benign_training_rows", "choose_threshold", "export", "frac", "onnx_head",
           "out_of_fold", "package_version", "training_record", "verify", "write_model"]


class TrainingError(RuntimeError):
    """Training cannot run (missing data, a class without rows, an export that differs)."""


class Head:
    """TF-IDF fitted on the training texts beside the embedding, then the regression over
    ``classes`` columns (a class absent from a fit's rows gets probability 0)."""

    def __init__(self, c: float, min_df: int, seed: int, classes: int) -> None:
        self.c, self.min_df, self.seed, self.classes = c, min_df, seed, classes
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
        """(N, classes), columns in class-index order."""
        p = self.model.predict_proba(self.features(texts, x))
        out = np.zeros((len(texts), self.classes))
        out[:, np.asarray(self.model.classes_, dtype=np.int64)] = p
        return out

    def split_coef(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                                  npt.NDArray[np.float64]]:
        """(TF-IDF weights [classes, V], embedding weights [classes, 384], bias [classes]).
        scikit-learn fits a binary problem as one logit; it is written as two columns
        (0 and the logit), which the softmax turns into the same probabilities."""
        v = len(self.vectorizer.vocabulary_)
        coef = np.asarray(self.model.coef_)
        bias = np.asarray(self.model.intercept_)
        if coef.shape[0] == 1:
            coef = np.vstack([np.zeros_like(coef), coef])
            bias = np.concatenate([[0.0], bias])
        return coef[:, :v], coef[:, v:], bias


def out_of_fold(texts: Sequence[str], x: npt.NDArray[np.float32], y: npt.NDArray[np.int64],
                groups: Sequence[str], w: npt.NDArray[np.float64], *, classes: int,
                folds: int, seed: int, c: float, min_df: int,
                log: Callable[[str], None] = lambda _: None) -> npt.NDArray[np.float64]:
    """Out-of-fold class probabilities (N, classes) of a grouped, stratified k-fold."""
    from sklearn.model_selection import StratifiedGroupKFold

    out = np.zeros((len(texts), classes))
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (tr, te) in enumerate(cv.split(list(texts), y, list(groups))):
        head = Head(c, min_df, seed, classes).fit(
            [texts[i] for i in tr], x[tr], y[tr], w[tr])
        out[te] = head.predict_proba([texts[i] for i in te], x[te])
        log(f"fold {k + 1}/{folds}: {len(tr)} training rows, {len(te)} scored")
    return out


def choose_threshold(risk: npt.NDArray[np.float64], kind: npt.NDArray[np.str_],
                     lookalike_rate: float, benign_rate: float,
                     benign_sets: npt.NDArray[np.str_] | None = None) -> float:
    """The lowest threshold on a 0.01 grid at which the out-of-fold risk flags at most
    ``benign_rate`` of the ``benign`` rows and ``lookalike_rate`` of the ``lookalike`` rows.
    With ``benign_sets`` (each row's set name), the benign budget holds for every set
    apart rather than for the benign rows pooled."""
    is_benign = kind == "benign"
    look = risk[kind == "lookalike"]
    if benign_sets is None:
        benign = [risk[is_benign]]
    else:
        benign = [risk[is_benign & (benign_sets == name)]
                  for name in sorted(set(benign_sets[is_benign].tolist()))]
    for t in np.round(np.arange(0.05, 0.996, 0.01), 2):
        if ((look >= t).mean() <= lookalike_rate
                and all((b >= t).mean() <= benign_rate for b in benign)):
            return float(t)
    return 0.99


def frac(k: int, n: int) -> dict[str, Any]:
    return {"k": k, "n": n, "rate": round(k / n, 4) if n else None}


def onnx_head(head: Head, terms: int, graph_name: str) -> bytes:
    """``proba = softmax(tfidf @ Wt.T + embedding @ We.T + b)`` as an ONNX graph with inputs
    ``tfidf`` [N, terms] and ``embedding`` [N, 384] and output ``proba`` [N, classes]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def init(name: str, array: npt.NDArray[Any]) -> Any:
        return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)

    w_t, w_e, bias = head.split_coef()
    nodes = [
        helper.make_node("Gemm", ["embedding", "w_e", "b"], ["logit_e"], transB=1),
        helper.make_node("Gemm", ["tfidf", "w_t", "logit_e"], ["logit"], transB=1),
        helper.make_node("Softmax", ["logit"], ["proba"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, graph_name,
        [helper.make_tensor_value_info("tfidf", TensorProto.FLOAT, ["N", terms]),
         helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", DIMENSION])],
        [helper.make_tensor_value_info("proba", TensorProto.FLOAT, ["N", head.classes])],
        [init("w_e", w_e), init("w_t", w_t), init("b", bias)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="primum-train")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def verify(onnx_bytes: bytes, lexical: Lexical, texts: Sequence[str],
           x: npt.NDArray[np.float32], head: Head) -> float:
    """The serving path (``Lexical`` + the exported graph) must give scikit-learn's
    features and probabilities; returns the largest probability difference."""
    import onnxruntime as ort

    try:
        tfidf = lexical.verified_transform(head.vectorizer, texts)
    except LexicalMismatch as exc:
        raise TrainingError(str(exc)) from exc
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    (got,) = session.run(["proba"], {"tfidf": tfidf, "embedding": x})
    diff = float(np.max(np.abs(np.asarray(got) - head.predict_proba(texts, x))))
    if diff > 1e-4:
        raise TrainingError(f"exported head differs from scikit-learn by {diff}")
    return diff


def export(head: Head, texts: Sequence[str], x: npt.NDArray[np.float32], graph_name: str,
           log: Callable[[str], None]) -> tuple[bytes, Lexical, float]:
    """The fitted head as ONNX and its vocabulary, verified against scikit-learn on every
    ~N/300-th training row: ``(onnx bytes, lexical, largest probability difference)``."""
    lexical = Lexical(dict(head.vectorizer.vocabulary_), list(head.vectorizer.idf_))
    exported = onnx_head(head, lexical.size, graph_name)
    sample = np.arange(0, len(texts), max(1, len(texts) // 300))
    diff = verify(exported, lexical, [texts[int(i)] for i in sample], x[sample], head)
    log(f"exported head matches scikit-learn (max |dp| {diff:.2e} on {len(sample)} rows)")
    return exported, lexical, diff


def training_record(*, files: Mapping[str, str], held_out: Sequence[str], seed: int, c: float,
                    min_df: int, lookalike_weight: float, benign_weight: str,
                    export_diff: float) -> dict[str, Any]:
    """The part of a spec's ``training`` every backstop records: the files read (sha256),
    the held-out sets, the draws and the regression's settings, the export check."""
    return {"files_sha256": dict(files), "held_out_never_read": list(held_out), "seed": seed,
            "C": c, "min_df": min_df, "lookalike_weight": lookalike_weight,
            "benign_weight": benign_weight, "export_max_abs_diff": export_diff}


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """A backstop's file names in its package (the spec names the other two)."""

    head: str
    lexical: str
    spec: str = "model_spec.json"


def write_model(out: Path, files: ModelFiles, exported: bytes, lexical: Lexical, *,
                name: str, version: str, encoder_sha256: str, body: Mapping[str, Any],
                started: float, log: Callable[[str], None]) -> dict[str, Any]:
    """Write the head, the vocabulary and the spec into ``out``; the spec pins both files
    and the encoder by sha256 around ``body`` (classes, text, thresholds, training, CV),
    with the environment and the seconds since ``started``. Returns the spec."""
    out.mkdir(parents=True, exist_ok=True)
    (out / files.head).write_bytes(exported)
    lexical_raw = lexical.dump(out / files.lexical)
    spec: dict[str, Any] = {
        "name": name,
        "version": version,
        "trained": dt.date.today().isoformat(),
        "head": {"file": files.head, "sha256": hashlib.sha256(exported).hexdigest(),
                 "bytes": len(exported)},
        "lexical": {"file": files.lexical, "sha256": hashlib.sha256(lexical_raw).hexdigest(),
                    "terms": lexical.size, "bytes": len(lexical_raw)},
        "encoder": {"name": "all-MiniLM-L6-v2 (int8 ONNX, classifiers/embedding)",
                    "sha256": encoder_sha256},
        **body,
        "environment": {"python": platform.python_version(), "platform": platform.platform(),
                        "scikit-learn": package_version("sklearn"),
                        "onnx": package_version("onnx")},
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / files.spec).write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n",
                                  encoding="utf-8")
    log(f"wrote {out / files.head} ({len(exported)} bytes), {out / files.lexical} "
        f"({len(lexical_raw)} bytes) and {out / files.spec}")
    return spec


def add_training_arguments(parser: argparse.ArgumentParser, package_dir: Path, *, c: float,
                           min_df: int, lookalike_rate: float) -> None:
    """The options every backstop trainer takes (its own defaults shown in the help)."""
    parser.add_argument("--data", default=os.environ.get("PRIMUM_DATA_DIR"),
                        help="data directory with benign/ (default: $PRIMUM_DATA_DIR)")
    parser.add_argument("--out", default=str(package_dir),
                        help="where to write the head, vocabulary and model_spec.json "
                        "(default: the package)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--c", type=float, default=c, help=f"inverse L2 strength ({c:g})")
    parser.add_argument("--min-df", type=int, default=min_df,
                        help=f"TF-IDF terms in at least this many texts ({min_df})")
    parser.add_argument("--lookalike-rate", type=float, default=lookalike_rate,
                        help=f"look-alike budget of the threshold ({lookalike_rate:g})")
    parser.add_argument("--oof-out", metavar="FILE", default=None,
                        help="also write every row's out-of-fold scores (JSONL)")


def run_training(data: str | None, train: Callable[[Path], object]) -> int:
    """A backstop trainer's exit code: 2 without a data directory, 1 when ``train(data_dir)``
    raises :class:`TrainingError` (the message on stderr), else 0."""
    if not data:
        print("error: give --data DIR or set PRIMUM_DATA_DIR", file=sys.stderr)
        return 2
    try:
        train(Path(data))
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


@dataclass(frozen=True, slots=True)
class BenignRow:
    """One ordinary medical question from the training part of a benign control set."""

    set_name: str
    id: str
    text: str
    group: str
    """A MedQuAD document's questions share one; other rows are their own group."""


def benign_training_rows(data_dir: Path) -> tuple[list[BenignRow], dict[str, str]]:
    """The training part (``classifiers/harmful_request/splits``) of every benign control
    set, and the sha256 of each file read (by its path relative to ``data_dir``)."""
    rows: list[BenignRow] = []
    files: dict[str, str] = {}
    for set_name, rel in BENIGN_SETS.items():
        path = data_dir / rel
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
            rows.append(BenignRow(set_name, r["id"], text, f"b:{group}"))
    return rows, files


def package_version(module: str) -> str:
    try:
        return str(__import__(module).__version__)
    except Exception:  # pragma: no cover - reporting only
        return "?"
