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

Learned backstop (``classifiers/critical/learned``, MODEL_CARD.md; on when built from a
policy, param ``learned``): when the rules report no ``emergency.*`` and no ``needs_facts.*``
finding on the new user turns, a logistic regression over the MiniLM embedding and the TF-IDF
of the last user turn gives P(emergency). At or above ``learned_threshold`` (default: the
model spec's, chosen by cross-validation on development sets held out by author) it reports
``emergency.learned`` on that turn with score :data:`LEARNED_SCORE`: an emergency like the
rules' (escalation, the output-stage guarantee), with a generic direction to emergency care as
its advice, because the model names no red flag. Its explanation gives the probability, never
the text.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from classifiers.critical.learned.model import LearnedEmergencyModel, text_of
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
from guard.checks.base import (
    CheckParamsError,
    LearnedBackstop,
    backstop_turns,
    learned_params,
    scan_inline,
)
from guard.checks.crisis import NormalizedText, new_user_turns, normalize
from guard.messages import input_segments
from guard.types import Context, Finding, Segment, Stage

__all__ = ["CRITERION", "LEARNED_CATEGORY", "LEARNED_SCORE", "CriticalIllnessCheck", "factory",
           "rules_report"]

CRITERION = "critical_illness_recognition"
_EMERGENCY_THRESHOLD = 0.8
LEARNED_CATEGORY = "emergency.learned"
LEARNED_SCORE = 0.85
"""Score of an ``emergency.learned`` finding: at or above the output-stage threshold and the
packs' escalation ``min_score``, below a current red flag's 0.9; the model's probability is in
the explanation."""
_LEARNED_ADVICE = (
    "What you describe may be a medical emergency even though it does not match a listed "
    "warning sign exactly: please do not wait and do not drive yourself. If anything gets "
    "worse, or if breathing, consciousness or bleeding is a problem, call emergency services "
    "immediately."
)
_NO_DIRECTION_ADVICE = (
    "This describes a possible emergency: the answer must tell the person to call emergency "
    "services (911/112/999/120) or go to the emergency department now."
)
_DELAY_ADVICE = (
    "This describes a possible emergency: waiting, resting or home care can cost a life; the "
    "answer must not reassure or suggest waiting."
)


class CriticalIllnessCheck(LearnedBackstop):
    """Reports red flags of critical illness in user turns, and answers to an emergency
    that do not direct to emergency care. Detects, never decides."""

    def __init__(self, name: str, stages: frozenset[Stage], *,
                 taxonomy_path: str | os.PathLike[str] | None = None,
                 learned: LearnedEmergencyModel | None = None,
                 learned_threshold: float | None = None) -> None:
        """``learned``: the backstop model (``None``: rules only, as tests of the rules
        build it; ``factory`` gives the shipped model unless the policy turns it off)."""
        self.name = name
        self.stages = stages
        self.learned = learned
        self._learned_threshold = learned_threshold
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
        """Read and compile the taxonomy (raises ``TaxonomyError`` naming file and line);
        verify and load the learned backstop when there is one."""
        _ = self.taxonomy
        if self.learned is not None:
            self.learned.load()

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
        if self.learned is not None and not any(
                f.category.startswith(("emergency.", "needs_facts.")) for f in findings):
            findings.extend(self._backstop(segments))
        return findings

    def _backstop(self, segments: Sequence[Segment]) -> list[Finding]:
        """The learned model on the user turns up to the last one, when it is new."""
        assert self.learned is not None
        turns = backstop_turns(segments)
        if turns is None:
            return []
        last, texts = turns
        text = text_of(texts, self.learned.spec.view)
        p = float(self.learned.score([text])[0])
        if p < self.learned_threshold:
            return []
        return [Finding(
            check=self.name, category=LEARNED_CATEGORY, score=LEARNED_SCORE,
            segment=last, span=None, criterion=CRITERION,
            explanation=f"learned backstop, P(emergency)={p:.2f} "
                        f"(threshold {self.learned_threshold:.2f}); no red-flag rule matched",
            advice=_LEARNED_ADVICE,
        )]

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


def rules_report(conversations: Sequence[Sequence[str]]) -> list[bool]:
    """Whether the red-flag rules alone (no backstop) report an ``emergency.*`` finding at
    input on each conversation (its user turns): what the backstop's training counts as a
    rule miss, and the benign rows it leaves out."""
    check = CriticalIllnessCheck("critical_illness", frozenset({Stage.INPUT}))
    check.load()
    ctx = Context(stage=Stage.INPUT)
    return [any(f.category.startswith("emergency.")
                for f in check.scan(input_segments([{"role": "user", "content": t}
                                                    for t in turns]), ctx))
            for turns in conversations]


_PARAMS = ("taxonomy", "learned", "learned_threshold", "learned_spec")


def factory(name: str, stages: frozenset[Stage],
            params: Mapping[str, Any]) -> CriticalIllnessCheck:
    """Build from policy params: ``taxonomy`` (another red-flag YAML file), ``learned``
    (bool, default true: the learned backstop), ``learned_threshold`` (0-1, default the model
    spec's), ``learned_spec`` (path to another trained backstop's ``model_spec.json``). The
    files are read in ``load()``, not here."""
    for key in params:
        if key not in _PARAMS:
            raise CheckParamsError(str(key), f"unknown parameter (known: {', '.join(_PARAMS)})")
    path = params.get("taxonomy")
    if path is not None and (not isinstance(path, str | os.PathLike)
                             or not os.fspath(path).strip()):
        raise CheckParamsError("taxonomy", "must be a non-empty path to a red-flag YAML file")
    model, threshold = learned_params(params, LearnedEmergencyModel)
    return CriticalIllnessCheck(name, stages, taxonomy_path=path, learned=model,
                                learned_threshold=threshold)
