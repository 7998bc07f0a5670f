"""The ``critical_illness`` check: red flags of an emergency in what the user describes, and
answers that fail to send an emergency to emergency care (CSEDB: critical illness
recognition).

Input stage: every new ``user`` turn is matched against the red-flag taxonomy in
``classifiers/critical/redflags.yaml`` (text normalised by ``guard.checks.crisis.normalize``,
spans mapped back). Findings are ``<tier>.<category>`` (``emergency.acs``, ``urgent.dvt``),
scored 0.9 for a current presentation (the user's or someone else's: "my father has crushing
chest pain" is an emergency for the person typing), ~0.55 when framed as a hypothetical; negated,
historical and education-only mentions are not reported. Where a missing fact decides the tier
(a baby's age with a fever; pregnancy with one-sided pain and bleeding) the finding is
``needs_facts.<fact>``, for the ``clarify`` action. Earlier user turns are read for those facts
only ("she is 5 weeks old" then "she has a fever of 38.5").

Output stage: when the input stage reported an ``emergency.*`` finding of this check at or
above the threshold, each assistant segment is checked for a direction to emergency care
(``answer.no_emergency_direction`` when there is none) and for reassurance or delay ("probably
nothing", "see how you feel tomorrow": ``answer.delays_care``).

Matching is regex-only and fast (well under a millisecond for a typical message), so it runs
inline; long texts go to a worker thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from classifiers.critical.redflags import (
    FlagMatch,
    Taxonomy,
    answer_delays,
    answer_directs,
    extract_facts,
    load_taxonomy,
    scan,
    shared_taxonomy,
)
from guard.checks.base import CheckParamsError, scan_inline
from guard.checks.crisis import NormalizedText, new_user_turns, normalize
from guard.types import Context, Finding, Segment, Stage

__all__ = ["CRITERION", "CriticalIllnessCheck", "factory"]

CRITERION = "critical_illness_recognition"
_EMERGENCY_THRESHOLD = 0.8
_NO_DIRECTION_ADVICE = (
    "This describes a possible emergency: the answer must tell the person to call emergency "
    "services (911/112/999/120) or go to the emergency department now."
)
_DELAY_ADVICE = (
    "This describes a possible emergency: waiting, resting or home care can cost a life; the "
    "answer must not reassure or suggest waiting."
)


class CriticalIllnessCheck:
    """Reports red flags of critical illness in user turns, and answers to an emergency
    that do not direct to emergency care. Detects, never decides."""

    def __init__(self, name: str, stages: frozenset[Stage], *,
                 taxonomy_path: str | os.PathLike[str] | None = None) -> None:
        self.name = name
        self.stages = stages
        self._path = taxonomy_path
        self._taxonomy: Taxonomy | None = None
        self._lock = threading.Lock()

    @property
    def taxonomy(self) -> Taxonomy:
        taxonomy = self._taxonomy
        if taxonomy is None:
            with self._lock:
                taxonomy = self._taxonomy
                if taxonomy is None:
                    taxonomy = self._taxonomy = (
                        shared_taxonomy() if self._path is None else load_taxonomy(self._path))
        return taxonomy

    def load(self) -> None:
        """Read and compile the taxonomy (raises ``TaxonomyError`` naming file and line)."""
        _ = self.taxonomy

    async def detect(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        self.load()
        return await scan_inline(self.scan, segments, ctx)

    def scan(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        """Synchronous ``detect`` (tests and benchmarks call it directly)."""
        if ctx.stage is Stage.OUTPUT:
            return self._output(segments, ctx)
        return self._input(segments)

    # ------------------------------------------------------------------------ input

    def _input(self, segments: Sequence[Segment]) -> list[Finding]:
        taxonomy = self.taxonomy
        findings: list[Finding] = []
        for i, norm, earlier in new_user_turns(segments):
            # this turn first, then earlier user turns, latest first: facts only
            facts = extract_facts(taxonomy, [norm.text, *(e.text for e in earlier)])
            for match in scan(taxonomy, norm.text, facts):
                findings.append(self._finding(match, norm, i))
        return findings

    def _finding(self, match: FlagMatch, norm: NormalizedText, index: int) -> Finding:
        flag = match.flag
        if match.category.startswith("needs_facts."):
            fact = match.category.split(".", 1)[1]
            advice = self.taxonomy.needs_facts_advice.get(fact, "")
            explanation = f"{flag.id}: {match.how}; asks for {fact} ({flag.finding_category})"
        else:
            advice = flag.advice
            explanation = f"{flag.id} ({match.how}); source: {flag.source.split(';')[0]}"
        return Finding(
            check=self.name,
            category=match.category,
            score=match.score,
            segment=index,
            span=norm.original_span(*match.span),
            criterion=CRITERION,
            explanation=explanation,
            advice=advice,
        )

    # ----------------------------------------------------------------------- output

    def emergencies(self, ctx: Context) -> list[Finding]:
        """This check's ``emergency.*`` input findings at or above the threshold."""
        return [f for f in ctx.input_findings
                if f.check == self.name and f.category.startswith("emergency.")
                and f.score >= _EMERGENCY_THRESHOLD]

    def _output(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        emergencies = self.emergencies(ctx)
        if not emergencies:
            return []
        taxonomy = self.taxonomy
        what = ", ".join(sorted({f.category for f in emergencies}))
        advice = emergencies[0].advice
        findings: list[Finding] = []
        for i, segment in enumerate(segments):
            if segment.role != "assistant" or not segment.text.strip():
                continue
            norm = normalize(segment.text)
            if answer_directs(taxonomy, norm.text) is None:
                findings.append(Finding(
                    check=self.name, category="answer.no_emergency_direction", score=0.9,
                    segment=i, span=None, criterion=CRITERION,
                    explanation=f"answer to {what} gives no direction to emergency care",
                    advice=f"{_NO_DIRECTION_ADVICE} {advice}".strip(),
                ))
            delays = answer_delays(taxonomy, norm.text)
            if delays:
                findings.append(Finding(
                    check=self.name, category="answer.delays_care", score=0.85,
                    segment=i, span=norm.original_span(*delays[0]), criterion=CRITERION,
                    explanation=f"answer to {what} reassures or suggests waiting "
                                f"({len(delays)} phrase(s))",
                    advice=f"{_DELAY_ADVICE} {advice}".strip(),
                ))
        return findings


_PARAMS = ("taxonomy",)


def factory(name: str, stages: frozenset[Stage],
            params: Mapping[str, Any]) -> CriticalIllnessCheck:
    """Build from policy params. The taxonomy file is read in ``load()``, not here."""
    for key in params:
        if key not in _PARAMS:
            raise CheckParamsError(str(key), f"unknown parameter (known: {', '.join(_PARAMS)})")
    path = params.get("taxonomy")
    if path is not None and (not isinstance(path, str | os.PathLike)
                             or not os.fspath(path).strip()):
        raise CheckParamsError("taxonomy", "must be a non-empty path to a red-flag YAML file")
    return CriticalIllnessCheck(name, stages, taxonomy_path=path)
