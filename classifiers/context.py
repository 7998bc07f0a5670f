"""ConText-style primitives shared by the crisis check and the red-flag matcher.

Harkema et al., J Biomed Inform 2009;42:839-851; NegEx, Chapman et al. 2001. Pure functions
over compiled regexes and the few language-rule fields they read (``NegationRules``,
``ClauseRules``), so that ``guard.checks.crisis`` and ``classifiers.critical.redflags`` run
the same code on their own ``LanguageRules``. Like all of ``classifiers`` this module never
imports ``guard``.

Texts are *normalised* (lower case, accents and apostrophes removed, whitespace collapsed);
``compile_normalised`` refuses a data file's pattern that could never match such text. The
sentence and clause boundary regexes are the caller's, as the two callers differ on them.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol

__all__ = [
    "APOSTROPHES",
    "UNIT_REACH",
    "UNIT_STEP",
    "ClauseRules",
    "NegationRules",
    "bounds",
    "clause",
    "clause_bounds",
    "compile_normalised",
    "count",
    "negated",
]

APOSTROPHES = frozenset("'\u2019\u2018\u02bc\u00b4`\u2032")
"""Apostrophes normalisation removes ("don't" -> "dont")."""
_ESCAPE = re.compile(r"\\.|\(\?P[<=]")  # \S, \W, (?P<t> ... are not letters to match


def compile_normalised(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled, or a ``ValueError`` saying why it could never match normalised
    text (an apostrophe, an accented or upper-case letter) or does not compile."""
    for ch in pattern:
        if ch in APOSTROPHES:
            raise ValueError("contains an apostrophe, which normalisation removes from the "
                             "text: write dont, not don't")
        if ch.isalpha() and unicodedata.normalize("NFKD", ch) != ch:
            raise ValueError(f"contains accented letter {ch!r}, which never matches: text is "
                             "de-accented before matching")
    if any(ch.isupper() for ch in _ESCAPE.sub("", pattern)):
        raise ValueError("contains upper-case letters, which never match: text is "
                         "lower-cased before matching")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"regex does not compile: {exc}") from None


class ClauseRules(Protocol):
    """The language-rule field ``clause`` reads."""

    @property
    def clause_breaks(self) -> re.Pattern[str] | None: ...


class NegationRules(Protocol):
    """The language-rule fields ``negated`` reads."""

    @property
    def window_unit(self) -> str: ...

    @property
    def negation_window(self) -> int: ...

    @property
    def negation(self) -> re.Pattern[str] | None: ...

    @property
    def pseudo_negation(self) -> re.Pattern[str] | None: ...

    @property
    def scope_breakers(self) -> re.Pattern[str] | None: ...


UNIT_REACH = 500
"""How far (characters) ``bounds`` looks on each side of a match, at least, for the end of
its sentence or clause. A unit that runs on further is cut there (at most ``UNIT_STEP``
characters further, see ``bounds``).

Real sentences are shorter: the longest in the team's eval, probe and dev sets, the CSEDB
vignettes (Chinese ones end sentences with 。 and clauses with ，) and the benign sets is
493 characters, so no finding there depends on the cut. Without it, a message with no
punctuation is one sentence: every match would scan the whole text for its boundaries and
every per-match rule would search the whole text, which is quadratic in the message length
(a 48,000-character message took minutes). With it, the work per match is bounded and a
scan is linear in the length."""

UNIT_STEP = 250
"""A cut unit's edges lie on multiples of ``UNIT_STEP``: the matches close to each other in
a long unpunctuated run share one window, so a caller can work out what depends only on
the unit once for all of them (``classifiers.critical.redflags``)."""


def bounds(pattern: re.Pattern[str], text: str, start: int, end: int) -> tuple[int, int]:
    """The unit (sentence or clause, as ``pattern`` ends them) of ``text`` that contains
    ``[start, end)``, cut at least ``UNIT_REACH`` characters before ``start`` and after
    ``end``, on a multiple of ``UNIT_STEP``. Only that window is searched, so a call costs
    O(``UNIT_REACH``), not O(``len(text)``); inside it the result is what a search of the
    whole text gives."""
    low = max(0, (start - UNIT_REACH) // UNIT_STEP * UNIT_STEP)
    left = low
    for m in pattern.finditer(text, low, start):
        left = m.end()
    high = min(len(text), -(-(end + UNIT_REACH) // UNIT_STEP) * UNIT_STEP)
    # one character past the window, so that a lookahead at its edge sees what follows
    right_match = pattern.search(text, end, min(len(text), high + 1))
    right = high if right_match is None else min(right_match.start(), high)
    return left, right


def clause_bounds(rules: ClauseRules, clause_end: re.Pattern[str], text: str, start: int,
                  end: int) -> tuple[int, int]:
    """``clause``'s span."""
    left, right = bounds(clause_end, text, start, end)
    if rules.clause_breaks is not None:
        for m in rules.clause_breaks.finditer(text, left, start):
            left = m.end()
        after = rules.clause_breaks.search(text, end, right)
        if after is not None:
            right = after.start()
    return left, right


def clause(rules: ClauseRules, clause_end: re.Pattern[str], text: str, start: int,
           end: int) -> str:
    """The clause around ``[start, end)``: punctuation (``clause_end``), then conjunctions
    ("but", "和")."""
    left, right = clause_bounds(rules, clause_end, text, start, end)
    return text[left:right]


def count(unit: str, text: str) -> int:
    """The size of ``text`` in the negation window's ``unit``: words, or characters."""
    return len(text.split()) if unit == "word" else len(text.strip())


def negated(rules: NegationRules, pre: str, carry: re.Pattern[str] | None = None) -> bool:
    """NegEx on ``pre`` (the text before the words): the nearest cue within the window
    negates, unless it is part of a pseudo-negation ("can't stop", "not sure") or a scope
    breaker (a new subject or conjunction) lies between it and the words. With ``carry``,
    a gap that ``carry`` matches from its start keeps the negation across a scope breaker.
    """
    if rules.negation is None:
        return False
    cues = list(rules.negation.finditer(pre))
    if not cues:
        return False
    pseudo = (
        [m.span() for m in rules.pseudo_negation.finditer(pre)]
        if rules.pseudo_negation is not None
        else []
    )
    for cue in reversed(cues):
        gap = pre[cue.end():]
        if count(rules.window_unit, gap) > rules.negation_window:
            return False
        if any(s <= cue.start() < e for s, e in pseudo):
            continue
        if rules.scope_breakers is not None and rules.scope_breakers.search(gap):
            carried = carry is not None and carry.match(gap)
            if not carried:
                return False
        return True
    return False
