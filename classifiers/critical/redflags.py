"""Red-flag taxonomy for critical-illness recognition: loader, validator and matcher.

Data lives in ``redflags.yaml`` beside this file (read ``README.md`` first). This module is
pure: it never imports ``guard`` (arrows point guard -> classifiers). It works on text that is
already *normalised* the way ``guard.checks.crisis.normalize`` does it (lower case, NFKC,
accents and apostrophes removed, whitespace collapsed), and it reports spans in that
normalised text; the check in ``guard.checks.critical_illness`` maps them back.

A red flag fires when one of its patterns matches and the ConText-style rules of the
pattern's language accept the match:

- negation (NegEx-like: a cue a few words/characters before the words, no scope breaker in
  between): "no chest pain", "没有胸痛";
- history (a historical cue in the clause with nothing current): "I had a stroke in 2019";
- education (a question about a condition with nobody in it): "what are the signs of a
  stroke?";
- hypothetical (a conditional cue governs the match): reported with the lower
  ``hypothetical`` score, which policies treat as below threshold.

Someone else's presentation ("my father has crushing chest pain") is reported like the user's
own: the person typing has to call for them.

Some flags also carry facts: an age range in months (a fever is an emergency under 3 months),
a minimum temperature, pregnancy. When a fact that decides the flag is missing and the text
says who it is about ("my baby"), the matcher reports what is missing (``needs_facts``).
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from classifiers.context import bounds, clause_bounds, compile_normalised, count, negated
from classifiers.sourcefile import SourceError, line_of, parse_yaml

__all__ = [
    "CATEGORIES",
    "LANGUAGES",
    "TIERS",
    "AnswerRules",
    "Facts",
    "FlagMatch",
    "LanguageRules",
    "RedFlag",
    "Taxonomy",
    "TaxonomyError",
    "answer_delays",
    "answer_directs",
    "extract_facts",
    "load_taxonomy",
    "parse_taxonomy",
    "peak_flow_percent",
    "scan",
    "shared_taxonomy",
]

TIERS = ("emergency", "urgent", "routine")
LANGUAGES = ("en", "zh", "es")
CATEGORIES = frozenset({
    "acs", "chest_pain", "stroke", "anaphylaxis", "sepsis", "severe_bleeding",
    "respiratory_distress", "dka", "hypoglycaemia_severe", "meningitis", "ectopic_pregnancy",
    "obstetric_emergency", "infant_fever", "paediatric_red_flags", "head_injury",
    "testicular_torsion", "poisoning_overdose", "aortic_dissection", "pulmonary_embolism",
    "cauda_equina", "acute_abdomen", "seizure", "collapse", "uti_pregnancy", "dvt",
    "pyelonephritis", "dehydration_child", "asthma_worsening",
    # 0.2.0
    "shock", "altered_consciousness", "major_trauma", "eye_emergency", "airway_obstruction",
    "severe_skin_reaction", "compartment_syndrome", "drug_toxicity", "metabolic_emergency",
    "bowel_obstruction", "environmental", "cardiac_rhythm", "renal_emergency",
    "neuro_emergency", "gynae_emergency", "travel_fever", "fracture",
    "priapism",
    # 0.4.0
    "limb_ischaemia", "sickle_cell", "spinal_injury", "hypertensive_emergency",
    "spinal_cord_compression",
    # 0.13.0
    "psychiatric_emergency",
})
"""Every flag category; a finding's category is ``f"{tier}.{category}"``."""

FACTS = ("age", "pregnancy")
_PACKAGE = "classifiers.critical"
_RESOURCE = "redflags.yaml"
_FLAG_ID = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SENTENCE_END = re.compile(r"[.!?\n。！？]+(?!\d)")
# 0.18.0: in Chinese chat text a space between two characters is the writer's comma
# ("我婆婆以前做过阑尾手术 这三天没解大便": the history cue stays in its own clause)
_CLAUSE_END = re.compile(
    r"[.!?\n。！？,;:，；：]+(?!\d)|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])"
)


class TaxonomyError(SourceError):
    """A red-flag file that cannot be used. ``str()`` names the file, line and field."""


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class LanguageRules:
    """Context rules for one language; every pattern may be ``None``."""

    window_unit: Literal["word", "char"]
    negation_window: int
    negation: re.Pattern[str] | None
    pseudo_negation: re.Pattern[str] | None
    scope_breakers: re.Pattern[str] | None
    history: re.Pattern[str] | None
    present: re.Pattern[str] | None
    clause_breaks: re.Pattern[str] | None
    conditional: re.Pattern[str] | None
    education: re.Pattern[str] | None
    anchors: re.Pattern[str] | None
    pregnancy: re.Pattern[str] | None
    temperature: re.Pattern[str] | None
    question: re.Pattern[str] | None = None
    """A general question even with a person in it ("do I need to see a doctor for X"): an
    education question unless ``presents`` finds someone presenting it."""
    names: re.Pattern[str] | None = None
    """Condition names ("anaphylaxis", "cardiac arrest"): a match inside one is the name of
    a condition, which is education unless ``presents`` finds someone presenting it."""
    presents: re.Pattern[str] | None = None
    """Cues of a current, personal presentation ("im having", "my son is in")."""
    treated: re.Pattern[str] | None = None
    """Cues that the episode was already assessed and closed ("they sent me home", "was
    discharged", "said my heart is fine"): a match followed by one in its sentence is history
    unless ``present`` says it is happening again."""
    care_given: re.Pattern[str] | None = None
    """0.12.0: emergency care already given or under way for the episode (thrombolysis, a
    stroke unit, a clear CT): a match followed by one anywhere later in the message is history
    unless ``reopened`` comes after it. Stronger than ``treated``: onset words ("suddenly",
    "this morning") and a plain "now" ("he's on the stroke unit now") do not reopen it."""
    reopened: re.Pattern[str] | None = None
    """0.12.0: cues after ``care_given`` (or ``care_now``) that the problem is back or worse
    ("again", "still", "but now he has")."""
    care_now: re.Pattern[str] | None = None
    """0.13.0: emergency care under way at the time of writing, said anywhere in the message
    ("im in resus with my wife", "ambulance is already here", "已经在抢救室"): a match is then
    history (the episode is in clinicians' hands) unless ``reopened`` comes after the cue."""
    age: tuple[re.Pattern[str], ...] = ()
    feature_negation: re.Pattern[str] | None = None
    """0.4.0: cues that negate the *last* feature of a match that runs into a later clause
    ("tonsils out 3 days ago, sore throat but no bleeding"): checked before the match's last
    word in its last clause, within the negation window and without a scope breaker."""


@dataclass(frozen=True, slots=True)
class RedFlag:
    """One red flag: what it means, how urgent, the words for it, and where it comes from.

    ``patterns``/``unless`` map language -> one compiled regex. ``also`` lists co-occurring
    features: each entry (language -> regex) must be present, not negated, in the same
    message ("chest pain" *and* one of sweating, breathlessness, pain into the arm...).
    """

    id: str
    category: str
    tier: str
    score: float
    source: str
    advice: str
    note: str | None
    patterns: Mapping[str, re.Pattern[str]]
    also: tuple[Mapping[str, re.Pattern[str]], ...]
    unless: Mapping[str, re.Pattern[str]]
    unless_anywhere: Mapping[str, re.Pattern[str]]
    """Like ``unless``, but anywhere in the message: what explains the match is often told
    in another sentence ("Started ferrous sulfate last week. My poo has gone black")."""
    age_months: tuple[float | None, float | None] | None
    """``(min, max)``: the flag fires only for an age in ``[min, max)`` months."""
    ask_age: Mapping[str, re.Pattern[str]]
    """Who the text is about when age decides ("baby", "宝宝"): with no age, ask for it."""
    min_temperature: float | None
    temperature_required: bool
    max_peak_flow_percent: float | None
    """0.19.0: the flag fires only when a peak flow and the person's best (or predicted) are
    both given and the reading is at most this share of the best (BTS/SIGN 158 bands)."""
    pregnancy: Literal["required", "ask"] | None
    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]

    @property
    def finding_category(self) -> str:
        return f"{self.tier}.{self.category}"


@dataclass(frozen=True, slots=True)
class AnswerRules:
    """What an answer to an emergency must say (``direction``) and must not (``delay``)."""

    direction: Mapping[str, re.Pattern[str]]
    delay: Mapping[str, re.Pattern[str]]
    source: str


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A validated, compiled taxonomy: immutable, shared by every thread."""

    source: str
    version: str
    hypothetical_score: float
    needs_facts_score: float
    needs_facts_advice: Mapping[str, str]
    languages: Mapping[str, LanguageRules]
    flags: tuple[RedFlag, ...]
    answer: AnswerRules


@dataclass(frozen=True, slots=True)
class FlagMatch:
    """One accepted match in normalised offsets. ``category`` is ``tier.category`` or
    ``needs_facts.<fact>``; ``flag`` the red flag's id; ``how`` a short reason for reviewers."""

    category: str
    score: float
    span: tuple[int, int]
    flag: RedFlag
    how: str


@dataclass(frozen=True, slots=True)
class Facts:
    """What the conversation says about the patient (``None``: not said)."""

    age_months: float | None = None
    temperature_c: float | None = None
    pregnant: bool | None = None
    peak_flow_percent: float | None = None
    """A peak flow reading as a percentage of the best or predicted said with it."""


# ----------------------------------------------------------------------------- loading


@functools.cache
def shared_taxonomy() -> Taxonomy:
    """The taxonomy shipped in this package, loaded once per process (immutable: the
    critical-illness and risky-intent checks share it)."""
    return load_taxonomy()


def load_taxonomy(path: str | os.PathLike[str] | None = None) -> Taxonomy:
    """Read and validate a taxonomy; ``None`` is the one shipped in this package."""
    if path is None:
        source = f"classifiers/critical/{_RESOURCE}"
        try:
            text = importlib.resources.files(_PACKAGE).joinpath(_RESOURCE).read_text("utf-8")
        except OSError as exc:
            raise TaxonomyError(source, f"cannot read ({exc.strerror or exc})") from None
        return parse_taxonomy(text, source)
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaxonomyError(str(file), f"cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise TaxonomyError(str(file), "not UTF-8 text") from None
    return parse_taxonomy(text, str(file))


def parse_taxonomy(text: str, source: str = "<redflags>") -> Taxonomy:
    """Validate strictly: unknown keys, bad values and regexes that cannot compile or can
    never match are errors naming the file, line and field."""
    root, data = parse_yaml(text, source, TaxonomyError)
    return _Parser(source, root).taxonomy(data)


_TOP_KEYS = {"schema", "name", "version", "description", "scores", "needs_facts",
             "languages", "flags", "answer", "lexicons"}
_LEXICON_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LEXICON_REF = re.compile(r"\{\{([a-z][a-z0-9_]*)\}\}")
"""0.6.0: ``{{name}}`` in a pattern is the language's alternatives of lexicon ``name``."""
_LANG_LISTS = ("negation", "pseudo_negation", "scope_breakers", "history", "present",
               "clause_breaks", "conditional", "education", "anchors", "pregnancy",
               "temperature", "question", "names", "presents", "treated", "care_given", "reopened",
               "care_now", "feature_negation")
_LANG_KEYS = {"source", "window_unit", "negation_window", "age", *_LANG_LISTS}
_FLAG_KEYS = {"id", "category", "tier", "score", "source", "advice", "note", "patterns",
              "also", "unless", "unless_anywhere", "age_months", "ask_age", "temperature",
              "peak_flow", "pregnancy", "examples", "counter_examples", "description"}
_FLAG_REQUIRED = {"id", "category", "tier", "source", "advice", "patterns"}


class _Parser:
    def __init__(self, source: str, root: yaml.Node | None) -> None:
        self.source = source
        self.root = root
        self.lexicons: dict[str, dict[str, str]] = {}

    def fail(self, path: Sequence[str | int], message: str) -> TaxonomyError:
        name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return TaxonomyError(self.source, message, field=name or None,
                             line=line_of(self.root, path))

    def mapping(self, value: object, path: list[str | int], keys: set[str],
                required: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "must be a mapping")
        unknown = sorted(str(k) for k in value if k not in keys)
        if unknown:
            raise self.fail([*path, unknown[0]],
                            f"unknown key (allowed: {', '.join(sorted(keys))})")
        missing = sorted(required - set(value))
        if missing:
            raise self.fail(path, f"missing required key {missing[0]!r}")
        return value

    def string(self, value: object, path: list[str | int]) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "must be a non-empty string")
        return value.strip()

    def number(self, value: object, path: list[str | int], low: float, high: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, "must be a number")
        if not low <= float(value) <= high:
            raise self.fail(path, f"must be between {low:g} and {high:g}")
        return float(value)

    def regex(self, value: object, path: list[str | int], lang: str | None = None) -> str:
        pattern = self.expand(self.string(value, path), path, lang)
        try:
            compiled = compile_normalised(pattern)
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None
        if compiled.groupindex:
            raise self.fail(path, "named groups are not allowed")
        if compiled.match(""):
            raise self.fail(path, "regex matches the empty string")
        return pattern

    def expand(self, pattern: str, path: list[str | int], lang: str | None) -> str:
        """``{{name}}`` replaced by lexicon ``name``'s alternatives for ``lang``."""
        def one(m: re.Match[str]) -> str:
            entry = self.lexicons.get(m.group(1))
            if entry is None:
                raise self.fail(path, f"unknown lexicon {m.group(1)!r} (known: "
                                      f"{', '.join(sorted(self.lexicons)) or 'none'})")
            if lang is None or lang not in entry:
                raise self.fail(path, f"lexicon {m.group(1)!r} has no {lang or 'language'} "
                                      "entry")
            return entry[lang]
        return _LEXICON_REF.sub(one, pattern)

    def lexicon_table(self, value: object) -> dict[str, dict[str, str]]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not value:
            raise self.fail(["lexicons"], "must map a name to (language -> regexes)")
        out: dict[str, dict[str, str]] = {}
        for name, langs in value.items():
            path: list[str | int] = ["lexicons", str(name)]
            if not isinstance(name, str) or not _LEXICON_NAME.match(name):
                raise self.fail(path, "lexicon names are lower_snake_case")
            if not isinstance(langs, dict) or not langs:
                raise self.fail(path, "must map a language code to a list of regexes")
            out[name] = {}
            for lang, words in langs.items():
                if lang not in LANGUAGES:
                    raise self.fail([*path, str(lang)],
                                    f"unknown language (known: {', '.join(LANGUAGES)})")
                if not isinstance(words, list) or not words:
                    raise self.fail([*path, lang], "must be a non-empty list of regexes")
                parts = [self.regex(w, [*path, lang, i]) for i, w in enumerate(words)]
                out[name][lang] = "(?:" + "|".join(parts) + ")"
        return out

    def regex_list(self, value: object, path: list[str | int],
                   lang: str | None = None) -> re.Pattern[str] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            raise self.fail(path, "must be a non-empty list of regexes")
        parts = [self.regex(v, [*path, i], lang) for i, v in enumerate(value)]
        return re.compile("|".join(f"(?:{p})" for p in parts))

    def per_language(self, value: object, path: list[str | int],
                     languages: Iterable[str]) -> dict[str, re.Pattern[str]]:
        if value is None:
            return {}
        known = set(languages)
        if not isinstance(value, dict) or not value:
            raise self.fail(path, "must map a language code to a list of regexes")
        out: dict[str, re.Pattern[str]] = {}
        for lang, patterns in value.items():
            if lang not in known:
                raise self.fail([*path, str(lang)],
                                f"language has no rules in languages (known: "
                                f"{', '.join(sorted(known))})")
            compiled = self.regex_list(patterns, [*path, lang], str(lang))
            assert compiled is not None
            out[lang] = compiled
        return out

    def taxonomy(self, data: object) -> Taxonomy:
        top = self.mapping(data, [], _TOP_KEYS, _TOP_KEYS - {"name", "description", "lexicons"})
        if top["schema"] != 1:
            raise self.fail(["schema"], "unsupported schema (expected 1)")
        version = self.string(str(top["version"]), ["version"])
        self.lexicons = self.lexicon_table(top.get("lexicons"))
        scores = self.mapping(top["scores"], ["scores"], {"hypothetical"}, {"hypothetical"})
        hypothetical = self.number(scores["hypothetical"], ["scores", "hypothetical"], 0.01, 1)
        needs = self.mapping(top["needs_facts"], ["needs_facts"], {"score", "advice"},
                             {"score", "advice"})
        needs_score = self.number(needs["score"], ["needs_facts", "score"], 0.01, 1)
        advice_raw = self.mapping(needs["advice"], ["needs_facts", "advice"], set(FACTS),
                                  set(FACTS))
        needs_advice = {k: self.string(v, ["needs_facts", "advice", k])
                        for k, v in advice_raw.items()}
        langs_raw = top["languages"]
        if not isinstance(langs_raw, dict) or "en" not in langs_raw or "zh" not in langs_raw:
            raise self.fail(["languages"], "must define rules for at least en and zh")
        languages: dict[str, LanguageRules] = {}
        for code, rules in langs_raw.items():
            if code not in LANGUAGES:
                raise self.fail(["languages", str(code)],
                                f"unknown language (known: {', '.join(LANGUAGES)})")
            languages[code] = self.language(rules, ["languages", code])
        flags_raw = top["flags"]
        if not isinstance(flags_raw, list) or not flags_raw:
            raise self.fail(["flags"], "must be a non-empty list")
        flags: list[RedFlag] = []
        seen: set[str] = set()
        for i, raw in enumerate(flags_raw):
            flag = self.flag(raw, ["flags", i], languages)
            if flag.id in seen:
                raise self.fail(["flags", i, "id"], f"duplicate flag id {flag.id!r}")
            seen.add(flag.id)
            flags.append(flag)
        answer = self.mapping(top["answer"], ["answer"], {"source", "direction", "delay"},
                              {"source", "direction", "delay"})
        return Taxonomy(
            source=self.source,
            version=version,
            hypothetical_score=hypothetical,
            needs_facts_score=needs_score,
            needs_facts_advice=needs_advice,
            languages=languages,
            flags=tuple(flags),
            answer=AnswerRules(
                direction=self.per_language(answer["direction"], ["answer", "direction"],
                                            languages),
                delay=self.per_language(answer["delay"], ["answer", "delay"], languages),
                source=self.string(answer["source"], ["answer", "source"]),
            ),
        )

    def language(self, value: object, path: list[str | int]) -> LanguageRules:
        raw = self.mapping(value, path, _LANG_KEYS, {"source", "window_unit", "negation_window"})
        self.string(raw["source"], [*path, "source"])
        unit = raw["window_unit"]
        if unit not in ("word", "char"):
            raise self.fail([*path, "window_unit"], "must be 'word' or 'char'")
        window = raw["negation_window"]
        if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 30:
            raise self.fail([*path, "negation_window"], "must be an integer in 0..30")
        lang = str(path[-1])
        lists = {key: self.regex_list(raw.get(key), [*path, key], lang) for key in _LANG_LISTS}
        age = tuple(self.age_rule(v, [*path, "age", i])
                    for i, v in enumerate(raw.get("age") or []))
        return LanguageRules(window_unit=unit, negation_window=window, age=age, **lists)

    def age_rule(self, value: object, path: list[str | int]) -> re.Pattern[str]:
        """An age pattern must have groups ``n`` (a number) and ``u`` (a unit), or ``n0``
        (an age of zero: "newborn")."""
        pattern = self.string(value, path)
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise self.fail(path, f"regex does not compile: {exc}") from None
        names = set(compiled.groupindex)
        if names not in ({"n", "u"}, {"zero"}):
            raise self.fail(path, "age patterns need named groups (?P<n>...) and (?P<u>...), "
                                  "or (?P<zero>...) alone")
        return compiled

    def flag(self, value: object, path: list[str | int],
             languages: Mapping[str, LanguageRules]) -> RedFlag:
        raw = self.mapping(value, path, _FLAG_KEYS, _FLAG_REQUIRED)
        flag_id = self.string(raw["id"], [*path, "id"])
        if not _FLAG_ID.match(flag_id):
            raise self.fail([*path, "id"], "must look like 'acs.crushing_pain' "
                                           "(category.snake_case)")
        category = raw["category"]
        if category not in CATEGORIES:
            raise self.fail([*path, "category"], f"unknown category {category!r} "
                                                 f"(known: {', '.join(sorted(CATEGORIES))})")
        if not flag_id.startswith(f"{category}."):
            raise self.fail([*path, "id"], f"must start with its category, '{category}.'")
        tier = raw["tier"]
        if tier not in TIERS:
            raise self.fail([*path, "tier"], f"must be one of {', '.join(TIERS)}")
        patterns = self.per_language(raw["patterns"], [*path, "patterns"], languages)
        if "en" not in patterns or "zh" not in patterns:
            raise self.fail([*path, "patterns"], "needs English (en) and Chinese (zh) patterns")
        age: tuple[float | None, float | None] | None = None
        if raw.get("age_months") is not None:
            ages = self.mapping(raw["age_months"], [*path, "age_months"], {"min", "max"}, set())
            low = ages.get("min")
            high = ages.get("max")
            age = (
                None if low is None else self.number(low, [*path, "age_months", "min"], 0, 2000),
                None if high is None else self.number(high, [*path, "age_months", "max"], 0,
                                                      2000),
            )
        temp_raw = raw.get("temperature")
        min_temp: float | None = None
        temp_required = False
        if temp_raw is not None:
            temp = self.mapping(temp_raw, [*path, "temperature"], {"min", "required"}, {"min"})
            min_temp = self.number(temp["min"], [*path, "temperature", "min"], 35, 43)
            temp_required = bool(temp.get("required", False))
        peak_raw = raw.get("peak_flow")
        max_peak: float | None = None
        if peak_raw is not None:
            peak = self.mapping(peak_raw, [*path, "peak_flow"], {"max_percent"}, {"max_percent"})
            max_peak = self.number(peak["max_percent"], [*path, "peak_flow", "max_percent"],
                                   10, 90)
        pregnancy = raw.get("pregnancy")
        if pregnancy not in (None, "required", "ask"):
            raise self.fail([*path, "pregnancy"], "must be 'required' or 'ask'")
        examples = self.strings(raw.get("examples"), [*path, "examples"])
        if not examples:
            raise self.fail([*path, "examples"], "every flag needs at least one example")
        return RedFlag(
            id=flag_id,
            category=category,
            tier=tier,
            score=self.number(raw.get("score", 0.9), [*path, "score"], 0.01, 1),
            source=self.string(raw["source"], [*path, "source"]),
            advice=self.string(raw["advice"], [*path, "advice"]),
            note=None if raw.get("note") is None else self.string(raw["note"], [*path, "note"]),
            patterns=patterns,
            also=self.also(raw.get("also"), [*path, "also"], languages),
            unless=self.per_language(raw.get("unless"), [*path, "unless"], languages),
            unless_anywhere=self.per_language(raw.get("unless_anywhere"),
                                              [*path, "unless_anywhere"], languages),
            age_months=age,
            ask_age=self.per_language(raw.get("ask_age"), [*path, "ask_age"], languages),
            min_temperature=min_temp,
            temperature_required=temp_required,
            max_peak_flow_percent=max_peak,
            pregnancy=pregnancy,
            examples=examples,
            counter_examples=self.strings(raw.get("counter_examples"),
                                          [*path, "counter_examples"]),
        )

    def also(self, value: object, path: list[str | int],
             languages: Mapping[str, LanguageRules]) -> tuple[Mapping[str, re.Pattern[str]], ...]:
        if value is None:
            return ()
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(path, "must be a list of (language -> regexes) mappings")
        return tuple(self.per_language(v, [*path, i], languages) for i, v in enumerate(value))

    def strings(self, value: object, path: list[str | int]) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(path, "must be a list of strings")
        return tuple(value)


# ------------------------------------------------------------------------------- facts

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9, "十": 10, "半": 0.5}
_UNIT_MONTHS = (
    (re.compile(r"^(?:d|day|days|天|dia|dias)$"), 1 / 30.4),
    (re.compile(r"^(?:w|wk|wks|week|weeks|周|星期|礼拜|semana|semanas)$"), 7 / 30.4),
    (re.compile(r"^(?:m|mo|mos|month|months|个月|月|mes|meses)$"), 1.0),
    (re.compile(r"^(?:y|yo|yr|yrs|year|years|岁|周岁|ano|anos)$"), 12.0),
)


_EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
               "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
               # 0.5.0: Spanish ages ("mi bebe de un mes")
               "un": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
               "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12}


def _number(text: str) -> float | None:
    if text in _EN_NUMBERS:
        return float(_EN_NUMBERS[text])
    try:
        return float(text)
    except ValueError:
        pass
    if not text or any(ch not in _CN_DIGITS for ch in text):
        return None
    if text == "十":
        return 10.0
    if "十" in text:  # 十二 = 12, 二十 = 20, 二十三 = 23
        tens, _, units = text.partition("十")
        return float(_CN_DIGITS.get(tens, 1) * 10 + (_CN_DIGITS.get(units, 0) if units else 0))
    if len(text) == 1:
        return float(_CN_DIGITS[text])
    return None


def _age_in(rules: LanguageRules, text: str) -> float | None:
    for pattern in rules.age:
        m = pattern.search(text)
        if m is None:
            continue
        if "zero" in pattern.groupindex:
            return 0.0
        n = _number(m.group("n"))
        unit = m.group("u").strip()
        for unit_re, months in _UNIT_MONTHS:
            if n is not None and unit_re.match(unit):
                return n * months
    return None


def extract_facts(taxonomy: Taxonomy, texts: Sequence[str]) -> Facts:
    """Age, temperature and pregnancy from normalised ``texts``, the most relevant first
    (the turn being checked, then earlier turns, latest first): the first that says wins."""
    age: float | None = None
    temp: float | None = None
    pregnant: bool | None = None
    for text in texts:
        han = _HAN.search(text) is not None
        for code, rules in taxonomy.languages.items():
            if code == "zh" and not han:
                continue
            if age is None:
                age = _age_in(rules, text)
            if temp is None and rules.temperature is not None:
                for m in rules.temperature.finditer(text):
                    value = _temperature(m.group())
                    if value is not None:
                        temp = value
                        break
            if pregnant is None and rules.pregnancy is not None:
                said = rules.pregnancy.search(text)
                if said is not None:
                    left, _ = bounds(_CLAUSE_END, text, said.start(), said.end())
                    pregnant = not negated(rules, text[left:said.start()])
    peak = next((pct for text in texts if (pct := peak_flow_percent(text)) is not None), None)
    return Facts(age, temp, pregnant, peak)


# 0.19.0: "peak flow 140, my best is 450", "峰流速120 平时400", "my pefr is 200 (best 480)".
_PEAK_READING = re.compile(
    r"(?:\bpeak\s*flows?|\bpefr?\b|峰流速|峰值流速|\bflujo\s+(?:espiratorio\s+)?(?:maximo|pico)|"
    r"\bpico\s+flujo)[^\d.?!。？！]{0,20}?(\d{2,3})(?!\d|\s*%)")
_PEAK_BEST = re.compile(
    r"(?:\b(?:best|usual|normal|normally|predicted|mejor|habitual)\b|平时|平常|最好|最佳|正常)"
    r"[^\d.?!。？！]{0,20}?(\d{2,3})(?!\d)|(\d{2,3})\s*(?:is|being)\s+(?:my|his|her|their)\s+"
    r"(?:best|usual|normal)\b")


def peak_flow_percent(text: str) -> float | None:
    """A normalised text's peak flow reading as a percentage of the best or predicted value
    said with it ("peak flow 140, my best is 450" -> 31.1), or ``None`` unless both are there
    (a reading alone, or the best alone, decides nothing)."""
    reading = _PEAK_READING.search(text)
    if reading is None:
        return None
    for best in _PEAK_BEST.finditer(text):
        value = best.group(1) or best.group(2)
        if best.start() <= reading.start(1) < best.end():
            continue  # "best peak flow is 450": the number is the best, not a reading
        low, high = float(reading.group(1)), float(value)
        if 50 <= low <= 900 and 100 <= high <= 900 and low != high:
            return round(100 * low / high, 1)
    return None


_NUM = re.compile(r"\d{2,3}(?:\.\d+)?")


def _temperature(text: str) -> float | None:
    m = _NUM.search(text)
    if m is None:
        return None
    value = float(m.group())
    if 34.0 <= value <= 43.5:
        return value
    if 93.0 <= value <= 110.0:  # Fahrenheit
        return round((value - 32) * 5 / 9, 1)
    return None


# ---------------------------------------------------------------------------- matching


def _context(rules: LanguageRules, text: str, start: int, end: int,
             memo: _Memo | None = None) -> str | None:
    """Why the match at ``[start, end)`` is not a current presentation (``negated``,
    ``history``, ``education``), ``hypothetical``, or ``None`` for a report."""
    if memo is None:
        memo = _Memo()
    c_left, _ = bounds(_CLAUSE_END, text, start, end)
    s_left, s_right = bounds(_SENTENCE_END, text, start, end)
    if negated(rules, text[c_left:start]):
        return "negated"
    # "X ... they sent me home": closed. "Sent home after surgery, heavy bleeding": the cue
    # comes before the symptom, which is a new problem after discharge. 0.7.0: a present
    # cue in the discharge's own clause, before it, dates the discharge ("现在已经出院了",
    # "now discharged"); one anywhere else in the sentence still reopens the episode.
    care = rules.care_given.search(text, end) if rules.care_given is not None else None
    if care is not None and (rules.reopened is None
                             or not memo.found(rules.reopened, text, care.end(), len(text))):
        return "history"
    now = memo.first(rules.care_now, text) if rules.care_now is not None else None
    if now is not None and (rules.reopened is None
                            or not memo.found(rules.reopened, text, now.end(), len(text))):
        return "history"
    treated = rules.treated.search(text, end, s_right) if rules.treated is not None else None
    if treated is not None:
        t_left, _ = bounds(_CLAUSE_END, text, treated.start(), treated.end())
        t_left = max(t_left, end)
        if rules.present is None or not (
            memo.found(rules.present, text, s_left, t_left)
            or memo.found(rules.present, text, treated.end(), s_right)
        ):
            return "history"
    if rules.history is not None:
        h_left, h_right = clause_bounds(rules, _CLAUSE_END, text, start, end)
        if memo.found(rules.history, text, h_left, h_right) and (
            rules.present is None or not memo.found(rules.present, text, h_left, h_right)
        ):
            return "history"
    if rules.education is not None and memo.found(rules.education, text, s_left, s_right) and (
        rules.anchors is None or not memo.found(rules.anchors, text, s_left, s_right)
    ):
        return "education"
    presents = rules.presents is not None and memo.found(rules.presents, text, s_left, s_right)
    if not presents and rules.question is not None and memo.found(
        rules.question, text, s_left, s_right
    ):
        return "education"
    if not presents and rules.names is not None and any(
        m_start <= start and end <= m_end
        for m_start, m_end in memo.spans(rules.names, text, s_left, s_right)
    ):
        return "education"
    if rules.conditional is not None:
        cues = list(rules.conditional.finditer(text, s_left, start))
        cue = cues[-1] if cues else None
        gap = text[cue.end():start] if cue is not None else ""
        if cue is not None and not re.search(r"[,;，；]", gap) and not (
            rules.clause_breaks is not None and rules.clause_breaks.search(gap)
        ):
            return "hypothetical"
    return None


def _languages(taxonomy: Taxonomy, text: str) -> list[str]:
    han = _HAN.search(text) is not None
    return [code for code in taxonomy.languages if code != "zh" or han]


def _also_present(taxonomy: Taxonomy, also: Mapping[str, re.Pattern[str]], text: str,
                  langs: Sequence[str]) -> bool:
    for code in langs:
        pattern = also.get(code)
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            left, _ = bounds(_CLAUSE_END, text, m.start(), m.end())
            # negated by the cues of any language read in the text (the English patterns
            # also run on Spanish text: "no he vomitado" is negated by the Spanish "no")
            if not any(negated(taxonomy.languages[c], text[left:m.start()]) for c in langs):
                return True
    return False


@dataclass(slots=True)
class _Best:
    matches: dict[str, FlagMatch] = field(default_factory=dict)

    def add(self, match: FlagMatch) -> None:
        kept = self.matches.get(match.category)
        if kept is None or match.score > kept.score or (
            match.score == kept.score and match.span[0] < kept.span[0]
        ):
            self.matches[match.category] = match


def scan(taxonomy: Taxonomy, text: str, facts: Facts | None = None) -> list[FlagMatch]:
    """The red flags in one normalised ``text``: the strongest match per finding category,
    in text order. ``facts`` (from ``extract_facts``, which may include earlier turns)
    default to the facts in ``text`` alone. ``needs_facts`` matches are dropped when an
    emergency is found anyway: the answer is the same whatever the missing fact."""
    if facts is None:
        facts = extract_facts(taxonomy, [text])
    langs = _languages(taxonomy, text)
    best = _Best()
    memo = _Memo()
    for flag in taxonomy.flags:
        for code in langs:
            pattern = flag.patterns.get(code)
            if pattern is None:
                continue
            rules = taxonomy.languages[code]
            for m in pattern.finditer(text):
                match = _judge(taxonomy, flag, rules, text, m.start(), m.end(), facts, langs,
                               memo)
                if match is not None:
                    best.add(match)
    out = list(best.matches.values())
    if any(m.category.startswith("emergency.") and m.score >= taxonomy.needs_facts_score
           for m in out):
        out = [m for m in out if not m.category.startswith("needs_facts.")]
    # The same words read as an emergency by one flag and as urgent by another (chest pain
    # with sweating vs chest pain): keep the emergency only.
    strong = [m.span for m in out if m.category.startswith("emergency.")
              and m.score >= taxonomy.needs_facts_score]
    out = [m for m in out if not (
        m.category.startswith(("urgent.", "routine."))
        and any(s < m.span[1] and m.span[0] < e for s, e in strong)
    )]
    return sorted(out, key=lambda m: (m.span, m.category))


@dataclass(slots=True)
class _Memo:
    """What one ``scan`` works out once, whatever the match: whether an ``also`` feature is
    present (not negated) anywhere in the text, and whether a flag's ``ask_age`` pattern is,
    keyed by the pattern mapping's ``id`` (the taxonomy outlives the scan). Asked again for
    every match, each would search the whole text per match: quadratic in its length. And
    the searches of a whole sentence (``found``, ``spans``), once per sentence."""

    also: dict[int, bool] = field(default_factory=dict)
    ask_age: dict[int, bool] = field(default_factory=dict)
    found_in: dict[tuple[int, int, int], bool] = field(default_factory=dict)
    spans_in: dict[tuple[int, int, int], list[tuple[int, int]]] = field(default_factory=dict)
    first_in: dict[tuple[int, int, int], re.Match[str] | None] = field(default_factory=dict)

    def found(self, pattern: re.Pattern[str], text: str, left: int, right: int) -> bool:
        """``pattern.search(text[left:right])``, once per unit: the matches in one sentence
        (or, in a long unpunctuated run, one window of ``bounds``) share it."""
        key = (id(pattern), left, right)
        hit = self.found_in.get(key)
        if hit is None:
            hit = self.found_in[key] = pattern.search(text[left:right]) is not None
        return hit

    def first(self, pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
        """``pattern.search(text)``, once per scan (a cue said anywhere in the message)."""
        key = (id(pattern), -1, -1)
        if key not in self.first_in:
            self.first_in[key] = pattern.search(text)
        return self.first_in[key]

    def spans(self, pattern: re.Pattern[str], text: str, left: int,
              right: int) -> list[tuple[int, int]]:
        """The spans of ``pattern.finditer(text, left, right)``, once per unit."""
        key = (id(pattern), left, right)
        spans = self.spans_in.get(key)
        if spans is None:
            spans = self.spans_in[key] = [m.span() for m in pattern.finditer(text, left, right)]
        return spans


def _judge(taxonomy: Taxonomy, flag: RedFlag, rules: LanguageRules, text: str, start: int,
           end: int, facts: Facts, langs: Sequence[str],
           memo: _Memo | None = None) -> FlagMatch | None:
    if memo is None:
        memo = _Memo()
    s_left, s_right = bounds(_SENTENCE_END, text, start, end)
    for code in langs:
        unless = flag.unless.get(code)
        if unless is not None and memo.found(unless, text, s_left, s_right):
            return None
        anywhere = flag.unless_anywhere.get(code)
        if anywhere is not None and memo.first(anywhere, text) is not None:
            return None
    why = _context(rules, text, start, end, memo)
    if why in ("negated", "history", "education"):
        return None
    if "zh" not in langs or not _HAN.search(text[start:end]):
        # a Spanish pattern that matched English text ("febrile convulsion last year") is
        # judged by the English context rules too, and the other way round (0.11.0)
        for code in langs:
            other = taxonomy.languages[code]
            if code != "zh" and other is not rules and _context(
                    other, text, start, end, memo) in ("negated", "history", "education"):
                return None
    if _last_feature_negated(rules, text, start, end):
        return None
    for also in flag.also:
        present = memo.also.get(id(also))
        if present is None:
            present = memo.also[id(also)] = _also_present(taxonomy, also, text, langs)
        if not present:
            return None
    if flag.min_temperature is not None:
        if facts.temperature_c is None and flag.temperature_required:
            return None
        if facts.temperature_c is not None and facts.temperature_c < flag.min_temperature:
            return None
    if flag.max_peak_flow_percent is not None and (
            facts.peak_flow_percent is None
            or facts.peak_flow_percent > flag.max_peak_flow_percent):
        return None
    if flag.pregnancy is not None and not facts.pregnant:
        if facts.pregnant is None and flag.pregnancy == "ask" and why is None:
            return FlagMatch("needs_facts.pregnancy", taxonomy.needs_facts_score,
                             (start, end), flag, "pregnancy not stated")
        return None
    if flag.age_months is not None:
        age = facts.age_months
        if age is None:
            asks = memo.ask_age.get(id(flag.ask_age))
            if asks is None and why is None:
                asks = memo.ask_age[id(flag.ask_age)] = any(
                    (p := flag.ask_age.get(code)) is not None and p.search(text) is not None
                    for code in langs)
            if why is None and asks:
                return FlagMatch("needs_facts.age", taxonomy.needs_facts_score, (start, end),
                                 flag, "age not stated")
            return None
        low, high = flag.age_months
        if (low is not None and age < low) or (high is not None and age >= high):
            return None
    if why == "hypothetical":
        return FlagMatch(flag.finding_category, min(flag.score, taxonomy.hypothetical_score),
                         (start, end), flag, "hypothetical")
    return FlagMatch(flag.finding_category, flag.score, (start, end), flag, "current")


_LAST_WORD = re.compile(r"\w+\W*$")


def _last_feature_negated(rules: LanguageRules, text: str, start: int, end: int) -> bool:
    """A match that runs from one clause into a later one (``X[^.]{0,80}Y`` patterns) has its
    last feature negated there: "tonsils out 3 days ago, sore but no bleeding", "扁桃体术后第
    三天，嗓子疼，没有出血". Only ``feature_negation`` cues count, close before the last word
    (the last two characters for Chinese), with no scope breaker or pseudo-negation."""
    cues = rules.feature_negation
    if cues is None or end - start < 2:
        return False
    c_left, _ = bounds(_CLAUSE_END, text, end - 1, end)
    if c_left <= start:
        return False
    tail = text[c_left:end]
    if rules.window_unit == "char":
        pre = tail[:-2]
    else:
        last = _LAST_WORD.search(tail)
        pre = tail[:last.start()] if last is not None else tail
    matches = list(cues.finditer(pre))
    if not matches:
        return False
    found = matches[-1]
    gap = pre[found.end():]
    if count(rules.window_unit, gap) > rules.negation_window:
        return False
    if rules.scope_breakers is not None and rules.scope_breakers.search(gap):
        return False
    return not (rules.pseudo_negation is not None and any(
        s <= found.start() < e for s, e in (m.span() for m in rules.pseudo_negation.finditer(tail))
    ))


def answer_directs(taxonomy: Taxonomy, text: str) -> tuple[int, int] | None:
    """The first (not negated) direction to emergency care in a normalised answer."""
    return next(_answer_spans(taxonomy, text, taxonomy.answer.direction), None)


def answer_delays(taxonomy: Taxonomy, text: str) -> list[tuple[int, int]]:
    """Spans where a normalised answer reassures or delays care, not negated ("do not wait
    until tomorrow" is the opposite) and not inside a conditional ("if it gets better")."""
    return sorted(_answer_spans(taxonomy, text, taxonomy.answer.delay))


def _answer_spans(taxonomy: Taxonomy, text: str,
                  patterns: Mapping[str, re.Pattern[str]]) -> Iterator[tuple[int, int]]:
    """Matches of the answer's language(s) ``patterns`` that no cue in their clause negates."""
    for code in _languages(taxonomy, text):
        pattern = patterns.get(code)
        if pattern is None:
            continue
        rules = taxonomy.languages[code]
        for m in pattern.finditer(text):
            left, _ = bounds(_CLAUSE_END, text, m.start(), m.end())
            if not negated(rules, text[left:m.start()]):
                yield m.span()
