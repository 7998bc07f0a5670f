"""The crisis check's semantic layer: sentence embeddings against clinical prototypes.

The lexicon generalises to new *wordings* of a phrase it knows, not to new *ideas*
("I don't see myself being alive by Christmas"). This layer compares each English sentence
of a user turn (and the whole turn) with prototype statements written from the screening
instruments (``classifiers/crisis/prototypes.yaml``), using all-MiniLM-L6-v2
(``classifiers.embedding``), and reports a category when

- the best cosine to that category's statements reaches its threshold, and
- that cosine beats the best cosine to the negative statements (idioms, someone else,
  dose-safety questions, the past, denials, illness) by ``SEMANTIC_MARGIN``.

It runs only where the lexicon's context rules leave the sentence to the user, now:
sentences in which the lexicon turned a match down (negated, historical, an idiom or
accident, someone else's question) or reported a third party are skipped, as are sentences
governed by a reported-speech cue or a historical cue with nothing current. A hypothetical
("what if ...") is capped at ``passive_ideation``.

Conservative by design (numbers in classifiers/crisis/README.md): a semantic hit for an
escalated category is reported as ``passive_ideation`` (annotate with gentle resources)
unless its cosine reaches that category's ``escalate`` threshold. Chinese text is not
embedded (the model is English-only).
"""

from __future__ import annotations

import importlib.resources
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from classifiers.embedding.runtime import Embedder
from guard.errors import SourceError

__all__ = [
    "SEMANTIC_MARGIN",
    "SEMANTIC_SCORE",
    "SEMANTIC_THRESHOLDS",
    "PrototypeError",
    "PrototypeGroup",
    "Prototypes",
    "SemanticHit",
    "SemanticLayer",
    "Thresholds",
    "load_prototypes",
]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """``report``: cosine from which a category is reported (as passive_ideation for an
    escalated category); ``escalate``: cosine from which an escalated category is reported
    as itself (``None``: never escalated by this layer)."""

    report: float
    escalate: float | None


# Tuned on the benign sets and evaluation sets 1 and 2 (README, "Semantic layer").
SEMANTIC_THRESHOLDS: Mapping[str, Thresholds] = {
    "suicidal_ideation": Thresholds(report=0.60, escalate=0.70),
    "self_harm": Thresholds(report=0.60, escalate=0.70),
    "overdose_intent": Thresholds(report=0.60, escalate=0.70),
    "passive_ideation": Thresholds(report=0.60, escalate=None),
}
SEMANTIC_MARGIN = 0.10
"""A category's cosine must beat the nearest negative statement's by this much."""
SEMANTIC_SCORE = {"escalated": 0.7, "passive": 0.6}
"""Finding scores (the policy acts from 0.5); a semantic finding never claims the
certainty of a lexicon match."""

_CATEGORIES = ("suicidal_ideation", "self_harm", "overdose_intent", "passive_ideation")
_ESCALATED = frozenset({"suicidal_ideation", "self_harm", "overdose_intent"})
_NEGATIVE = "negative"
_PACKAGE = "classifiers.crisis"
_RESOURCE = "prototypes.yaml"
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z]{2,}")
_MIN_WORDS = 3


class PrototypeError(SourceError):
    """A prototype file that cannot be used; ``str()`` names the file and field."""


@dataclass(frozen=True, slots=True)
class PrototypeGroup:
    id: str
    category: str
    source: str
    statements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Prototypes:
    source: str
    version: str
    groups: tuple[PrototypeGroup, ...]


_TOP = {"schema", "version", "model", "groups"}
_GROUP = {"id", "category", "source", "statements"}


def load_prototypes(path: str | os.PathLike[str] | None = None) -> Prototypes:
    """Read and validate prototype statements; ``None`` is the shipped file."""
    if path is None:
        source = f"{_PACKAGE.replace('.', '/')}/{_RESOURCE}"
        resource = importlib.resources.files(_PACKAGE).joinpath(_RESOURCE)
        try:
            text = resource.read_text(encoding="utf-8")
        except OSError as exc:
            raise PrototypeError(source, f"cannot read prototypes ({exc})") from None
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PrototypeError(source, f"cannot read prototypes ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PrototypeError(source, f"invalid YAML: {exc}") from None
    if not isinstance(data, dict) or set(data) - _TOP or data.get("schema") != 1:
        raise PrototypeError(source, f"must be a mapping with keys {sorted(_TOP)}, schema 1")
    raw_groups = data.get("groups")
    if not isinstance(raw_groups, list) or not raw_groups:
        raise PrototypeError(source, "must have a non-empty list", field="groups")
    groups: list[PrototypeGroup] = []
    for i, raw in enumerate(raw_groups):
        field = f"groups[{i}]"
        if not isinstance(raw, dict) or set(raw) != _GROUP:
            raise PrototypeError(source, f"must have exactly the keys {sorted(_GROUP)}",
                                 field=field)
        if raw["category"] not in (*_CATEGORIES, _NEGATIVE):
            raise PrototypeError(source, f"unknown category {raw['category']!r}",
                                 field=f"{field}.category")
        statements = raw["statements"]
        if (not isinstance(statements, list) or not statements
                or not all(isinstance(t, str) and t.strip() for t in statements)):
            raise PrototypeError(source, "must be a non-empty list of strings",
                                 field=f"{field}.statements")
        if not isinstance(raw["source"], str) or not raw["source"].strip():
            raise PrototypeError(source, "must cite a source", field=f"{field}.source")
        groups.append(PrototypeGroup(str(raw["id"]), raw["category"], raw["source"],
                                     tuple(statements)))
    present = {g.category for g in groups}
    missing = [c for c in (*_CATEGORIES, _NEGATIVE) if c not in present]
    if missing:
        raise PrototypeError(source, f"no statements for {missing}", field="groups")
    return Prototypes(source, str(data.get("version", "")), tuple(groups))


@dataclass(frozen=True, slots=True)
class SemanticHit:
    """One unit's verdict: the category to report, its finding score, the cosine, the
    prototype group that won, and the unit's span in the caller's text."""

    category: str
    score: float
    cosine: float
    group: str
    span: tuple[int, int]


class SemanticLayer:
    """Prototype embeddings plus thresholds; ``score_units`` is pure given the embedder."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        prototypes_path: str | os.PathLike[str] | None = None,
        thresholds: Mapping[str, Thresholds] = SEMANTIC_THRESHOLDS,
        margin: float = SEMANTIC_MARGIN,
    ) -> None:
        self.embedder = embedder or Embedder.shared()
        self.prototypes_path = prototypes_path
        self.thresholds = dict(thresholds)
        self.margin = margin
        self._matrix: npt.NDArray[np.float32] | None = None
        self._columns: dict[str, npt.NDArray[np.intp]] = {}
        self._group_of: list[str] = []
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the embedder and embed the prototypes (once)."""
        if self._matrix is not None:
            return
        with self._lock:
            if self._matrix is not None:
                return
            prototypes = load_prototypes(self.prototypes_path)
            statements: list[str] = []
            categories: list[str] = []
            for group in prototypes.groups:
                for statement in group.statements:
                    statements.append(statement)
                    categories.append(group.category)
                    self._group_of.append(group.id)
            self.embedder.load()
            matrix = self.embedder.embed(statements)
            cats = np.array(categories)
            self._columns = {c: np.flatnonzero(cats == c) for c in (*_CATEGORIES, _NEGATIVE)}
            self._matrix = matrix

    def similarities(self, texts: Sequence[str]) -> dict[str, Any]:
        """Per text: best cosine per category and to the negatives, and the winning
        prototype group per category (for tuning and explanations)."""
        self.load()
        assert self._matrix is not None
        sims = self.embedder.embed(list(texts)) @ self._matrix.T
        out: dict[str, Any] = {}
        for category, cols in self._columns.items():
            block = sims[:, cols]
            best = block.argmax(axis=1)
            out[category] = block[np.arange(len(texts)), best]
            out[f"{category}:group"] = [self._group_of[cols[b]] for b in best]
        return out

    def decide(self, sims: Mapping[str, Any], i: int, cap_passive: bool) -> SemanticHit | None:
        """The verdict for unit ``i`` of ``similarities()``'s output (span left empty)."""
        negative = float(sims[_NEGATIVE][i])
        best: SemanticHit | None = None
        for category in _CATEGORIES:
            cosine = float(sims[category][i])
            limits = self.thresholds[category]
            if cosine < limits.report or cosine - negative < self.margin:
                continue
            escalate = (
                category in _ESCALATED
                and not cap_passive
                and limits.escalate is not None
                and cosine >= limits.escalate
            )
            reported = category if escalate else "passive_ideation"
            score = SEMANTIC_SCORE["escalated" if escalate else "passive"]
            hit = SemanticHit(reported, score, cosine, sims[f"{category}:group"][i], (0, 0))
            if best is None or (hit.score, hit.cosine) > (best.score, best.cosine):
                best = hit
        return best


def english_unit(text: str) -> bool:
    """Worth embedding: no Chinese, and at least ``_MIN_WORDS`` Latin words."""
    return _HAN.search(text) is None and len(_WORD.findall(text.lower())) >= _MIN_WORDS
