"""The fine-tuned harmful-request encoder in onnxruntime (no torch at serving time).

``tuned.onnx`` is all-MiniLM-L6-v2 fine-tuned end to end on the harmful-request training
rows (``tuned_train``), with two heads in the graph: ``harmful_logit`` and ``principle``
(softmax over the nine AMA principles). The model spec pins it by sha256, with the
tokenizer it was trained with and the affine map of its logit that puts its
cross-validated thresholds on the pack's scale (``tuned_data finish``):
``P(harmful) = sigmoid(logit_scale * logit + logit_shift)``, so the policy's ``min_score``
means the same for every text whichever model scored it.

Its encoder reads English WordPiece: Chinese, Japanese and Korean characters are mostly
unknown to it, so texts in those scripts are scored by the linear head instead, and so
are texts of fewer than three words (``routes_here``). The file is int8 (weights; which
variant, and how far each moved the scores from torch's, is in the spec's ``export``
report); it scores one text per run, so a text's score never depends on its neighbours
in a batch.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.embedding.runtime import MAX_TOKENS, cpu_session
from classifiers.harmful_request.lexical import has_cjk
from classifiers.pinned import ModelSpecError, verify_pinned

__all__ = ["TunedEncoder", "TunedSpec", "routes_here"]


MIN_WORDS = 3
"""A text needs at least this many words for the encoder to score it."""
_WORD = re.compile(r"^[^\W\d_]{2,20}$")
_EDGE = "\"'.,;:!?()[]{}<>*-"


def routes_here(text: str) -> bool:
    """Whether the fine-tuned encoder scores ``text``: no CJK script, and at least
    ``MIN_WORDS`` words (whitespace-separated runs of 2-20 letters, punctuation at their
    edges aside). Fine-tuning made the encoder sure of what it learnt and unsure, in
    either direction, of what it never saw: a bare number, a token or an encoded blob
    scores in the middle or high ("1234567890" 0.46; a JWT 0.68). The linear head reads
    such texts calmly, so they stay with it."""
    if has_cjk(text):
        return False
    words = 0
    for token in text.split():
        if _WORD.match(token.strip(_EDGE)):
            words += 1
            if words >= MIN_WORDS:
                return True
    return False


@dataclass(frozen=True, slots=True)
class TunedSpec:
    """The spec's ``tuned`` entry: the model and tokenizer files with their sha256, and
    the logit map."""

    file: Path
    sha256: str
    tokenizer_file: Path
    tokenizer_sha256: str
    logit_scale: float
    logit_shift: float


class TunedEncoder:
    """Lazy, thread-safe; ``load()`` verifies both files against the spec."""

    def __init__(self, spec: TunedSpec) -> None:
        self.spec = spec
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            from tokenizers import Tokenizer

            verify_pinned((self.spec.file, self.spec.sha256),
                          (self.spec.tokenizer_file, self.spec.tokenizer_sha256))
            try:
                tokenizer = Tokenizer.from_file(str(self.spec.tokenizer_file))
                session = cpu_session(self.spec.file)
            except Exception as exc:
                raise ModelSpecError(f"{self.spec.file}: cannot load ({exc})") from None
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.no_padding()
            self._tokenizer = tokenizer
            self._session = session

    def score(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.float32],
                                                   npt.NDArray[np.float32]]:
        """``(P(harmful) [N], P(principle | harmful) [N, 9])``, one text per run."""
        self.load()
        harmful = np.empty(len(texts), dtype=np.float32)
        principle = np.empty((len(texts), 9), dtype=np.float32)
        for i, text in enumerate(texts):
            ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
            logit, probs = self._session.run(
                ["harmful_logit", "principle"],
                {"input_ids": ids, "attention_mask": np.ones_like(ids),
                 "token_type_ids": np.zeros_like(ids)})
            z = self.spec.logit_scale * float(np.asarray(logit).reshape(-1)[0])
            harmful[i] = 1.0 / (1.0 + np.exp(-(z + self.spec.logit_shift)))
            principle[i] = np.asarray(probs, dtype=np.float32).reshape(-1)
        return harmful, principle
