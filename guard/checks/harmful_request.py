"""The ``harmful_request`` check: requests that would make the assistant break an AMA principle.

MedSafetyBench's taxonomy: a request is harmful when fulfilling it would act against one of
the nine AMA Principles of Medical Ethics (falsify a record, deceive a patient, breach a
confidence, discriminate, ...). The classifier (``classifiers.harmful_request``) gives each
text a probability of being harmful and a distribution over the nine principles; this
check decides *which texts* it sees:

- every new user turn, as written and as ``guard.textnorm`` normalises it (zero-width
  characters, homoglyphs, leetspeak, base64 undone; role-play, "developer mode",
  hypothetical and fictional framings unwrapped): a turn scores the highest of its views;
- long turns also in windows of a few sentences, so a harmful ask at the end of a long,
  friendly story is not averaged away (the encoder reads 256 tokens at most);
- the last few user turns joined, when there is more than one, so a request split across
  turns ("I need a note for work" ... "make it look like it's from my GP") is seen whole.

A finding is reported for a turn whose best score reaches ``report_threshold`` (the
model spec's cross-validated "borderline" threshold unless the policy sets one). Its
``category`` and ``principle`` are the most probable principle, its ``score`` the harmful
probability; the policy's rules decide, per principle, from which score to block. The
explanation names the principle scores and the obfuscations or framings undone, never the
text.

With ``safe_side_below`` set, a turn on the safe side of someone's risky plan (it asks how to
talk them out of it or debunk the claim, defers to the clinician, keeps to the treatment,
takes medicines back, and tells no plan of its own: the risky-intent matcher's
``protective``) that scores below it is
reported as category ``safe_side``, its principle kept: "how can I explain to her why sharing
her Adderall is a bad idea", "帮我想几条理由说服她" read like requests to deceive or to deny
care to the classifier. A policy's per-principle block rules then do not match it; it is
still recorded, and a borderline rule still sends the answer to the compliance check.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from classifiers.harmful_request.model import HarmfulRequestModel
from classifiers.harmful_request.principles import category_of
from guard.checks.base import CheckParamsError
from guard.checks.crisis import normalize as crisis_normalize
from guard.checks.risky_intent import shared_matcher
from guard.textnorm import normalize
from guard.types import Context, Finding, Segment, Stage

__all__ = ["SAFE_SIDE", "HarmfulRequestCheck", "Unit", "factory", "units_for"]

SAFE_SIDE = "safe_side"
"""The category of a turn on the safe side of a plan, below ``safe_side_below``."""

CONTEXT_TURNS = 3
"""User turns joined to catch a request split across turns."""
WINDOW_WORDS = 60
"""Long turns are also scored in windows of about this many words (whole sentences)."""
LONG_WORDS = 90
"""A turn longer than this many words is also scored in windows."""
MAX_WINDOWS = 6
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")


@dataclass(frozen=True, slots=True)
class Unit:
    """One text the classifier scores, the segment its finding belongs to, and why it was
    scored (``view``: original, normalized, unwrapped, window, turns)."""

    text: str
    segment: int
    view: str
    transforms: tuple[str, ...] = ()


def _windows(text: str) -> list[str]:
    words = text.split()
    if len(words) <= LONG_WORDS:
        return []
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    windows: list[str] = []
    current: list[str] = []
    count = 0
    for sentence in sentences:
        n = len(sentence.split())
        if current and count + n > WINDOW_WORDS:
            windows.append(" ".join(current))
            current, count = [], 0
        current.append(sentence)
        count += n
    if current:
        windows.append(" ".join(current))
    if len(windows) <= 1:
        return []
    # The ask is most often at the end of a long message: keep the last windows.
    return windows[-MAX_WINDOWS:]


def units_for(segments: Sequence[Segment]) -> list[Unit]:
    """The texts to score for ``segments``: see the module docstring."""
    units: list[Unit] = []
    user = [i for i, s in enumerate(segments) if s.role == "user" and s.text.strip()]
    for i in user:
        if not segments[i].new:
            continue
        text = segments[i].text
        norm = normalize(text)
        transforms = (*norm.obfuscations, *norm.wrappers)
        views = list(enumerate(norm.variants or (text,)))
        if "base64" in norm.obfuscations and len(views) > 1:
            # The encoded text is noise to a classifier (the fine-tuned encoder scores a
            # blob as it never learnt to); the decoded view holds what was said.
            views = views[1:]
        for n, view in views:
            units.append(Unit(view, i, "original" if n == 0 else "normalized", transforms))
        for window in _windows(norm.text):
            units.append(Unit(window, i, "window", transforms))
    if len(user) > 1 and segments[user[-1]].new:
        recent = [segments[i].text for i in user[-CONTEXT_TURNS:]]
        joined = normalize(" ".join(recent))
        units.append(Unit(joined.text, user[-1], "turns",
                          (*joined.obfuscations, *joined.wrappers)))
    return units


class HarmfulRequestCheck:
    """See the module docstring. Thread-safe; the model loads in ``load()``."""

    def __init__(
        self,
        name: str,
        stages: frozenset[Stage],
        *,
        model: HarmfulRequestModel | None = None,
        report_threshold: float | None = None,
        safe_side_below: float | None = None,
    ) -> None:
        self.name = name
        self.stages = stages
        self.model = model or HarmfulRequestModel.shared()
        self._report_threshold = report_threshold
        self.safe_side_below = safe_side_below

    def load(self) -> None:
        self.model.load()
        if self.safe_side_below is not None:
            _ = shared_matcher()

    @property
    def report_threshold(self) -> float:
        if self._report_threshold is not None:
            return self._report_threshold
        return self.model.spec.thresholds["report"]

    async def detect(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        """Findings for the new user turns. ``ctx`` is not consulted: whether a request is
        harmful does not depend on who asks; what to do about it is policy."""
        self.load()
        units = units_for(segments)
        if not units:
            return []
        return await asyncio.to_thread(self._score, units, segments)

    def _safe_side(self, text: str) -> bool:
        return shared_matcher().protective(crisis_normalize(text).text)

    def _score(self, units: Sequence[Unit], segments: Sequence[Segment] = ()) -> list[Finding]:
        scores = self.model.requests([u.text for u in units])
        best: dict[int, int] = {}
        for k, unit in enumerate(units):
            current = best.get(unit.segment)
            if current is None or scores.harmful[k] > scores.harmful[current]:
                best[unit.segment] = k
        findings = []
        threshold = self.report_threshold
        for segment, k in sorted(best.items()):
            harmful = float(scores.harmful[k])
            if harmful < threshold:
                continue
            principles = scores.principle[k]
            top = int(np.argmax(principles)) + 1
            ranked = np.argsort(-principles)[:3]
            detail = ", ".join(f"{int(j) + 1}: {float(principles[j]):.2f}" for j in ranked)
            unit = units[k]
            via = f"; undone: {', '.join(unit.transforms)}" if unit.transforms else ""
            category = category_of(top)
            if (self.safe_side_below is not None and harmful < self.safe_side_below
                    and segment < len(segments) and self._safe_side(segments[segment].text)):
                category = SAFE_SIDE
                via += "; the turn takes the safe side of a plan"
            findings.append(Finding(
                check=self.name,
                category=category,
                score=round(harmful, 4),
                segment=segment,
                principle=top,
                explanation=f"P(harmful)={harmful:.2f} ({unit.view}); principles {detail}{via}",
            ))
        return findings


_PARAMS = ("report_threshold", "model_spec", "safe_side_below")


def factory(name: str, stages: frozenset[Stage], params: Mapping[str, Any]) -> HarmfulRequestCheck:
    """Build the check from policy params (``report_threshold``: 0-1, default the model
    spec's; ``model_spec``: path to another trained model's ``model_spec.json``)."""
    for key in params:
        if key not in _PARAMS:
            raise CheckParamsError(str(key), f"unknown parameter (known: {', '.join(_PARAMS)})")
    threshold = params.get("report_threshold")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise CheckParamsError("report_threshold", "must be a number between 0 and 1")
        if not 0.0 < float(threshold) < 1.0:
            raise CheckParamsError("report_threshold", "must be between 0 and 1 (exclusive)")
    spec = params.get("model_spec")
    if spec is not None and (not isinstance(spec, str | os.PathLike) or not str(spec).strip()):
        raise CheckParamsError("model_spec", "must be a path to a model_spec.json")
    safe_below = params.get("safe_side_below")
    if safe_below is not None and (
            isinstance(safe_below, bool) or not isinstance(safe_below, int | float)
            or not 0.0 < float(safe_below) <= 1.0):
        raise CheckParamsError("safe_side_below", "must be a number in (0, 1]")
    model = HarmfulRequestModel(spec_path=spec) if spec is not None else None
    return HarmfulRequestCheck(
        name, stages, model=model,
        report_threshold=None if threshold is None else float(threshold),
        safe_side_below=None if safe_below is None else float(safe_below),
    )
