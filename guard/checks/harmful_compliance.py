"""The ``harmful_compliance`` check: did the answer go along with a borderline request?

A request that the ``harmful_request`` check scored as borderline (a finding below the
policy's block threshold) reaches the model. This check reads the model's answer and asks
one question: did it refuse or redirect, or did it comply? It reports

- ``complied`` (with the request's principle) when the input carried a harmful-request
  finding and the answer is not a refusal: the policy can then stop the answer;
- ``refused`` whenever an answer is a refusal, whatever the input: safety teams count
  refusals of ordinary questions (over-refusal) as carefully as harms let through.

A refusal is recognised by the classifier's refusal head (trained on MedSafetyBench's
``safe_response`` refusals against ordinary medical answers), applied to the opening of the
answer and to the whole of it, or by the opening phrases models use to decline
("I'm sorry, but I can't ..."). MedSafetyBench's judge scores a response that "proactively
declines or steers the conversation towards an area consistent with the usage policies" as
the best answer; this check does not judge how well an answer is written.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from typing import Any

from classifiers.harmful_request.model import HarmfulRequestModel
from guard.checks.base import CheckParamsError
from guard.types import Context, Finding, Segment, Stage

__all__ = ["REFUSAL_OPENINGS", "HarmfulComplianceCheck", "factory", "opening"]

REFUSAL_OPENINGS = re.compile(
    r"^\W*(?:(?:i'?m|i am)\s+(?:sorry|afraid|unable)|sorry,|i\s+(?:can(?:no|')t|cannot|"
    r"won'?t|will not|must (?:decline|refuse)|am not able to|'m not able to|do not feel "
    r"comfortable)|unfortunately,? i|as an ai|i (?:apologi[sz]e|regret)|it (?:would|is) "
    r"(?:be )?(?:unethical|inappropriate|illegal)|(?:that|this) (?:would|is) (?:be )?"
    r"(?:unethical|not something i can)|抱歉|对不起|很抱歉|我不能|我无法)",
    re.IGNORECASE,
)
"""How refusals open, in English and Chinese (checked on the first 200 characters)."""
_OPENING_SENTENCES = 2
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+")


def opening(text: str) -> str:
    """The first sentences of an answer, where a refusal says so."""
    return " ".join(_SENTENCE.split(text.strip(), maxsplit=_OPENING_SENTENCES)[:_OPENING_SENTENCES])


class HarmfulComplianceCheck:
    """See the module docstring. ``input_check`` names the harmful-request check whose
    input findings make a compliant answer a finding."""

    def __init__(
        self,
        name: str,
        stages: frozenset[Stage],
        *,
        input_check: str = "harmful_request",
        model: HarmfulRequestModel | None = None,
        refusal_threshold: float | None = None,
        defer_to: frozenset[str] = frozenset({"crisis"}),
    ) -> None:
        self.name = name
        self.defer_to = defer_to
        self.stages = stages
        self.input_check = input_check
        self.model = model or HarmfulRequestModel.shared()
        self._refusal_threshold = refusal_threshold

    def load(self) -> None:
        self.model.load()

    @property
    def refusal_threshold(self) -> float:
        if self._refusal_threshold is not None:
            return self._refusal_threshold
        return self.model.spec.thresholds["refusal"]

    async def detect(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        self.load()
        answers = [i for i, s in enumerate(segments) if s.role == "assistant" and s.text.strip()]
        if not answers:
            return []
        # A person in crisis is not making an unethical request: their answer carries crisis
        # resources and must never be withheld as "compliance". The same holds for the
        # checks named in ``defer_to`` (policy param), whose packs judge the answer
        # themselves (e.g. risky_intent: the answer must hold the safe path, not refuse).
        if any(f.check in self.defer_to for f in ctx.input_findings):
            requests = []
        else:
            requests = [f for f in ctx.input_findings if f.check == self.input_check]
        return await asyncio.to_thread(self._detect, segments, answers, requests)

    def refusal_score(self, text: str) -> float:
        """The refusal probability of an answer (1.0 when it opens like a refusal)."""
        if REFUSAL_OPENINGS.search(text.strip()[:200]):
            return 1.0
        first = opening(text)
        views = [text] if first == text.strip() else [first, text]
        return float(self.model.refusals(views).max())

    def _detect(self, segments: Sequence[Segment], answers: Sequence[int],
                requests: Sequence[Finding]) -> list[Finding]:
        findings = []
        request = max(requests, key=lambda f: f.score) if requests else None
        for i in answers:
            refusal = self.refusal_score(segments[i].text)
            if refusal >= self.refusal_threshold:
                findings.append(Finding(self.name, "refused", round(refusal, 4), segment=i,
                                        explanation=f"P(refusal)={refusal:.2f}"))
            elif request is not None:
                findings.append(Finding(
                    self.name, "complied", round(request.score, 4), segment=i,
                    principle=request.principle,
                    explanation=(f"answer is not a refusal (P(refusal)={refusal:.2f}); request "
                                 f"scored {request.score:.2f} for {request.category}"),
                ))
        return findings


_PARAMS = ("input_check", "refusal_threshold", "defer_to")


def factory(
    name: str, stages: frozenset[Stage], params: Mapping[str, Any]
) -> HarmfulComplianceCheck:
    for key in params:
        if key not in _PARAMS:
            raise CheckParamsError(str(key), f"unknown parameter (known: {', '.join(_PARAMS)})")
    if stages != frozenset({Stage.OUTPUT}):
        raise CheckParamsError("stages", "harmful_compliance reads answers: use [output]")
    input_check = params.get("input_check", "harmful_request")
    if not isinstance(input_check, str) or not input_check:
        raise CheckParamsError("input_check", "must be the name of a harmful_request check")
    threshold = params.get("refusal_threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float)
        or not 0.0 < float(threshold) < 1.0
    ):
        raise CheckParamsError("refusal_threshold", "must be a number between 0 and 1")
    defer_to = params.get("defer_to", ["crisis"])
    if not isinstance(defer_to, list) or not all(isinstance(d, str) and d for d in defer_to):
        raise CheckParamsError("defer_to", "must be a list of check names")
    return HarmfulComplianceCheck(
        name, stages, input_check=input_check,
        refusal_threshold=None if threshold is None else float(threshold),
        defer_to=frozenset(defer_to),
    )
