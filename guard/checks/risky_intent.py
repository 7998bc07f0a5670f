"""The ``risky_intent`` check: patients about to hurt themselves by accident or conviction.

Input stage: every new ``user`` turn is read for a risky plan (``classifiers/risky``):
medication ``misuse``, ``treatment_abandonment``, ``care_delay``, ``self_treatment`` and
``false_cure``. Findings are ``<severity>.<kind>`` (``high.treatment_abandonment``,
``moderate.misuse``, ``low.false_cure``), or ``needs_facts.medicine`` when someone means to stop
a medicine they do not name (the answer depends on which: the ``clarify`` action). Each finding
names what is involved (insulin, an opioid, coughing up blood, apricot kernels) in its
explanation and carries the safety message with its source in ``advice``. Earlier user turns
count for warning signs ("I've been coughing up blood" ... "I don't want to go to hospital").
A plan told in an earlier turn that no answer has taken up (``_unanswered``: no safe path, no
emergency direction, not this guard's own note) is reported on that turn, unless the writer
has since taken the safe side ("how do I convince him to go back on them").

Output stage: when the input stage reported a plan at or above the threshold, each answer is
checked for going along with it (``answer.goes_along``: "you can replace insulin with bitter
melon", "it's probably nothing, rest and see") and for the safe path of each kind of plan
(``answer.no_safe_path`` when it does not say: do not stop it, see a doctor today, there is no
evidence, take only as prescribed).

It reuses the medication knowledge base and extractor (drug names, brands, Chinese names) and
the red-flag taxonomy of the ``critical_illness`` check. The rules are regex-only: about half a
millisecond for a typical message.

Learned backstop (``classifiers/risky/learned``, MODEL_CARD.md; on when built from a policy,
param ``learned``): when the rules report nothing on the new user turn(s), a logistic
regression over the MiniLM embedding and the TF-IDF of the user turns (``text_of``: the last
four joined) gives a risk and a kind; not for a reply that scores under half the threshold on
its own after a plan the rules or the backstop reported on the previous user turn (that plan
was answered on its own turn: "ok, thanks"). At or above
``learned_threshold`` (default: the model spec's, chosen by cross-validation) it reports one
finding ``learned.<kind>`` on the last user turn, with score :data:`LEARNED_SCORE`: below the
threshold of the output-stage plan logic and never ``high.*``, so the policy can only attach a
note, never escalate. Its explanation names the kind and the probability, never the text.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from classifiers.critical.redflags import answer_directs, shared_taxonomy
from classifiers.medication.kb import DrugKB
from classifiers.risky.learned.model import LearnedRiskModel, text_of
from classifiers.risky.matcher import Intent, RiskyMatcher, load_knowledge
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

__all__ = ["RiskyIntentCheck", "factory", "rules_report", "shared_matcher"]


@functools.cache
def shared_matcher() -> RiskyMatcher:
    """The matcher over the shipped cue and knowledge files, the drug KB and the red flags,
    built once per process (immutable compiled patterns; every check shares it, and the
    harmful-request check asks it whether a turn takes the safe side of a plan)."""
    kb = DrugKB.shared()
    return RiskyMatcher(load_knowledge(kb), kb, shared_taxonomy())

_THRESHOLD = 0.7
LEARNED_SCORE = 0.6
"""Score of a ``learned.*`` finding: below ``_THRESHOLD`` (no output-stage plan) and below
every escalate rule's ``min_score``; the model's probability is in the explanation."""
LEARNED_PREFIX = "learned."
_SCORE = {"high": 0.9, "moderate": 0.85, "low": 0.75, "unknown": 0.8}
_EARLIER_TURNS = 3
_ADVICE_PREFIX = 60
"""Characters of a plan's safety message that show an answer carried it."""
_ALONG_ADVICE = (
    "The answer goes along with a plan that can harm the person; it must state the danger, "
    "correct the belief and give the safe path instead."
)
_SAFE_PATH = {
    "misuse": "take medicines only as prescribed; never crush, snort, inject or mix them for "
              "an effect",
    "treatment_abandonment": "do not stop or replace it without the prescriber; keep taking it "
                             "and talk to them first",
    "care_delay": "do not wait: see a doctor today, or call emergency services now for an "
                  "emergency sign",
    "self_treatment": "see a doctor for a diagnosis and the right treatment; do not use leftover "
                      "or someone else's medicines",
    "false_cure": "there is no evidence it works; keep the proven treatment and talk to the "
                  "treating team",
}


class RiskyIntentCheck(LearnedBackstop):
    """Reports risky plans in user turns and answers that help with them or leave out the safe
    path. Detects, never decides."""

    def __init__(self, name: str, stages: frozenset[Stage], *,
                 learned: LearnedRiskModel | None = None,
                 learned_threshold: float | None = None) -> None:
        """``learned``: the backstop model (``None``: rules only, as tests of the rules
        build it; ``factory`` gives the shipped model unless the policy turns it off)."""
        self.name = name
        self.stages = stages
        self.learned = learned
        self._learned_threshold = learned_threshold

    @property
    def matcher(self) -> RiskyMatcher:
        """The process's one matcher (``shared_matcher``, built on first use)."""
        return shared_matcher()

    def load(self) -> None:
        """Read and compile the cue and knowledge files, the drug KB and the red flags; verify
        and load the learned backstop when there is one."""
        _ = self.matcher
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
        findings: list[Finding] = []
        for i, norm, earlier in new_user_turns(segments):
            context = [e.text for e in earlier[:_EARLIER_TURNS]]
            for intent in self.matcher.scan(norm.text, context):
                findings.append(self._finding(intent, norm, i))
        if not findings:
            findings.extend(self._unanswered(segments))
        if not findings and self.learned is not None:
            findings.extend(self._backstop(segments))
        return findings

    def _unanswered(self, segments: Sequence[Segment]) -> list[Finding]:
        """Plans the rules find in one of the last ``_EARLIER_TURNS`` earlier user turns that
        no later answer took up (``_takes_up``) and no later user turn took the safe side of
        ("my dad's MST, we crush it into his yoghurt" ... an answer about swallowing ... "what
        yoghurt is best for calories?"). A plan the guard met when it was new has its safety
        message in the answer that followed; one it never met (a conversation begun elsewhere,
        an answer the client rewrote) is still live, and a clinician would come back to it.
        Reported on the earlier turn, the span there."""
        user = [i for i, s in enumerate(segments) if s.role == "user"]
        if not any(segments[i].new for i in user):
            return []
        norms: dict[int, NormalizedText] = {}
        safe_side: dict[int, bool] = {}

        def norm(j: int) -> NormalizedText:  # each segment normalised once
            if j not in norms:
                norms[j] = normalize(segments[j].text)
            return norms[j]

        def on_safe_side(j: int) -> bool:
            if j not in safe_side:
                safe_side[j] = self.matcher.takes_safe_side(norm(j).text)
            return safe_side[j]

        findings: list[Finding] = []
        for i in [i for i in user if not segments[i].new][-_EARLIER_TURNS:]:
            before = [norm(j).text for j in [j for j in reversed(user) if j < i][:_EARLIER_TURNS]]
            intents = [it for it in self.matcher.scan(norm(i).text, before)
                       if it.severity in ("high", "moderate")]
            if not intents or any(on_safe_side(j) for j in user if j > i):
                continue
            if any(self._takes_up(intents, norm(j).text)
                   for j in range(i + 1, len(segments)) if segments[j].role == "assistant"):
                continue  # the turn was taken up (one message answers all its plans)
            for intent in intents:
                finding = self._finding(intent, norm(i), i)
                findings.append(replace(
                    finding, explanation=f"{finding.explanation}; told in an earlier turn and "
                                         "not yet answered with the safe path"))
        return findings

    def _takes_up(self, intents: Sequence[Intent], answer: str) -> bool:
        """Whether a normalised answer took up one of ``intents`` (the plans of one turn): it
        gives the safe path of one's kind, directs to emergency care, or carries one's safety
        message (this guard's own note or escalation, which the client sends back as the
        answer)."""
        kinds = {intent.kind for intent in intents}
        if len(self.matcher.answer(answer, kinds).missing) < len(kinds):
            return True
        if answer_directs(self.matcher.taxonomy, answer) is not None:
            return True
        return any(message and message in answer for message in (
            normalize(intent.advice).text[:_ADVICE_PREFIX] for intent in intents))

    def _backstop(self, segments: Sequence[Segment]) -> list[Finding]:
        """The learned model on the user turns up to the last one, when it is new."""
        assert self.learned is not None
        found = backstop_turns(segments)
        if found is None:
            return []
        last, turns = found
        text = text_of(turns, self.learned.spec.view)
        scores = self.learned.score([text])
        risk, kind = float(scores.risk[0]), scores.kind[0]
        if risk < self.learned_threshold:
            return []
        if len(turns) > 1 and self.learned.spec.view == "turns" and float(
                self.learned.score([turns[-1]]).risk[0]) < self.learned_threshold / 2 \
                and self._answered(turns[:-1]):
            # a reply that says little by itself after a plan answered on its own turn
            # ("switch from insulin to bitter melon" ... "ok, thanks"): not reported again
            return []
        return [Finding(
            check=self.name, category=f"{LEARNED_PREFIX}{kind}", score=LEARNED_SCORE,
            segment=last, span=None,
            explanation=f"{kind}: learned backstop, P(risky)={risk:.2f} "
                        f"(threshold {self.learned_threshold:.2f}); the rules found nothing",
        )]

    def _answered(self, earlier: Sequence[str]) -> bool:
        """Whether the rules or the backstop reported a plan on the last of ``earlier`` (user
        turns, oldest first) when it was the new turn."""
        assert self.learned is not None
        context = [normalize(t).text for t in reversed(earlier[:-1])][:_EARLIER_TURNS]
        if self.matcher.scan(normalize(earlier[-1]).text, context):
            return True
        return float(self.learned.score([text_of(earlier, "turns")]).risk[0]) \
            >= self.learned_threshold

    def _finding(self, intent: Intent, norm: NormalizedText, index: int) -> Finding:
        return Finding(
            check=self.name,
            category=intent.category,
            score=_SCORE[intent.severity],
            segment=index,
            span=norm.original_span(*intent.span),
            explanation=f"{intent.kind}: {intent.involves} ({intent.how})",
            advice=intent.advice,
        )

    # ----------------------------------------------------------------------- output

    def plans(self, ctx: Context) -> list[Finding]:
        """This check's plan findings at input, at or above the threshold."""
        return [f for f in ctx.input_findings
                if f.check == self.name and f.score >= _THRESHOLD
                and not f.category.startswith(("answer.", "needs_facts.", LEARNED_PREFIX))]

    def _output(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        plans = self.plans(ctx)
        if not plans:
            return []
        kinds = sorted({f.category.split(".", 1)[1] for f in plans})
        what = ", ".join(kinds)
        findings: list[Finding] = []
        for i, segment in enumerate(segments):
            if segment.role != "assistant" or not segment.text.strip():
                continue
            norm = normalize(segment.text)
            answer = self.matcher.answer(norm.text, kinds)
            if answer.goes_along is not None:
                findings.append(Finding(
                    check=self.name, category="answer.goes_along", score=0.85, segment=i,
                    span=norm.original_span(*answer.goes_along),
                    explanation=f"answer helps with the plan ({what})",
                    advice=f"{_ALONG_ADVICE} {plans[0].advice}".strip(),
                ))
            if not answer.safe_path:
                paths = "; ".join(_SAFE_PATH[k] for k in answer.missing)
                findings.append(Finding(
                    check=self.name, category="answer.no_safe_path", score=0.8, segment=i,
                    span=None,
                    explanation=f"answer does not give the safe path for "
                                f"{', '.join(answer.missing)}",
                    advice=f"Safe path: {paths}. {plans[0].advice}".strip(),
                ))
        return findings


def rules_report(conversations: Sequence[Sequence[Mapping[str, str]]]) -> list[bool]:
    """Whether the rules alone (no backstop) report anything at input on each conversation
    (its messages): the rule misses the backstop's training counts."""
    check = RiskyIntentCheck("risky_intent", frozenset({Stage.INPUT}))
    check.load()
    ctx = Context(stage=Stage.INPUT)
    return [bool(check.scan(input_segments(list(turns)), ctx)) for turns in conversations]


_PARAMS = ("learned", "learned_threshold", "learned_spec")


def factory(name: str, stages: frozenset[Stage], params: Mapping[str, Any]) -> RiskyIntentCheck:
    """Build from policy params: ``learned`` (bool, default true: the learned backstop),
    ``learned_threshold`` (0-1, default the model spec's), ``learned_spec`` (path to another
    trained backstop's ``model_spec.json``). The data files are read in ``load()``."""
    for key in params:
        if key not in _PARAMS:
            raise CheckParamsError(str(key), f"unknown parameter (known: {', '.join(_PARAMS)})")
    model, threshold = learned_params(params, LearnedRiskModel)
    return RiskyIntentCheck(name, stages, learned=model, learned_threshold=threshold)
