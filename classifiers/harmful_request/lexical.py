"""Word and word-pair TF-IDF features, computed exactly as scikit-learn computes them.

The classifier reads a text two ways: as a MiniLM sentence embedding (what it means) and
as the words it uses ("falsify", "without her knowing", "bill it as"), which separate a
request to *do* something from a question *about* it better than the embedding alone
(cross-validated numbers in MODEL_CARD.md). The vocabulary and inverse document
frequencies are fitted by the training pipeline and stored in ``lexical.json`` (pinned by
sha256 in ``model_spec.json``); this module turns texts into the feature rows the ONNX head
takes as its ``tfidf`` input. It is the text-to-numbers step, like the WordPiece tokenizer
before the encoder: the model itself runs in onnxruntime.

``tokens`` is the one definition of a word for training and serving: lower-cased runs of
two or more word characters (letters of any script, digits, underscore), except that
Chinese, Japanese and Korean script, written without spaces, is read as overlapping
character pairs ("能不能帮我" -> 能不, 不能, 能帮, 帮我), the usual word proxy for CJK
search; without it a whole Chinese sentence was one "word" that no vocabulary holds, and
Chinese text reached the head through the (English) encoder alone.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Lexical", "LexicalMismatch", "analyze", "has_cjk", "tokens"]

_WORD = re.compile(r"\w\w+")
_ANALYZER = ("unigrams+bigrams of \\w\\w+ lower-cased (CJK as character pairs), "
             "sublinear tf, l2")
# Han (with extension A and compatibility ideographs), kana, hangul.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


def _split_cjk(word: str) -> list[str]:
    """``word`` (a ``\\w\\w+`` run) with its CJK stretches as character pairs and what
    lies between as ordinary words (two characters or more)."""
    out: list[str] = []
    at = 0
    for run in _CJK.finditer(word):
        if run.start() - at >= 2:
            out.append(word[at:run.start()])
        chars = run.group()
        if len(chars) == 1:
            out.append(chars)
        else:
            out.extend(chars[i:i + 2] for i in range(len(chars) - 1))
        at = run.end()
    if len(word) - at >= 2:
        out.append(word[at:])
    return out


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds Chinese, Japanese or Korean script (read as character pairs)."""
    return _CJK.search(text) is not None


def tokens(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    if not has_cjk(text):
        return words
    out: list[str] = []
    for word in words:
        out.extend(_split_cjk(word) if has_cjk(word) else (word,))
    return out


def analyze(text: str) -> list[str]:
    """Unigrams and bigrams of ``tokens(text)`` (scikit-learn's ``ngram_range=(1, 2)``)."""
    words = tokens(text)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


class LexicalMismatch(ValueError):
    """The serving TF-IDF does not reproduce scikit-learn's on the training texts."""


class Lexical:
    """``transform(texts)`` = ``TfidfVectorizer(analyzer=analyze, sublinear_tf=True)``."""

    def __init__(self, vocabulary: dict[str, int], idf: Sequence[float]) -> None:
        if len(vocabulary) != len(idf) or sorted(vocabulary.values()) != list(range(len(idf))):
            raise ValueError("vocabulary indexes must be 0..len(idf)-1")
        self.vocabulary = vocabulary
        self.idf = np.asarray(idf, dtype=np.float64)

    @property
    def size(self) -> int:
        return len(self.vocabulary)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Lexical:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        terms: list[str] = data["terms"]
        return cls({t: i for i, t in enumerate(terms)}, data["idf"])

    def dump(self, path: str | os.PathLike[str]) -> bytes:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        raw = json.dumps({"analyzer": _ANALYZER,
                          "terms": terms, "idf": [round(float(x), 8) for x in self.idf]},
                         ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        Path(path).write_bytes(raw)
        return raw

    def transform(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.size), dtype=np.float32)
        for row, text in enumerate(texts):
            counts = Counter(t for t in analyze(text) if t in self.vocabulary)
            if not counts:
                continue
            cols = np.fromiter((self.vocabulary[t] for t in counts), dtype=np.int64)
            values = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64)
            values *= self.idf[cols]
            values /= np.linalg.norm(values)
            out[row, cols] = values
        return out

    def verified_transform(self, vectorizer: Any, texts: Sequence[str],
                           tolerance: float = 1e-5) -> npt.NDArray[np.float32]:
        """``transform(texts)`` after checking it equals the fitted scikit-learn
        ``vectorizer`` on them (what each training pipeline checks before export)."""
        got = self.transform(texts)
        want = vectorizer.transform(list(texts)).toarray()
        diff = float(np.max(np.abs(got - want))) if len(texts) else 0.0
        if diff > tolerance:
            raise LexicalMismatch(f"serving TF-IDF differs from scikit-learn by {diff}")
        return got
