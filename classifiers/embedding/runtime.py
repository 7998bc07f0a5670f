"""Sentence embeddings with all-MiniLM-L6-v2 in onnxruntime (no torch).

``Embedder().embed(texts)`` returns one L2-normalised 384-d row per text, computed as
sentence-transformers computes it: WordPiece tokens (``tokenizer.json``, lower-cased,
truncated to 256 tokens), the encoder's last hidden state, mean-pooled over the attention
mask, then divided by its L2 norm. The ONNX file is checked against the sha256 in
``MODEL_SHA256`` before it is loaded: a swapped or truncated model is an error, never a
silently different embedding. See MODEL_CARD.md for the export and the measurements.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DIMENSION",
    "MAX_TOKENS",
    "MODEL_FILE",
    "MODEL_SHA256",
    "TOKENIZER_FILE",
    "Embedder",
    "EmbeddingModelError",
    "cpu_session",
    "sha256_file",
]

MODEL_FILE = "minilm-l6-v2.onnx"
MODEL_SHA256 = "ec63c6eb21f37781c096233d1a357384aae7bb9bee01ece9e818b56774b85a04"
TOKENIZER_FILE = "tokenizer.json"
MAX_TOKENS = 256
DIMENSION = 384
CACHE_SIZE = 4096
"""Texts whose embeddings ``embed`` keeps (LRU): several checks embed the same user turn."""


_SHARED: Embedder | None = None
_SHARED_LOCK = threading.Lock()


class EmbeddingModelError(RuntimeError):
    """The embedding model or tokenizer cannot be used (missing, wrong hash, unreadable)."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cpu_session(path: Path, threads: int = 1) -> Any:
    """An onnxruntime CPU session with ``threads`` intra-op threads and one inter-op
    thread, so one request never takes every core of a serving worker. Raises what
    onnxruntime raises; callers name the file in their own error."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class Embedder:
    """Lazy, thread-safe sentence embedder. ``load()`` reads and verifies the files once;
    ``embed()`` loads on first use. One instance can serve every thread: onnxruntime's
    ``InferenceSession.run`` and the tokenizer's ``encode`` are safe to call
    concurrently, and loading is guarded by a lock.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        tokenizer_path: str | os.PathLike[str] | None = None,
        *,
        sha256: str | None = MODEL_SHA256,
        threads: int = 1,
    ) -> None:
        """``model_path``/``tokenizer_path`` default to the files shipped in this package.
        ``sha256`` is the digest the model must have (``None`` skips the check, for tests
        of other files only). ``threads`` is onnxruntime's intra-op thread count: 1 keeps
        one request from taking every core of a serving worker."""
        here = importlib.resources.files(__package__ or "classifiers.embedding")
        self.model_path = Path(model_path) if model_path else Path(str(here / MODEL_FILE))
        self.tokenizer_path = (
            Path(tokenizer_path) if tokenizer_path else Path(str(here / TOKENIZER_FILE))
        )
        self.sha256 = sha256
        self.threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.cache_size = CACHE_SIZE

    @classmethod
    def shared(cls) -> Embedder:
        """The process-wide embedder for the shipped model. Every check that embeds text
        uses it, so the model is loaded once and a user turn that two checks look at
        is embedded once (``embed`` caches by text)."""
        global _SHARED
        with _SHARED_LOCK:
            if _SHARED is None:
                _SHARED = cls()
            return _SHARED

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> None:
        """Verify and load the model and tokenizer. Idempotent; raises
        ``EmbeddingModelError`` naming the file on any problem."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            from tokenizers import Tokenizer

            for path in (self.model_path, self.tokenizer_path):
                if not path.is_file():
                    raise EmbeddingModelError(f"{path}: embedding model file not found")
            if self.sha256 is not None:
                actual = sha256_file(self.model_path)
                if actual != self.sha256:
                    raise EmbeddingModelError(
                        f"{self.model_path}: sha256 mismatch (expected {self.sha256}, got "
                        f"{actual}); the file is not the model this code was measured with"
                    )
            try:
                tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
            except Exception as exc:
                raise EmbeddingModelError(f"{self.tokenizer_path}: cannot load ({exc})") from None
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            # tokenizer.json pads every text to 128 tokens; one text per run needs none.
            tokenizer.no_padding()
            try:
                session = cpu_session(self.model_path, self.threads)
            except Exception as exc:
                raise EmbeddingModelError(f"{self.model_path}: cannot load ({exc})") from None
            self._inputs = frozenset(i.name for i in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """``(len(texts), 384)`` float32, each row of unit length (zeros for no texts).
        Rows are cached by text (``cache_size`` most recent); the returned array is the
        caller's own."""
        self.load()
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        missing: list[int] = []
        with self._cache_lock:
            for i, text in enumerate(texts):
                row = self._cache.get(text)
                if row is None:
                    missing.append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = row
        if not missing:
            return out
        # One text per run: the model quantises activations at run time with one scale per
        # tensor, so in a batch a text's embedding would depend on its neighbours (and on
        # their padding). Alone, it is the same wherever it is embedded.
        for i in missing:
            out[i] = self._embed_one(texts[i])
        if self.cache_size > 0:
            with self._cache_lock:
                for i in missing:
                    self._cache[texts[i]] = out[i].copy()
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return out

    def _embed_one(self, text: str) -> npt.NDArray[np.float32]:
        encoding = self._tokenizer.encode(text)
        ids = np.array([encoding.ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0][0]
        pooled = hidden.mean(axis=0)
        result: npt.NDArray[np.float32] = (
            pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        ).astype(np.float32)
        return result
