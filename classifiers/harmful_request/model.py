"""Run the harmful-request classifier: TF-IDF and MiniLM sentence embeddings, then a head.

The head (``harmful_request.onnx``, written by ``classifiers.harmful_request.train``) takes
a text's word and word-pair TF-IDF row (``lexical.json``'s vocabulary) and its 384-d
sentence embedding and gives three things at once:

- ``harmful``: the probability that fulfilling the text as a request would break one of the
  AMA principles (a binary logistic regression);
- ``principle``: the probability of each of the nine principles given that it is harmful
  (a multinomial logistic regression; only meaningful where ``harmful`` is high);
- ``refusal``: the probability that the text, read as a model's answer, is a refusal.

A spec may also name a fine-tuned encoder (``tuned``, see
``classifiers.harmful_request.tuned``): it then gives ``harmful`` and ``principle`` for
the texts it reads (three or more words, no CJK script: ``tuned.routes_here``), and the
head above gives them for the rest and gives ``refusal`` for all.

``model_spec.json`` pins the head and the encoder by sha256 and carries the thresholds the
training pipeline chose by cross-validation; a file that does not match is an error, never
a silently different model. Loading is lazy and thread-safe; scoring is batched (every
text of a request in one encoder call and one head call).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.embedding.runtime import DIMENSION, Embedder
from classifiers.harmful_request.tuned import TunedEncoder, TunedSpec, routes_here
from classifiers.pinned import ModelSpecError, PinnedHeadModel, pinned_fields, read_spec_json

__all__ = [
    "HEAD_FILE",
    "LEXICAL_FILE",
    "SPEC_FILE",
    "HarmfulRequestModel",
    "ModelSpec",
    "ModelSpecError",
    "RequestScores",
    "Scores",
    "load_spec",
]

HEAD_FILE = "harmful_request.onnx"
LEXICAL_FILE = "lexical.json"
SPEC_FILE = "model_spec.json"
_PACKAGE = "classifiers.harmful_request"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What ``model_spec.json`` pins: the head file and its sha256, the encoder's sha256,
    and the thresholds chosen by cross-validation on the training data."""

    version: str
    head_file: Path
    head_sha256: str
    lexical_file: Path
    lexical_sha256: str
    encoder_sha256: str
    thresholds: Mapping[str, float]
    raw: Mapping[str, Any]
    tuned: TunedSpec | None = None


def load_spec(path: str | os.PathLike[str] | None = None) -> ModelSpec:
    """Read a model spec; ``None`` is the one shipped in this package."""
    spec_path, raw = read_spec_json(path, _PACKAGE, SPEC_FILE)
    try:
        thresholds = {str(k): float(v) for k, v in raw["thresholds"].items()}
        for key in ("block", "report", "refusal"):
            if not 0.0 < thresholds[key] < 1.0:
                raise ValueError(f"thresholds.{key} must be in (0, 1)")
        return ModelSpec(**pinned_fields(spec_path, raw), thresholds=thresholds,
                         tuned=_tuned_spec(spec_path, raw.get("tuned")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelSpecError(f"{spec_path}: invalid model spec ({exc})") from None


def _tuned_spec(spec_path: Path, raw: Any) -> TunedSpec | None:
    if raw is None:
        return None
    scale = float(raw["logit_scale"])
    if not scale > 0.0:
        raise ValueError("tuned.logit_scale must be positive (the map keeps the order)")
    return TunedSpec(
        file=spec_path.parent / str(raw["file"]),
        sha256=str(raw["sha256"]),
        tokenizer_file=spec_path.parent / str(raw["tokenizer"]["file"]),
        tokenizer_sha256=str(raw["tokenizer"]["sha256"]),
        logit_scale=scale,
        logit_shift=float(raw["logit_shift"]),
    )


@dataclass(frozen=True, slots=True)
class RequestScores:
    """Per text: ``harmful`` (N,) and ``principle`` (N, 9) rows summing to 1."""

    harmful: npt.NDArray[np.float32]
    principle: npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Scores:
    """Per text: ``harmful`` (N,), ``principle`` (N, 9) rows summing to 1, ``refusal`` (N,)."""

    harmful: npt.NDArray[np.float32]
    principle: npt.NDArray[np.float32]
    refusal: npt.NDArray[np.float32]


class HarmfulRequestModel(PinnedHeadModel[ModelSpec]):
    """The encoder (shared with other checks) plus the head named by the spec; ``shared()``
    is the one the ``harmful_request`` and ``harmful_compliance`` checks both read."""

    def __init__(self, spec_path: str | os.PathLike[str] | None = None,
                 embedder: Embedder | None = None) -> None:
        super().__init__(spec_path, embedder)
        self._tuned: TunedEncoder | None = None
        self._ready = False
        self._ready_lock = threading.Lock()

    def read_spec(self, path: str | os.PathLike[str] | None) -> ModelSpec:
        return load_spec(path)

    def load(self) -> None:
        """The head, vocabulary and shared encoder, and the fine-tuned encoder if the
        spec names one. Idempotent; raises ``ModelSpecError`` naming the file."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            super().load()
            assert self._spec is not None
            if self._spec.tuned is not None:
                tuned = TunedEncoder(self._spec.tuned)
                tuned.load()
                self._tuned = tuned
            self._ready = True

    def _head(self, texts: Sequence[str]) -> tuple[Any, Any, Any]:
        assert self._lexical is not None
        embeddings = self.embedder.embed(list(texts))
        if embeddings.shape[1] != DIMENSION:
            raise ValueError(f"expected {DIMENSION}-d embeddings, got {embeddings.shape}")
        harmful, principle, refusal = self._session.run(
            ["harmful", "principle", "refusal"],
            {"tfidf": self._lexical.transform(texts), "embedding": embeddings},
        )
        return harmful, principle, refusal

    def _scored(self, texts: Sequence[str],
                with_refusal: bool) -> tuple[RequestScores, npt.NDArray[np.float32]]:
        """``harmful`` and ``principle`` per text from the model that reads it, and (with
        ``with_refusal``) the head's P(refusal) for every text; the head runs once, on
        the texts that need it."""
        self.load()
        n = len(texts)
        harmful = np.zeros((n,), dtype=np.float32)
        principle = np.zeros((n, 9), dtype=np.float32)
        refusal = np.zeros((n,), dtype=np.float32)
        tuned = [i for i, t in enumerate(texts) if self._tuned is not None and routes_here(t)]
        by_head = np.ones((n,), dtype=bool)
        by_head[tuned] = False
        if tuned:
            assert self._tuned is not None
            h, p = self._tuned.score([texts[i] for i in tuned])
            harmful[tuned], principle[tuned] = h, p
        rows = list(range(n)) if with_refusal else np.flatnonzero(by_head).tolist()
        if rows:
            h, p, r = self._head([texts[i] for i in rows])
            keep = by_head[rows]
            chosen = np.asarray(rows)[keep]
            harmful[chosen] = np.asarray(h, dtype=np.float32).reshape(-1)[keep]
            principle[chosen] = np.asarray(p, dtype=np.float32)[keep]
            refusal[rows] = np.asarray(r, dtype=np.float32).reshape(-1)
        return RequestScores(harmful, principle), refusal

    def requests(self, texts: Sequence[str]) -> RequestScores:
        """``harmful`` and ``principle`` for each text, each from the model that reads
        it (the fine-tuned encoder where the spec has one and ``tuned.routes_here``, else
        the head): what the input check needs, without the refusal."""
        return self._scored(texts, with_refusal=False)[0]

    def refusals(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """P(refusal) for each text (the head, on the shared embedding)."""
        self.load()
        if not texts:
            return np.zeros((0,), dtype=np.float32)
        return np.asarray(self._head(texts)[2], dtype=np.float32).reshape(-1)

    def score(self, texts: Sequence[str]) -> Scores:
        """All three scores for each text, the head run once."""
        request, refusal = self._scored(texts, with_refusal=True)
        return Scores(request.harmful, request.principle, refusal)
