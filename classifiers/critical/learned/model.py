"""Run the learned backstop of ``critical_illness``: TF-IDF and a MiniLM embedding, then a head.

The head (``critical_learned.onnx``, written by ``classifiers.critical.learned.train``) is a
logistic regression over two classes, ``none`` and ``emergency``. It reads a text's word and
word-pair TF-IDF row (``lexical.json``'s vocabulary, computed by
``classifiers.harmful_request.lexical``; Chinese as character pairs) and its 384-d sentence
embedding (``classifiers.embedding``, shared with the other checks and cached by text), and
gives P(emergency): that the text describes a possible emergency happening now.

``model_spec.json`` pins the head, the vocabulary and the encoder by sha256 and carries the
threshold chosen by cross-validation; a file that does not match is an error, never a
silently different model. Loading is lazy and thread-safe. Serving needs numpy and
onnxruntime only (no scikit-learn).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from classifiers.embedding.runtime import DIMENSION
from classifiers.pinned import HeadSpec, ModelSpecError, PinnedHeadModel, load_head_spec, text_of

__all__ = ["CLASSES", "HEAD_FILE", "LEXICAL_FILE", "SPEC_FILE", "LearnedEmergencyModel",
           "ModelSpecError", "load_spec", "text_of"]

HEAD_FILE = "critical_learned.onnx"
LEXICAL_FILE = "lexical.json"
SPEC_FILE = "model_spec.json"
CLASSES = ("none", "emergency")
"""The head's output columns, in order."""
_PACKAGE = "classifiers.critical.learned"


def load_spec(path: str | os.PathLike[str] | None = None) -> HeadSpec:
    """Read a model spec; ``None`` is the one shipped in this package."""
    return load_head_spec(path, _PACKAGE, CLASSES, "emergency")


class LearnedEmergencyModel(PinnedHeadModel[HeadSpec]):
    """The encoder (shared with other checks) plus the head named by the spec."""

    def read_spec(self, path: str | os.PathLike[str] | None) -> HeadSpec:
        return load_spec(path)

    def score(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """P(emergency) for each text: one encoder call (through the shared cache), one head
        call."""
        self.load()
        assert self._lexical is not None
        if not texts:
            return np.zeros((0,), dtype=np.float32)
        embeddings = self.embedder.embed(list(texts))
        if embeddings.shape[1] != DIMENSION:
            raise ValueError(f"expected {DIMENSION}-d embeddings, got {embeddings.shape}")
        (proba,) = self._session.run(
            ["proba"], {"tfidf": self._lexical.transform(texts), "embedding": embeddings})
        return np.asarray(proba, dtype=np.float32)[:, 1]
