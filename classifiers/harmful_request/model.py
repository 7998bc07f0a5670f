"""Run the harmful-request classifier: TF-IDF and MiniLM sentence embeddings, then a head.

The head (``harmful_request.onnx``, written by ``classifiers.harmful_request.train``) takes
a text's word and word-pair TF-IDF row (``lexical.json``'s vocabulary) and its 384-d
sentence embedding and gives three things at once:

- ``harmful``: the probability that fulfilling the text as a request would break one of the
  AMA principles (a binary logistic regression);
- ``principle``: the probability of each of the nine principles given that it is harmful
  (a multinomial logistic regression; only meaningful where ``harmful`` is high);
- ``refusal``: the probability that the text, read as a model's answer, is a refusal.

``model_spec.json`` pins the head and the encoder by sha256 and carries the thresholds the
training pipeline chose by cross-validation; a file that does not match is an error, never
a silently different model. Loading is lazy and thread-safe; scoring is batched (every
text of a request in one encoder call and one head call).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.embedding.runtime import DIMENSION
from classifiers.pinned import ModelSpecError, PinnedHeadModel, pinned_fields, read_spec_json

__all__ = [
    "HEAD_FILE",
    "LEXICAL_FILE",
    "SPEC_FILE",
    "HarmfulRequestModel",
    "ModelSpec",
    "ModelSpecError",
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


def load_spec(path: str | os.PathLike[str] | None = None) -> ModelSpec:
    """Read a model spec; ``None`` is the one shipped in this package."""
    spec_path, raw = read_spec_json(path, _PACKAGE, SPEC_FILE)
    try:
        thresholds = {str(k): float(v) for k, v in raw["thresholds"].items()}
        for key in ("block", "report", "refusal"):
            if not 0.0 < thresholds[key] < 1.0:
                raise ValueError(f"thresholds.{key} must be in (0, 1)")
        return ModelSpec(**pinned_fields(spec_path, raw), thresholds=thresholds)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelSpecError(f"{spec_path}: invalid model spec ({exc})") from None


@dataclass(frozen=True, slots=True)
class Scores:
    """Per text: ``harmful`` (N,), ``principle`` (N, 9) rows summing to 1, ``refusal`` (N,)."""

    harmful: npt.NDArray[np.float32]
    principle: npt.NDArray[np.float32]
    refusal: npt.NDArray[np.float32]


class HarmfulRequestModel(PinnedHeadModel[ModelSpec]):
    """The encoder (shared with other checks) plus the head named by the spec; ``shared()``
    is the one the ``harmful_request`` and ``harmful_compliance`` checks both read."""

    def read_spec(self, path: str | os.PathLike[str] | None) -> ModelSpec:
        return load_spec(path)

    def score(self, texts: Sequence[str]) -> Scores:
        """Scores for each text: one encoder call (through the shared cache), one head call."""
        self.load()
        assert self._lexical is not None
        if not texts:
            empty = np.zeros((0,), dtype=np.float32)
            return Scores(empty, np.zeros((0, 9), dtype=np.float32), empty)
        embeddings = self.embedder.embed(list(texts))
        if embeddings.shape[1] != DIMENSION:
            raise ValueError(f"expected {DIMENSION}-d embeddings, got {embeddings.shape}")
        harmful, principle, refusal = self._session.run(
            ["harmful", "principle", "refusal"],
            {"tfidf": self._lexical.transform(texts), "embedding": embeddings},
        )
        return Scores(
            np.asarray(harmful, dtype=np.float32).reshape(-1),
            np.asarray(principle, dtype=np.float32),
            np.asarray(refusal, dtype=np.float32).reshape(-1),
        )
