"""Every check runs in (near-)linear time in the message length.

The proxy accepts messages up to 100,000 characters. Before 0.5.1 a long message with no
punctuation made several checks quadratic (critical_illness took minutes on 48,000
characters): the sentence or clause around each match was the whole message, looked for
from its start, and rules that do not depend on the match searched the whole text again for
every match. ``benchmarks/long_inputs.py`` measures the times; these tests guard the causes
without timing anything where a count will do:

* the unit around a match (``classifiers.context.bounds``) is cut a bounded distance away;
* per-scan facts (an ``also`` feature, an age question) are worked out once per scan;
* risky_intent's sentences are bounded and a cue is compared with nearby objects only;
* medication looks for a count only just before an amount;
* the shared normaliser undoes leetspeak in one pass over a long word;

and, as a coarse backstop, the CPU time of each check grows about 4x (linear), not 16x
(quadratic), when an adversarial message grows 4x.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

import classifiers.critical.redflags as redflags
import classifiers.medication.extract as extract
import classifiers.risky.matcher as matcher
from classifiers.context import UNIT_REACH, UNIT_STEP, bounds
from guard.checks import default_registry
from guard.checks.base import Check
from guard.checks.crisis import normalize
from guard.checks.risky_intent import RiskyIntentCheck
from guard.types import Context, Finding, Segment, Stage

_SENTENCE_END = re.compile(r"[.!?\n。！？]+(?!\d)")


def _repeat(phrase: str, size: int) -> str:
    return (phrase * (size // len(phrase) + 1))[:size]


def _reference_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The unbounded search ``bounds`` replaced (whole text, from position 0)."""
    left = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        left = m.end()
    right = _SENTENCE_END.search(text, end)
    return left, right.start() if right else len(text)


def test_bounds_is_exact_for_real_sentences() -> None:
    text = ("He is 3.5 years old. Crushing chest pain for 40 minutes!! Sweating, left arm numb? "
            "男，60岁，胸口压榨样疼痛40分钟。出冷汗，左臂发麻。") * 20
    for m in re.finditer(r"chest pain|arm|疼痛|发麻", text):
        assert bounds(_SENTENCE_END, text, m.start(), m.end()) == _reference_bounds(
            text, m.start(), m.end())


def test_bounds_cuts_an_unpunctuated_run() -> None:
    text = _repeat("chest pain and ", 100_000)
    limit = UNIT_REACH + UNIT_STEP
    for start in (0, 7, 31_000, 64_999, 99_985):
        left, right = bounds(_SENTENCE_END, text, start, start + 10)
        assert 0 <= start - left <= limit and 0 <= right - (start + 10) <= limit
        assert left == 0 or left % UNIT_STEP == 0
    # matches close to each other share the cut unit (what depends on it is worked out once)
    assert bounds(_SENTENCE_END, text, 50_010, 50_020) == bounds(_SENTENCE_END, text, 50_020,
                                                                  50_030)


def test_redflags_per_scan_facts_are_worked_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    taxonomy = redflags.shared_taxonomy()
    calls: list[int] = []
    original = redflags._also_present

    def counted(*args: object, **kwargs: object) -> bool:
        calls.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(redflags, "_also_present", counted)
    text = normalize(_repeat("chest pain and sweating and my baby is floppy and ", 8000)).text
    matches = redflags.scan(taxonomy, text)
    assert matches
    distinct = {id(also) for flag in taxonomy.flags for also in flag.also}
    assert 0 < len(calls) <= len(distinct)


def test_risky_sentences_are_bounded_and_cues_compared_nearby(
        monkeypatch: pytest.MonkeyPatch) -> None:
    check = RiskyIntentCheck("risky_intent", frozenset({Stage.INPUT}))
    check.load()
    risky = check.matcher
    calls: list[int] = []
    original = matcher._Text.near

    def counted(self: matcher._Text, a: matcher._Hit, b: matcher._Hit) -> bool:
        calls.append(1)
        return original(self, a, b)

    monkeypatch.setattr(matcher._Text, "near", counted)
    counts = []
    for size in (4000, 16000):
        text = normalize(_repeat("stop taking insulin, use ", size)).text
        t = matcher._Text(text, risky.knowledge)
        assert max(e - s for s, e in t.sentences) <= matcher._LONG_SENTENCE
        calls.clear()
        risky.scan(text)
        counts.append(len(calls))
    # every cue was compared with every treatment before: 16x the calls for 4x the text
    assert counts[0] > 0 and counts[1] <= 6 * counts[0]


def test_medication_count_is_looked_for_just_before_the_amount(
        monkeypatch: pytest.MonkeyPatch) -> None:
    searched: list[int] = []
    pattern = extract._COUNT_JUST_BEFORE

    class Spy:
        def search(self, text: str, pos: int = 0, endpos: int = 2**31) -> re.Match[str] | None:
            searched.append(min(endpos, len(text)) - pos)
            return pattern.search(text, pos, endpos)

    monkeypatch.setattr(extract, "_COUNT_JUST_BEFORE", Spy())
    text = _repeat("I take 500 mg ibuprofen and ", 20000)
    mentions = extract.DrugMatcher(extract.DrugKB.shared()).find(text)
    assert extract.find_doses(text, mentions)
    assert searched and max(searched) <= extract._COUNT_REACH


def test_normaliser_undoes_leetspeak_in_one_pass() -> None:
    # one 40,000-character "word" of letters and leet digits: each digit used to walk to
    # both ends of its word (about a minute here); the shared normaliser runs before
    # crisis, critical_illness and risky_intent
    text = _repeat("k1ll", 40_000)
    t0 = time.process_time()
    folded = normalize(text).text
    assert time.process_time() - t0 < 2.0
    assert folded == _repeat("kill", 40_000)
    assert normalize("su1c1de k1ll 50 pills b12").text == "suicide kill 50 pills b12"


# ------------------------------------------------------------------ coarse CPU-time backstop

_FAKE_INPUT = (
    Finding(check="critical_illness", category="emergency.acs", score=0.95, advice="call"),
    *(Finding(check="risky_intent", category=f"high.{kind}", score=0.9, advice="x")
      for kind in matcher.KINDS),
)

_CASES = [
    # (kind, stage, phrase): the phrases that were quadratic before 0.5.1
    ("critical_illness", Stage.INPUT, "chest pain and "),
    ("critical_illness", Stage.INPUT, "no no no chest pain "),
    ("critical_illness", Stage.OUTPUT, "no need to go to the ER, wait and see and "),
    ("risky_intent", Stage.INPUT, "stop taking insulin, use "),
    ("risky_intent", Stage.OUTPUT, "just skip the insulin and use cinnamon and "),
    ("medication", Stage.INPUT, "I take 500 mg ibuprofen and "),
    ("medication", Stage.INPUT, "我对青霉素过敏，"),
    ("medication", Stage.OUTPUT, "take 1000 mg acetaminophen every 4 hours and "),
    ("crisis", Stage.INPUT, "I don't want to kill myself and "),
    ("crisis", Stage.INPUT, "k1ll"),
    ("medication", Stage.INPUT, "k1ll"),
]

_CHECKS: dict[str, Check] = {}


def _check(kind: str) -> Check:
    if kind not in _CHECKS:
        check: Check
        if kind == "risky_intent":
            check = RiskyIntentCheck(kind, frozenset(Stage))  # the rules
        else:
            params = {"semantic": False} if kind == "crisis" else {}
            check = default_registry().create(kind, kind, frozenset(Stage), params)
        check.load()
        _CHECKS[kind] = check
    return _CHECKS[kind]


def _cpu(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(2):
        t0 = time.process_time()
        run()
        best = min(best, time.process_time() - t0)
    return best


@pytest.mark.parametrize(("kind", "stage", "phrase"), _CASES,
                         ids=[f"{k}-{s.value}-{p[:12]}" for k, s, p in _CASES])
def test_check_time_grows_linearly(kind: str, stage: Stage, phrase: str) -> None:
    check = _check(kind)

    def run(size: int) -> Callable[[], object]:
        text = _repeat(phrase, size)
        if stage is Stage.INPUT:
            segments = [Segment(role="user", text=text, message_index=0)]
            ctx = Context(stage=stage)
        else:
            segments = [Segment(role="assistant", text=text, message_index=-1)]
            ctx = Context(stage=stage, input_findings=_FAKE_INPUT, conversation=(
                Segment(role="user", text="chest pain, stopping insulin", message_index=0),))
        if kind == "crisis":
            return lambda: check.scan(text)  # type: ignore[attr-defined]
        return lambda: check.scan(segments, ctx)  # type: ignore[attr-defined]

    small, large = _cpu(run(3000)), _cpu(run(12000))
    # linear: ~4x; quadratic: ~16x. Generous, and an absolute bound far below the minutes
    # the bug took, so that a loaded machine does not fail it.
    assert large < 5.0
    assert large <= max(8 * small, 0.05), (small, large)
