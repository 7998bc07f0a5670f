"""Crisis check: suicidal ideation, self-harm and overdose intent in the user's own words.

Why a curated lexicon and not a model: a missed crisis and a refused pharmacology question
are both costly, and a reviewer must be able to see *why* a message was flagged and fix a
rule in minutes. Every pattern group in ``classifiers/crisis/lexicon.yaml`` carries its
category, score, language and the screening instrument or published lexicon it comes from,
and a finding's ``explanation`` names the group that fired.

A bare keyword ("suicide", "overdose") is not enough: most medical messages that contain
one are about someone else, about a drug's side effects, about the past, or deny it. So a
match goes through ConText-style rules (Harkema et al., J Biomed Inform 2009;42:839-851),
all of them data in the lexicon, per language:

- negation (NegEx, Chapman et al. 2001): "I'd never kill myself", "我没有想过自杀";
- experiencer: reported speech ("my friend said 'I want to die'") becomes ``third_party_risk``,
  and someone else's question ("my doctor asked if I have thoughts of harming myself") is
  not the user's statement;
- temporality: a past attempt with a historical cue ("in 2015", "years ago") and nothing
  current in its clause is dropped;
- hypotheticals ("what should I do if I feel suicidal") become ``passive_ideation``;
- per-group ``unless`` exclusions for idioms and accidents ("cut myself shaving").

With ``semantic: true`` (the default policy's setting), English sentences the lexicon found
nothing in, and whose context it leaves to the user, are also compared with clinical
prototype statements by sentence embedding: ``guard.checks.crisis_semantic``.

Text is normalised first (NFKC, accents and zero-width characters removed, apostrophes
dropped, light leetspeak and letter-spacing undone) and spans are mapped back to the
original text. Only segments with role ``user`` are scanned: the check is about the person
typing, not about a system prompt or a model's answer.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import os
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from classifiers.context import APOSTROPHES, bounds, clause, compile_normalised, negated
from guard.checks import crisis_semantic
from guard.checks.base import CheckParamsError
from guard.errors import SourceError, line_of, parse_yaml
from guard.types import Context, Finding, Segment, Stage

__all__ = [
    "ACTED_ON_CATEGORIES",
    "CATEGORIES",
    "LANGUAGES",
    "CrisisCheck",
    "CrisisLexicon",
    "CrisisMatch",
    "LanguageRules",
    "LexiconError",
    "NormalizedText",
    "PatternGroup",
    "factory",
    "load_lexicon",
    "new_user_turns",
    "normalize",
    "parse_lexicon",
    "scan_normalized",
]

CATEGORIES = frozenset(
    {"suicidal_ideation", "self_harm", "overdose_intent", "passive_ideation", "third_party_risk"}
)
"""Every category the check can report."""

ACTED_ON_CATEGORIES = frozenset(
    {"suicidal_ideation", "self_harm", "overdose_intent", "passive_ideation"}
)
"""The categories the default policy acts on. ``third_party_risk`` is reported (a concern
about someone else) but no default rule acts on it: whether a worried friend gets resources
for supporting others is a policy choice, not a detector's."""

LANGUAGES = frozenset({"en", "zh", "es"})
"""Languages a lexicon may define rules for (English required by the shipped lexicon)."""
_INLINE_CHARS = 2000  # above this much user text, scan in a worker thread
_SEMANTIC_MAX_UNITS = 48  # sentences embedded per user turn, at most (latency bound)
_AFFIRMATION_REACH = 120  # chars after a match where "... and I said yes" is looked for
_PACKAGE = "classifiers.crisis"
_RESOURCE = "lexicon.yaml"

# Sentence and clause boundaries, after normalisation (full-width punctuation is mapped to
# ASCII by NFKC; the ideographic full stop is not, so it is listed).
_SENTENCE_END = re.compile(r"[.!?\n。！？]+")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # Chinese patterns need Chinese text
_CLAUSE_END = re.compile(r"[.!?\n。！？,;:，；：]+")


class LexiconError(SourceError):
    """A crisis lexicon that cannot be used. ``str()`` names the file, line and field."""


# --------------------------------------------------------------------------- normalisation


class NormalizedText:
    """Text as the patterns see it, and where each of its characters came from.

    ``offsets[i]`` is the index in the original text of normalised character ``i``; a
    normalised span ``(s, e)`` maps back to ``(offsets[s], offsets[e - 1] + 1)``. For plain
    ASCII text the offsets are only computed when a span is asked for (matches are rare,
    and building them is most of the cost of normalising).
    """

    __slots__ = ("_offsets", "original", "text")

    def __init__(self, text: str, offsets: tuple[int, ...] | None, original: str) -> None:
        self.text = text
        self.original = original
        self._offsets = offsets

    @property
    def offsets(self) -> tuple[int, ...]:
        if self._offsets is None:
            self._offsets = _normalize_slow(self.original).offsets
        return self._offsets

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        offsets = self.offsets
        if not offsets:
            return (0, 0)
        if end <= start:
            return offsets[start], offsets[start]
        return offsets[start], offsets[end - 1] + 1


_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "$": "s"}
_LEET_CHAR = re.compile(r"[013457$]")
_SPACED_LETTERS = re.compile(r"(?<![a-z])(?:[a-z][ .\-_*]){3,}[a-z](?![a-z])")
_ASCII_DROP = str.maketrans("", "", "'`")
_WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> NormalizedText:
    """Fold ``text`` for matching: why each step exists.

    - NFKC and accent stripping: full-width and stylised letters (``ｋｉｌｌ``), and Spanish
      typed with or without accents, match one pattern;
    - format characters (zero-width space/joiner, soft hyphen, bidi marks) are removed: they
      are invisible and are the cheapest way to split a word past a filter;
    - apostrophes are removed, so ``don't``, ``dont`` and ``don’t`` are one form (patterns
      are written without apostrophes);
    - whitespace runs collapse to one space (newlines are kept: they end sentences);
    - leetspeak digits inside words (``k1ll``, ``su1c1de``, ``$uicide``) become letters;
    - letter-spaced words (``k i l l``) are joined.
    """
    if text.isascii():
        folded = _WHITESPACE.sub(_fold_space, text.lower().translate(_ASCII_DROP))
        if _LEET_CHAR.search(folded):
            chars = list(folded)
            _undo_leet(chars)
            folded = "".join(chars)
        if not _SPACED_LETTERS.search(folded):
            return NormalizedText(folded, None, text)
    return _normalize_slow(text)


def new_user_turns(
    segments: Sequence[Segment],
) -> list[tuple[int, NormalizedText, list[NormalizedText]]]:
    """Each new user turn (its index in ``segments`` and normalised text) with the earlier
    user turns normalised, latest first: the context checks read for what a turn leaves out
    (a treatment, a warning sign or an age named before). Nothing is normalised when no user
    turn is new."""
    user = [(i, s) for i, s in enumerate(segments) if s.role == "user"]
    if not any(s.new for _, s in user):
        return []
    norms = {i: normalize(s.text) for i, s in user}
    return [(i, norms[i], [norms[j] for j, _ in reversed(user) if j < i])
            for i, s in user if s.new]


def _fold_space(m: re.Match[str]) -> str:
    run = m.group()
    return "\n" if "\n" in run or "\r" in run else " "


def _normalize_slow(text: str) -> NormalizedText:
    """Character by character, keeping offsets; the reference for the ASCII fast path."""
    chars: list[str] = []
    offsets: list[int] = []
    for index, ch in enumerate(text):
        if ch in APOSTROPHES or unicodedata.category(ch) == "Cf":
            continue
        if ch.isspace():
            folded = "\n" if ch in "\n\r\u2028\u2029\x85" else " "
            if chars and chars[-1] in " \n":
                if folded == "\n":
                    chars[-1] = "\n"
                continue
            chars.append(folded)
            offsets.append(index)
            continue
        if ch < "\x80":
            chars.append(ch.lower())
            offsets.append(index)
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        for out in unicodedata.normalize("NFKC", base).lower():
            if out in APOSTROPHES or out.isspace():
                continue
            chars.append(out)
            offsets.append(index)
    _undo_leet(chars)
    folded_text = "".join(chars)
    if _SPACED_LETTERS.search(folded_text):
        chars, offsets = _join_spaced_letters(folded_text, offsets)
        folded_text = "".join(chars)
    return NormalizedText(folded_text, tuple(offsets), text)


def _undo_leet(chars: list[str]) -> None:
    """Map a leet character to its letter when it sits inside a word of letters.

    A digit next to another digit is a number ("50 pills", "b12", "covid19") and is left
    alone; so is a digit in a word with fewer than two letters ("t4"), a digit after a
    decimal point ("6.5mmol"), a number written against its unit ("5mg", "7mmol", "3am")
    and a count or code after a word that takes one ("type1", "stage4", "day3", "hco3").

    A word is a run of letters and leet characters; its letters are counted once and the
    count kept as leet characters become letters (going from each leet character to the
    ends of its word instead was quadratic in the length of a long word).
    """
    n = len(chars)
    positions = [m.start() for m in _LEET_CHAR.finditer("".join(chars))]
    if not positions:
        return
    run = [-1] * n
    letters: list[int] = []
    for k, c in enumerate(chars):
        letter = _is_ascii_letter(c)
        if not (letter or c in _LEET):
            continue
        if not k or run[k - 1] < 0:
            letters.append(0)
        run[k] = len(letters) - 1
        if letter:
            letters[-1] += 1
    for i in positions:
        ch = chars[i]
        prev = chars[i - 1] if i else " "
        nxt = chars[i + 1] if i + 1 < n else " "
        if prev.isdigit() or nxt.isdigit():
            continue
        if not (_is_ascii_letter(prev) or _is_ascii_letter(nxt)):
            continue
        if ch != "$" and _a_number(chars, i):
            continue
        if letters[run[i]] >= 2:
            chars[i] = _LEET[ch]
            letters[run[i]] += 1


# Units written against a number, and words followed by a count or a code: a digit there is
# a number, not leetspeak. Lower-case, as the normaliser sees them.
_NUMBER_UNITS = frozenset(" ".join((
    "mg mgs mcg ug g gm gr kg ml l dl cl ng pg iu u meq mmol umol mol kpa mmhg kcal cal lb",
    "lbs oz tsp tbsp cm mm km mi ft in bpm hz am pm h hr hrs hour hours min mins s sec secs",
    "d day days wk wks w mo mos yr yrs y yo x th st nd rd")).split())
_COUNTED = frozenset(" ".join((
    "type stage grade class phase level day days pod week wk cycle dose round gen covid",
    "omega hco nh ch po so no sao pao paco fio cd il vit vitamin hba apo gravida para")).split())


def _a_number(chars: list[str], i: int) -> bool:
    """Whether the leet-looking digit at ``i`` is part of a number: after a decimal point
    ("6.5mmol"), starting a number glued to its unit ("5mg", "3am"), or ending a word that
    is followed by a count ("type1", "hco3")."""
    if i >= 2 and chars[i - 1] in ".," and chars[i - 2].isdigit():
        return True
    if i == 0 or not _is_ascii_letter(chars[i - 1]):
        j = i + 1
        while j < len(chars) and _is_ascii_letter(chars[j]):
            j += 1
        return "".join(chars[i + 1:j]) in _NUMBER_UNITS
    if i + 1 == len(chars) or not (_is_ascii_letter(chars[i + 1]) or chars[i + 1] in _LEET):
        j = i
        while j > 0 and _is_ascii_letter(chars[j - 1]):
            j -= 1
        return "".join(chars[j:i]) in _COUNTED
    return False


def _is_ascii_letter(ch: str) -> bool:
    return "a" <= ch <= "z"


def _join_spaced_letters(text: str, offsets: list[int]) -> tuple[list[str], list[int]]:
    chars: list[str] = []
    kept: list[int] = []
    last = 0
    for match in _SPACED_LETTERS.finditer(text):
        chars.extend(text[last : match.start()])
        kept.extend(offsets[last : match.start()])
        for i in range(match.start(), match.end()):
            if _is_ascii_letter(text[i]):
                chars.append(text[i])
                kept.append(offsets[i])
        last = match.end()
    chars.extend(text[last:])
    kept.extend(offsets[last:])
    return chars, kept


# ----------------------------------------------------------------------------- lexicon


@dataclass(frozen=True, slots=True)
class LanguageRules:
    """ConText-style rules for one language; every pattern is optional (``None``)."""

    window_unit: Literal["word", "char"]
    negation_window: int
    negation: re.Pattern[str] | None
    pseudo_negation: re.Pattern[str] | None
    scope_breakers: re.Pattern[str] | None
    negation_carry: re.Pattern[str] | None
    post_negation: re.Pattern[str] | None
    reported_speech: re.Pattern[str] | None
    embedded_question: re.Pattern[str] | None
    affirmation: re.Pattern[str] | None
    conditional: re.Pattern[str] | None
    conditional_exceptions: re.Pattern[str] | None
    history: re.Pattern[str] | None
    present: re.Pattern[str] | None
    clause_breaks: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class PatternGroup:
    """One phrase class: its patterns joined into one regex, and what a match means.

    A pattern may name the words that carry the meaning with a ``(?P<t>...)`` group
    ("my son is (suicidal)"); negation is then looked for before ``t`` rather than before
    the whole match.

    ``requires`` names categories of which the same text must already hold an accepted
    finding (from a group without ``requires``) for this group to run: "I wish I could
    sleep forever" is passive ideation, and with "I have a plan" beside it, it is not.
    """

    id: str
    category: str
    score: float
    language: str
    source: str
    person: Literal["self", "other"]
    negatable: bool
    regex: re.Pattern[str]
    unless: re.Pattern[str] | None
    anchors: re.Pattern[str] | None
    requires: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CrisisLexicon:
    """A validated, compiled lexicon: immutable, so one instance can serve every thread."""

    source: str
    version: str
    third_party_score: float
    conditional_score: float
    languages: Mapping[str, LanguageRules]
    groups: tuple[PatternGroup, ...]


_TOP_KEYS = {"schema", "name", "version", "description", "scores", "languages", "groups"}
_REQUIRED_TOP = {"schema", "version", "scores", "languages", "groups"}
_SCORE_KEYS = {"third_party", "conditional"}
_LANGUAGE_LISTS = (
    "negation",
    "pseudo_negation",
    "scope_breakers",
    "negation_carry",
    "post_negation",
    "reported_speech",
    "embedded_question",
    "affirmation",
    "conditional",
    "conditional_exceptions",
    "history",
    "present",
    "clause_breaks",
)
_LANGUAGE_KEYS = {"source", "window_unit", "negation_window", *_LANGUAGE_LISTS}
_GROUP_KEYS = {
    "id", "category", "score", "language", "source", "patterns", "unless", "negatable",
    "person", "description", "examples", "anchors", "requires",
}
_REQUIRED_GROUP = {"id", "category", "score", "language", "source", "patterns"}
_GROUP_ID = re.compile(r"^[a-z]{2}\.[a-z0-9_]+$")


def load_lexicon(path: str | os.PathLike[str] | None = None) -> CrisisLexicon:
    """Read and validate a lexicon; ``None`` is the one shipped in ``classifiers.crisis``."""
    if path is None:
        resource = importlib.resources.files(_PACKAGE).joinpath(_RESOURCE)
        source = f"{_PACKAGE.replace('.', '/')}/{_RESOURCE}"
        try:
            text = resource.read_text(encoding="utf-8")
        except OSError as exc:
            raise LexiconError(source, f"cannot read lexicon ({exc.strerror or exc})") from None
        return parse_lexicon(text, source)
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise LexiconError(str(file), f"cannot read lexicon ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise LexiconError(str(file), "lexicon is not UTF-8 text") from None
    return parse_lexicon(text, str(file))


def parse_lexicon(text: str, source: str = "<lexicon>") -> CrisisLexicon:
    """Validate strictly: unknown keys, bad values and regexes that do not compile are
    errors naming the field, never a silently smaller lexicon."""
    root, data = parse_yaml(text, source, LexiconError)
    return _Parser(source, root).lexicon(data)


class _Parser:
    def __init__(self, source: str, root: yaml.Node | None) -> None:
        self.source = source
        self.root = root

    def fail(self, path: Sequence[str | int], message: str) -> LexiconError:
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return LexiconError(self.source, message, field=field or None, line=self.line_of(path))

    def line_of(self, path: Sequence[str | int]) -> int | None:
        return line_of(self.root, path)

    def mapping(self, value: object, path: list[str | int], keys: set[str],
                required: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "must be a mapping")
        unknown = sorted(str(k) for k in value if k not in keys)
        if unknown:
            allowed = ", ".join(sorted(keys))
            raise self.fail([*path, unknown[0]], f"unknown key (allowed: {allowed})")
        missing = sorted(required - set(value))
        if missing:
            raise self.fail(path, f"missing required key {missing[0]!r}")
        return value

    def string(self, value: object, path: list[str | int]) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "must be a non-empty string")
        return value

    def score(self, value: object, path: list[str | int]) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, "must be a number")
        if not 0.0 < float(value) <= 1.0:
            raise self.fail(path, "must be in (0, 1]")
        return float(value)

    def regex(self, value: object, path: list[str | int], *, allow_target: bool = False) -> str:
        pattern = self.string(value, path)
        try:
            compiled = compile_normalised(pattern)
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None
        names = set(compiled.groupindex)
        if names - ({"t"} if allow_target else set()):
            allowed = "only (?P<t>...)" if allow_target else "none"
            raise self.fail(path, f"named groups {sorted(names)} not allowed ({allowed})")
        return pattern

    def regex_list(self, value: object, path: list[str | int], *,
                   allow_target: bool = False) -> re.Pattern[str] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            raise self.fail(path, "must be a non-empty list of regexes")
        parts = [self.regex(v, [*path, i], allow_target=allow_target) for i, v in enumerate(value)]
        if allow_target:
            # One (?P<t>) per alternative is fine in each pattern, but Python forbids a
            # name twice in one regex: number them and read whichever matched.
            parts = [p.replace("(?P<t>", f"(?P<t{i}>") for i, p in enumerate(parts)]
        return re.compile("|".join(f"(?:{p})" for p in parts))

    def lexicon(self, data: object) -> CrisisLexicon:
        top = self.mapping(data, [], _TOP_KEYS, _REQUIRED_TOP)
        if top["schema"] != 1:
            raise self.fail(["schema"], "unsupported schema (expected 1)")
        version = self.string(str(top["version"]), ["version"])
        scores = self.mapping(top["scores"], ["scores"], _SCORE_KEYS, _SCORE_KEYS)
        languages_raw = top["languages"]
        if not isinstance(languages_raw, dict) or not languages_raw:
            raise self.fail(["languages"], "must be a non-empty mapping of language code -> rules")
        languages: dict[str, LanguageRules] = {}
        for code, rules in languages_raw.items():
            if code not in LANGUAGES:
                raise self.fail(["languages", str(code)],
                                f"unknown language (known: {', '.join(sorted(LANGUAGES))})")
            languages[code] = self.language(rules, ["languages", code])
        groups_raw = top["groups"]
        if not isinstance(groups_raw, list) or not groups_raw:
            raise self.fail(["groups"], "must be a non-empty list")
        groups: list[PatternGroup] = []
        seen: set[str] = set()
        for i, raw in enumerate(groups_raw):
            group = self.group(raw, ["groups", i], languages)
            if group.id in seen:
                raise self.fail(["groups", i, "id"], f"duplicate group id {group.id!r}")
            seen.add(group.id)
            groups.append(group)
        return CrisisLexicon(
            source=self.source,
            version=version,
            third_party_score=self.score(scores["third_party"], ["scores", "third_party"]),
            conditional_score=self.score(scores["conditional"], ["scores", "conditional"]),
            languages=languages,
            groups=tuple(groups),
        )

    def language(self, value: object, path: list[str | int]) -> LanguageRules:
        raw = self.mapping(value, path, _LANGUAGE_KEYS,
                           {"source", "window_unit", "negation_window"})
        self.string(raw["source"], [*path, "source"])
        unit = raw["window_unit"]
        if unit not in ("word", "char"):
            raise self.fail([*path, "window_unit"], "must be 'word' or 'char'")
        window = raw["negation_window"]
        if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 30:
            raise self.fail([*path, "negation_window"], "must be an integer in 0..30")
        lists = {key: self.regex_list(raw.get(key), [*path, key]) for key in _LANGUAGE_LISTS}
        return LanguageRules(window_unit=unit, negation_window=window, **lists)

    def group(self, value: object, path: list[str | int],
              languages: Mapping[str, LanguageRules]) -> PatternGroup:
        raw = self.mapping(value, path, _GROUP_KEYS, _REQUIRED_GROUP)
        group_id = self.string(raw["id"], [*path, "id"])
        if not _GROUP_ID.match(group_id):
            raise self.fail([*path, "id"], "must look like 'en.kill_myself' (language.snake_case)")
        category = raw["category"]
        if category not in CATEGORIES:
            known = ", ".join(sorted(CATEGORIES))
            raise self.fail([*path, "category"], f"unknown category {category!r} (known: {known})")
        language = raw["language"]
        if language not in languages:
            raise self.fail([*path, "language"], f"language {language!r} has no rules in languages")
        if not group_id.startswith(f"{language}."):
            raise self.fail([*path, "id"], f"must start with its language, '{language}.'")
        person = raw.get("person", "other" if category == "third_party_risk" else "self")
        if person not in ("self", "other"):
            raise self.fail([*path, "person"], "must be 'self' or 'other'")
        negatable = raw.get("negatable", True)
        if not isinstance(negatable, bool):
            raise self.fail([*path, "negatable"], "must be true or false")
        examples = raw.get("examples")
        if examples is not None and (
            not isinstance(examples, list) or not all(isinstance(e, str) for e in examples)
        ):
            raise self.fail([*path, "examples"], "must be a list of strings")
        regex = self.regex_list(raw["patterns"], [*path, "patterns"], allow_target=True)
        if regex is None:  # null patterns
            raise self.fail([*path, "patterns"], "must be a non-empty list of regexes")
        requires_raw = raw.get("requires")
        requires: frozenset[str] = frozenset()
        if requires_raw is not None:
            if (
                not isinstance(requires_raw, list)
                or not requires_raw
                or not all(isinstance(c, str) and c in ACTED_ON_CATEGORIES for c in requires_raw)
            ):
                known = ", ".join(sorted(ACTED_ON_CATEGORIES))
                raise self.fail([*path, "requires"],
                                f"must be a non-empty list of categories from: {known}")
            requires = frozenset(requires_raw)
        return PatternGroup(
            id=group_id,
            category=category,
            score=self.score(raw["score"], [*path, "score"]),
            language=language,
            source=self.string(raw["source"], [*path, "source"]),
            person=person,
            negatable=negatable,
            regex=regex,
            unless=self.regex_list(raw.get("unless"), [*path, "unless"]),
            anchors=self.regex_list(raw.get("anchors"), [*path, "anchors"]),
            requires=requires,
        )


# ---------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class CrisisMatch:
    """One accepted match, in original-text offsets. ``group`` is the lexicon group id."""

    category: str
    score: float
    span: tuple[int, int]
    group: str


def _negated(rules: LanguageRules, pre: str, post: str) -> bool:
    """NegEx on ``pre`` (the sentence up to the target) and ``post`` (after it).

    A ``post_negation`` at the start of ``post`` negates. Otherwise the nearest cue within
    the window wins, unless it is part of a pseudo-negation ("can't stop", "not sure") or a
    new subject or conjunction lies between it and the target ("I can't do this anymore I'm
    going to ..."), in which case the scope is broken unless ``negation_carry`` carries it
    (``classifiers.context.negated``).
    """
    if rules.post_negation is not None and rules.post_negation.match(post):
        return True
    return negated(rules, pre, rules.negation_carry)


def _governs(cue: re.Pattern[str] | None, rules: LanguageRules, pre: str) -> str | None:
    """The text between the last ``cue`` in ``pre`` and the match, if the cue still governs
    the match: no conjunction ("and", "but", "because") lies between them."""
    if cue is None:
        return None
    found = list(cue.finditer(pre))
    if not found:
        return None
    gap = pre[found[-1].end():]
    if rules.clause_breaks is not None and rules.clause_breaks.search(gap):
        return None
    return gap


def _conditional(rules: LanguageRules, pre: str) -> bool:
    """A hypothetical ("what should I do if I feel suicidal") rather than a report; not
    when the main clause says what the person will do ("if ..., I'll kill myself")."""
    gap = _governs(rules.conditional, rules, pre)
    if gap is None or re.search(r"[,;:]", gap):
        return False
    return not (rules.conditional_exceptions is not None
                and rules.conditional_exceptions.search(gap))


def scan_normalized(
    lexicon: CrisisLexicon,
    norm: NormalizedText,
    rejected: list[tuple[int, int, str]] | None = None,
) -> list[CrisisMatch]:
    """Every accepted match in ``norm``, before de-duplication.

    With a ``rejected`` list, every match the context rules turned down is appended to it as
    ``(sentence_start, sentence_end, reason)`` in normalised offsets, ``reason`` being one of
    ``unless``, ``negated``, ``history`` or ``question``: the semantic layer skips those
    sentences.
    """
    text = norm.text
    han = _HAN.search(text) is not None
    out: list[CrisisMatch] = []
    deferred: list[PatternGroup] = []
    for group in lexicon.groups:
        if group.requires:
            deferred.append(group)
            continue
        _scan_group(lexicon, group, norm, han, out, rejected)
    if deferred and out:
        found = {m.category for m in out}
        for group in deferred:
            if group.requires & found:
                _scan_group(lexicon, group, norm, han, out, rejected)
    return out


def _scan_group(lexicon: CrisisLexicon, group: PatternGroup, norm: NormalizedText, han: bool,
                out: list[CrisisMatch],
                rejected: list[tuple[int, int, str]] | None = None) -> None:
    text = norm.text
    if group.language == "zh" and not han:
        return
    if group.anchors is not None and group.anchors.search(text) is None:
        return
    for m in group.regex.finditer(text):
        if m.end() == m.start():
            continue
        accepted = _evaluate(lexicon, group, m, text)
        if isinstance(accepted, str):
            if rejected is not None:
                rejected.append((*bounds(_SENTENCE_END, text, m.start(), m.end()), accepted))
            continue
        category, score = accepted
        out.append(CrisisMatch(category, score, norm.original_span(*m.span()), group.id))


def _target(m: re.Match[str]) -> tuple[int, int]:
    for name, value in m.groupdict().items():
        if value is not None and name.startswith("t"):
            return m.span(name)
    return m.span()


def _evaluate(
    lexicon: CrisisLexicon, group: PatternGroup, m: re.Match[str], text: str
) -> tuple[str, float] | str:
    """``(category, score)`` for an accepted match, else why it was turned down."""
    rules = lexicon.languages[group.language]
    sent_start, sent_end = bounds(_SENTENCE_END, text, m.start(), m.end())
    sentence = text[sent_start:sent_end]
    if group.unless is not None and group.unless.search(sentence):
        return "unless"
    t_start, t_end = _target(m)
    if group.negatable and _negated(rules, text[sent_start:t_start], text[t_end:sent_end]):
        return "negated"
    if rules.history is not None and rules.history.search(sentence):
        here = clause(rules, _CLAUSE_END, text, m.start(), m.end())
        if rules.present is None or not rules.present.search(here):
            return "history"
    category, score = group.category, group.score
    if group.person == "self":
        pre = text[sent_start:m.start()]
        if _governs(rules.embedded_question, rules, pre) is not None:
            affirmed = rules.affirmation is not None and rules.affirmation.search(
                text, m.end(), m.end() + _AFFIRMATION_REACH
            )
            return (category, score) if affirmed else "question"
        if _governs(rules.reported_speech, rules, pre) is not None:
            return "third_party_risk", min(score, lexicon.third_party_score)
        if _conditional(rules, pre):
            return "passive_ideation", min(score, lexicon.conditional_score)
    return category, score


# ------------------------------------------------------------------------------- check


class CrisisCheck:
    """Reports suicidal ideation, self-harm, overdose intent and passive ideation in user
    turns; concerns about another person as ``third_party_risk``. Detects, never decides.

    With ``semantic=True`` an embedding layer (``guard.checks.crisis_semantic``) looks at
    the English sentences the lexicon found nothing in and its context rules left to the
    user; its model is loaded in ``load()``.
    """

    def __init__(
        self,
        name: str,
        stages: frozenset[Stage],
        *,
        lexicon_path: str | os.PathLike[str] | None = None,
        min_score: float = 0.0,
        semantic: bool = False,
        semantic_layer: crisis_semantic.SemanticLayer | None = None,
    ) -> None:
        self.name = name
        self.stages = stages
        self.min_score = min_score
        self._lexicon_path = lexicon_path
        self._lexicon: CrisisLexicon | None = None
        self._lock = threading.Lock()
        self.semantic = semantic or semantic_layer is not None
        self._semantic_layer = semantic_layer

    @property
    def lexicon(self) -> CrisisLexicon:
        """The loaded lexicon (loading it on first use)."""
        lexicon = self._lexicon
        if lexicon is None:
            with self._lock:
                lexicon = self._lexicon
                if lexicon is None:
                    lexicon = self._lexicon = load_lexicon(self._lexicon_path)
        return lexicon

    @property
    def semantic_layer(self) -> crisis_semantic.SemanticLayer | None:
        """The semantic layer, loaded (``None`` when disabled)."""
        if not self.semantic:
            return None
        layer = self._semantic_layer
        if layer is None:
            with self._lock:
                layer = self._semantic_layer
                if layer is None:
                    layer = self._semantic_layer = crisis_semantic.SemanticLayer()
        layer.load()
        return layer

    def load(self) -> None:
        """Read and compile the lexicon, and load the embedding model when the semantic
        layer is on. Idempotent; raises ``LexiconError`` on a bad lexicon and
        ``EmbeddingModelError``/``PrototypeError`` on a bad model or prototype file."""
        _ = self.lexicon
        _ = self.semantic_layer

    def scan(self, text: str) -> list[CrisisMatch]:
        """The matches in one text, strongest per category, in text order."""
        norm = normalize(text)
        rejected: list[tuple[int, int, str]] | None = [] if self.semantic else None
        matches = scan_normalized(self.lexicon, norm, rejected)
        if rejected is not None:
            matches += self._scan_semantic(norm, matches, rejected)
        best: dict[str, CrisisMatch] = {}
        for match in matches:
            if match.score < self.min_score:
                continue
            kept = best.get(match.category)
            if kept is None or match.score > kept.score or (
                match.score == kept.score and match.span[0] < kept.span[0]
            ):
                best[match.category] = match
        return sorted(best.values(), key=lambda x: (x.span, x.category))

    def semantic_units(
        self, norm: NormalizedText, matches: Sequence[CrisisMatch],
        rejected: Sequence[tuple[int, int, str]],
    ) -> list[tuple[tuple[int, int], bool]]:
        """The units the semantic layer embeds: ``((start, end) in the original text,
        capped_at_passive)`` for each English sentence that no lexicon match (accepted or
        turned down) touches, no reported-speech or someone else's question governs and no
        historical cue occurs in, then the
        whole text when it has more than one sentence and none was skipped."""
        rules = self.lexicon.languages.get("en")
        text = norm.text
        taken = [m.span for m in matches]
        taken += [norm.original_span(s, e) for s, e, _ in rejected]
        units: list[tuple[tuple[int, int], bool]] = []
        skipped = False
        start = 0
        sentences: list[tuple[int, int]] = []
        for m in _SENTENCE_END.finditer(text):
            sentences.append((start, m.start()))
            start = m.end()
        sentences.append((start, len(text)))
        sentences = [(s, e) for s, e in sentences if text[s:e].strip()]
        for s, e in sentences:
            sentence = text[s:e]
            span = norm.original_span(s, e)
            if any(a < span[1] and span[0] < b for a, b in taken):
                skipped = True
                continue
            if not crisis_semantic.english_unit(sentence):
                continue
            capped = False
            if rules is not None:
                if (_governs(rules.reported_speech, rules, sentence) is not None
                        or _governs(rules.embedded_question, rules, sentence) is not None):
                    skipped = True
                    continue
                # Stricter than the lexicon's clause-level rule: with no matched phrase to
                # anchor a clause, any historical cue skips the sentence ("years ago I
                # didn't want to exist anymore, now I'm fine").
                if rules.history is not None and rules.history.search(sentence):
                    skipped = True
                    continue
                capped = bool(rules.conditional and rules.conditional.search(sentence))
            units.append((span, capped))
        if (len(sentences) > 1 and not skipped and 0 < len(units) < _SEMANTIC_MAX_UNITS
                and crisis_semantic.english_unit(text)):
                units.append((norm.original_span(0, len(text)), any(c for _, c in units)))
        return units[:_SEMANTIC_MAX_UNITS]

    def _scan_semantic(
        self, norm: NormalizedText, matches: Sequence[CrisisMatch],
        rejected: Sequence[tuple[int, int, str]],
    ) -> list[CrisisMatch]:
        layer = self.semantic_layer
        if layer is None:
            return []
        units = self.semantic_units(norm, matches, rejected)
        if not units:
            return []
        original = norm.original
        sims = layer.similarities([original[a:b] for (a, b), _ in units])
        out = []
        for i, (span, capped) in enumerate(units):
            hit = layer.decide(sims, i, capped)
            if hit is not None:
                group = f"semantic:{hit.group} (cos {hit.cosine:.2f})"
                out.append(CrisisMatch(hit.category, hit.score, span, group))
        # The whole-text unit only speaks when no sentence did: a sentence's span is the
        # more useful pointer for a reviewer.
        return [m for m in out if not any(
            o is not m and m.span[0] <= o.span[0] and o.span[1] <= m.span[1]
            and o.span != m.span for o in out
        )]

    async def detect(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        """Findings for every ``user`` segment. ``ctx`` is not consulted: a person at risk is
        at risk whatever the audience; what to do about it differs, and that is policy."""
        self.load()
        user = [i for i, segment in enumerate(segments) if segment.role == "user"]
        if self.semantic or sum(len(segments[i].text) for i in user) > _INLINE_CHARS:
            return await asyncio.to_thread(self._detect, segments, user)
        return self._detect(segments, user)

    def _detect(self, segments: Sequence[Segment], indexes: Sequence[int]) -> list[Finding]:
        return [
            Finding(
                check=self.name,
                category=match.category,
                score=match.score,
                segment=i,
                span=match.span,
                explanation=match.group,
            )
            for i in indexes
            for match in self.scan(segments[i].text)
        ]


_PARAMS = ("lexicon", "min_score", "semantic")


def factory(name: str, stages: frozenset[Stage], params: Mapping[str, Any]) -> CrisisCheck:
    """Build a ``CrisisCheck`` from policy params. Validates types only: the lexicon file
    is read (and its errors raised) in ``load()``, so building a policy does no I/O."""
    for key in params:
        if key not in _PARAMS:
            raise CheckParamsError(str(key), f"unknown parameter (known: {', '.join(_PARAMS)})")
    lexicon = params.get("lexicon")
    if lexicon is not None and (
        not isinstance(lexicon, str | os.PathLike) or not os.fspath(lexicon).strip()
    ):
        raise CheckParamsError("lexicon", "must be a non-empty path to a lexicon YAML file")
    min_score = params.get("min_score", 0.0)
    if isinstance(min_score, bool) or not isinstance(min_score, int | float):
        raise CheckParamsError("min_score", "must be a number between 0 and 1")
    if not 0.0 <= float(min_score) <= 1.0:
        raise CheckParamsError("min_score", "must be between 0 and 1")
    semantic = params.get("semantic", False)
    if not isinstance(semantic, bool):
        raise CheckParamsError("semantic", "must be true or false")
    return CrisisCheck(name, stages, lexicon_path=lexicon, min_score=float(min_score),
                       semantic=semantic)
