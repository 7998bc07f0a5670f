"""The ``medication`` check: dangerous doses and combinations in questions and in answers.

Input stage: a dose above the labelled maximum (per dose, per day, per kg for a child), a unit
error (mg written for mcg), a daily schedule for a weekly drug, a contraindicated or major
combination (also with a medicine named in an earlier turn), a contraindication by pregnancy,
breastfeeding, age, kidney or liver function or allergy, Beers criteria for older adults, and
a child's dose asked without the child's age or weight (``needs_patient_facts``, for the
``clarify`` action).

Output stage: the same problems when the answer *recommends* them (a sentence that warns
against a dose or drug does not count), and a dose of an ISMP high-alert drug given without
monitoring advice.

Every finding carries ``advice``: the limit crossed and its source, from the knowledge base
in ``classifiers/medication/data`` (never text from the conversation), which policy templates
show through ``{details}``. Categories and their CSEDB criteria: ``classifiers.medication.
assess.CATEGORIES``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from classifiers.medication.assess import Assessor, Problem, Turn
from classifiers.medication.kb import DrugKB, KBError
from guard.checks.base import CheckParamsError
from guard.types import Context, Finding, Segment, Stage

__all__ = ["MedicationCheck", "factory"]

_ROLES = frozenset({"user", "system", "developer", "tool"})


class MedicationCheck:
    def __init__(self, name: str, stages: frozenset[Stage], kb: DrugKB | None = None) -> None:
        """``kb``: a knowledge base already loaded (a policy's own); None = the shipped one,
        loaded by ``load()``."""
        self.name = name
        self.stages = stages
        self._kb = kb
        self._assessor: Assessor | None = None

    def load(self) -> None:
        if self._assessor is None:
            self._assessor = Assessor(self._kb or DrugKB.shared())

    @property
    def assessor(self) -> Assessor:
        self.load()
        assert self._assessor is not None
        return self._assessor

    async def detect(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        return await asyncio.to_thread(self.scan, segments, ctx)

    def scan(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        """Synchronous ``detect`` (benchmarks and tests call it directly)."""
        if ctx.stage is Stage.OUTPUT:
            # conversation turns get indexes after the answers' (never reported on)
            convo = [Turn(s.text, s.role, s.new, len(segments) + i)
                     for i, s in enumerate(ctx.conversation) if s.role in _ROLES]
            problems: list[Problem] = []
            for i, s in enumerate(segments):
                if s.role == "assistant" and s.text.strip():
                    problems.extend(self.assessor.output(convo, Turn(s.text, s.role, True, i)))
        else:
            turns = [Turn(s.text, s.role, s.new, i) for i, s in enumerate(segments)
                     if s.role in _ROLES]
            problems = self.assessor.input(turns)
        return [self._finding(p) for p in problems]

    def _finding(self, p: Problem) -> Finding:
        return Finding(
            check=self.name,
            category=p.category,
            score=p.score,
            segment=p.index,
            span=p.span,
            criterion=p.criterion,
            explanation=p.explanation,
            advice=p.advice,
        )


def factory(name: str, stages: frozenset[Stage], params: Mapping[str, Any]) -> MedicationCheck:
    for key in params:
        if key != "knowledge_base":
            raise CheckParamsError(str(key), "unknown parameter (known: knowledge_base)")
    raw = params.get("knowledge_base")
    kb: DrugKB | None = None
    if raw is not None:
        if not isinstance(raw, str) or not raw:
            raise CheckParamsError("knowledge_base", "must be a directory path")
        try:  # loaded here so a bad file fails the policy, and kept: not read twice
            kb = DrugKB.load(Path(raw))
        except KBError as exc:
            raise CheckParamsError("knowledge_base", str(exc)) from None
    return MedicationCheck(name, stages, kb)
