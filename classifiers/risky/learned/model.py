"""Run the learned backstop of ``risky_intent``: TF-IDF and a MiniLM embedding, then a head.

The head (``risky_learned.onnx``, written by ``classifiers.risky.learned.train``) is one
multinomial logistic regression over six classes, ``none`` and the five kinds of risky
plan (:data:`KINDS`). It reads a text's word and word-pair TF-IDF row (``lexical.json``'s
vocabulary, computed by ``classifiers.harmful_request.lexical``) and its 384-d sentence
embedding (``classifiers.embedding``, shared with the other checks and cached by text) and
gives the six probabilities. The risk is ``1 - P(none)``; the kind is the most probable of
the five kinds.

``model_spec.json`` pins the head, the vocabulary and the encoder by sha256 and carries the
threshold chosen by cross-validation; a file that does not match is an error, never a
silently different model. Loading is lazy and thread-safe. Serving needs numpy and
onnxruntime only (no scikit-learn).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from classifiers.embedding.runtime import DIMENSION
from classifiers.pinned import (
    HeadSpec,
    ModelSpecError,
    PinnedHeadModel,
    load_head_spec,
    text_of,
)

__all__ = [
    "CLASSES",
    "HEAD_FILE",
    "KINDS",
    "LEXICAL_FILE",
    "SPEC_FILE",
    "LearnedRiskModel",
    "ModelSpec",
    "ModelSpecError",
    "Scores",
    "load_spec",
    "text_of",
]

HEAD_FILE = "risky_learned.onnx"
LEXICAL_FILE = "lexical.json"
SPEC_FILE = "model_spec.json"
KINDS = ("misuse", "treatment_abandonment", "care_delay", "self_treatment", "false_cure")
CLASSES = ("none", *KINDS)
"""The head's output columns, in order."""
_PACKAGE = "classifiers.risky.learned"


ModelSpec = HeadSpec
"""What ``model_spec.json`` pins (``classifiers.pinned.HeadSpec``)."""


def load_spec(path: str | os.PathLike[str] | None = None) -> ModelSpec:
    """Read a model spec; ``None`` is the one shipped in this package."""
    return load_head_spec(path, _PACKAGE, CLASSES, "note")


@dataclass(frozen=True, slots=True)
class Scores:
    """Per text: ``risk`` (N,) = 1 - P(none), ``kind`` the most probable kind's name,
    ``proba`` (N, 6) in :data:`CLASSES` order."""

    risk: npt.NDArray[np.float32]
    kind: tuple[str, ...]
    proba: npt.NDArray[np.float32]


class LearnedRiskModel(PinnedHeadModel[ModelSpec]):
    """The encoder (shared with other checks) plus the head named by the spec."""

    def read_spec(self, path: str | os.PathLike[str] | None) -> ModelSpec:
        return load_spec(path)

    def score(self, texts: Sequence[str]) -> Scores:
        """Scores for each text: one encoder call (through the shared cache), one head call."""
        self.load()
        assert self._lexical is not None
        if not texts:
            return Scores(np.zeros((0,), dtype=np.float32), (),
                          np.zeros((0, len(CLASSES)), dtype=np.float32))
        embeddings = self.embedder.embed(list(texts))
        if embeddings.shape[1] != DIMENSION:
            raise ValueError(f"expected {DIMENSION}-d embeddings, got {embeddings.shape}")
        (proba,) = self._session.run(
            ["proba"], {"tfidf": self._lexical.transform(texts), "embedding": embeddings})
        proba = np.asarray(proba, dtype=np.float32)
        kinds = tuple(KINDS[int(k)] for k in proba[:, 1:].argmax(axis=1))
        return Scores((1.0 - proba[:, 0]).astype(np.float32), kinds, proba)
