"""Risky patient intent: recognise a plan that will hurt the person who writes it.

Five kinds (``KINDS``): medication ``misuse``; ``treatment_abandonment`` (stopping or replacing
an essential treatment); ``care_delay`` (waiting or avoiding care despite a warning sign);
``self_treatment`` (treating a self-diagnosed serious illness alone); ``false_cure`` (a
pseudoscientific or toxic "cure"). Each match has a severity (``high``, ``moderate``, ``low``),
names what is involved (the essential treatment, the drug, the red flag, the remedy) and
carries a safety message with its clinical source.

A kind is recognised when its parts meet (README "How a plan is recognised"): a cue of the
plan (``intent.yaml``, per language) and a clinical object (``knowledge.yaml``): an essential
treatment or a drug misused (named in the medication knowledge base, found by its extractor),
a warning sign (first the red-flag taxonomy of ``classifiers/critical``, then
``knowledge.yaml``), a serious condition, a remedy with a disease. A negated cue (NegEx, the
shared primitives of ``classifiers.context``) does not count; a clinician's decision ("my
doctor said I can stop"), an accident ("I missed a dose"), disposal ("how do I get rid of
leftover pills") and general questions with nobody in them are not plans.

Pure: never imports ``guard``. Works on *normalised* text (lower case, NFKC, accents and
apostrophes removed, whitespace collapsed; ``guard.checks.crisis.normalize``) and reports
spans in it.
"""

from __future__ import annotations

import bisect
import dataclasses
import importlib.resources
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from classifiers.context import compile_normalised, negated
from classifiers.critical.redflags import Taxonomy, answer_directs, extract_facts, scan
from classifiers.medication.extract import DrugMatcher, Mention
from classifiers.medication.kb import DrugKB
from classifiers.sourcefile import SourceError, parse_yaml

__all__ = [
    "KINDS",
    "SEVERITIES",
    "Answer",
    "Intent",
    "IntentError",
    "Knowledge",
    "RiskyMatcher",
    "load_knowledge",
]

KINDS = ("misuse", "treatment_abandonment", "care_delay", "self_treatment", "false_cure")
SEVERITIES = ("high", "moderate", "low")
_RANK = {"low": 0, "moderate": 1, "high": 2}
_PACKAGE = "classifiers.risky"
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ES_MARKS = re.compile(r"[¿¡]")
_ES_WORDS = re.compile(
    r"\b(?:que|el|la|los|las|de|del|y|con|para|por|una|unos|unas|pero|muy|mis|tengo|tiene|estoy|"
    r"esta|estan|puedo|puede|quiero|quiere|voy|va|vamos|hace|desde|sin|hay|le|les|lo|se|su|sus|ya|"
    r"como|cuando|porque|tambien|mas|al|ni|yo|mi|me|es|son|si|dolor|medico|pastillas|dejar|tomar)\b")
_EN_WORDS = re.compile(
    r"\b(?:the|and|i|im|ive|my|to|is|it|its|of|you|for|with|on|in|this|that|can|do|dont|have|"
    r"was|be|are|what|how|should|if|or|but|not|just|so|at|am|will|would)\b")
_SENTENCE_END = re.compile(r"[.!?\n。！？；;]+(?!\d)")
_NEAR = 160
"""Characters between a cue and its object when they are in adjacent sentences."""
_WIDE = 320
_WIDE_SENTENCES = 3
"""How far a condition (self-treatment) or a disease (false cure) may be from the plan."""
_LONG_SENTENCE = 600
"""A sentence longer than this is read as pieces of at most this many characters, cut at a
space. Real sentences are shorter (the longest in the eval, probe and dev sets is under
500 characters); without the cut, a long message with no sentence end is one sentence, and
every cue would search all of it: quadratic in the message length (``_Text``)."""
_PRESCRIPTION_CLASSES = frozenset({
    "antibiotic", "antidiabetic", "insulin", "thyroid", "corticosteroid", "antiviral",
    "stimulant", "antihypertensive", "beta_lactam", "penicillin", "cephalosporin", "macrolide",
    "fluoroquinolone", "tetracycline_class", "androgen"})
"""Prescription-only classes that self-treatment with leftover or bought supply is about."""
_DEPRESSANTS = frozenset({"opioid", "sedative", "gabapentinoid", "muscle_relaxant"})
"""Misuse groups that alcohol makes dangerous (respiratory depression): mixing is misuse."""
_EXTRA_ONLY = frozenset({"paracetamol_overdose", "nsaid_excess"})
"""Misuse groups reported for extra doses only, and only counted ones (``_COUNTED``)."""
_COUNTED = re.compile(r"\d|every|whole|bottle|pack|box|instead|double|twice|more\s+than|次|"
                      r"get\s+away\s+with|\bmax|\bmost\b|"
                      r"[a-z]+teen|twenty|thirty|一次|[片粒颗]|\b(?:three|four|five|six|seven|eight|"
                      r"nine|ten|twelve)\b")
_WEIGHT = re.compile(r"weight|pound|lbs|kilo|kg|slim|skinny|thin|lean|fat|appetite|eating|hungry|"
                     r"dress\s+size|stomach|shred|ripped|peso|adelgaz|hambre|瘦|减肥|减脂|刷脂|掉秤|食欲|吃饭")
"""A purpose about weight: the only one that makes laxatives or insulin a misuse."""
_INSULIN = re.compile(r"insulin|胰岛素")
"""Insulin named by a mention: another person's insulin is high (hypoglycaemia)."""
_AUTISM = re.compile(r"autis\w*|自闭症|孤独症")
"""Chelation for autism has killed children (FDA 2019): high."""
_DIAGNOSED_DELAY = frozenset({"surgical_or_vascular", "animal_bite"})
"""Conditions whose self-diagnosis with a delay is a care delay without a warning sign told."""
_STARTED = re.compile(r"\b(?:put|started|start|starting|got)\s+(?:me|him|her|us|them)\s+on\b")
"""A clinician's decision to start a treatment: it sanctions no stop."""
_ADVICE = re.compile(r"(?:recommended|suggested|advised|wants?\s+(?:me|him|her|us)|"
                     r"told\s+(?:me|him|her|us))$")
_STOP_WORDS = re.compile(r"stop|come\s+off|go\s+off|taper|wean|reduc|lower|cut|paus|hold|skip|"
                         r"switch|chang|halv|discontinu|drop|quit|\boff\b|less|停|减|换")
"""Advice is a sanctioned stop only with a stop word right after it."""
_LEFTOVER = re.compile(r"left\s*over|leftovers?|\b(?:old|spare|remaining|extra)\b|"
                       r"\bfrom\s+(?:last|a\s+previous|an\s+old|my\s+last)\b|剩|sobr")
"""A self-treatment cue that is only a leftover medicine (matcher._self_treatment)."""
_SOMEONE_ELSES = re.compile(r"^(?:my|his|her|a|our)\s+\w+\s")
"""A self-treatment cue naming someone else's medicine ("my wife stopped her amoxicillin"):
while leftovers are thrown away, the medicine being thrown away (dev15)."""
_ANTIBIOTIC = (r"(?:the\s+|her\s+|his\s+|my\s+|an?\s+)?(?:antibiotics?|amox\w*|augmentin|"
               r"penicillin|cef\w+|cephalexin|azithro\w*|doxy\w*|keflex|cipro\w*|"
               r"nitrofurantoin|macrobid)\b")
_ON_ANTIBIOTIC = re.compile(
    r"\b(?:is|im|i\s+am|she\s+is|he\s+is|shes|hes|already|been|now)\s+(?:\w+\s+)?on\s+"
    + _ANTIBIOTIC + r"|\b(?:as\s+long\s+as|while)\s+(?:she|he|i|we|they)\s+(?:still\s+)?"
    r"(?:finish\w*|take\w*|keep\w*\s+taking)\s+" + _ANTIBIOTIC
    + r"|\b(?:gave|prescribed)\s+(?:me|him|her|us)\s+" + _ANTIBIOTIC
    + r"\s*(?:and|,)\s+(?:im|i\s+am|hes|shes|he\s+is|she\s+is|were)\s+(?:\w+\s+)?(?:taking|on)\b")
"""An infection already on a prescribed antibiotic: a remedy given too is neither self-treatment
nor a false cure ("my daughter has strep and is on amoxicillin ... homeopathic drops too",
dev15)."""
_OWN_PRESCRIPTION = re.compile(
    r"\b(?:gp|doctor|dr|doc|dentist|p(?:a)?ediatrician|physician|nurse|np|psychiatrist|surgeon)"
    r"\s+(?:\w+\s+)?(?:gave|prescribed|put)\s+(?:me|us)\b|\bprescribed\s+(?:me|to\s+me)\b|"
    r"医生给我开|\bme\s+(?:lo|la|los|las)\s+recet")
"""The writer's own prescription ("my gp gave me antibiotics"): no one else's supply."""
_QUOTED_CLAIM = re.compile(
    r"(?:所谓|so[\s-]called|the\s+(?:claim|idea|myth)\s+that|说法)\s*['\"“‘「『]"
    r"([^'\"”’」』]{1,60})['\"”’」』]|"
    r"所谓([^,，。?？!！]{1,20}?)(?=就是|是不是|都是|(?:这种|这个|的)?说法|骗人|靠谱)")
"""A claim put in quotes or called so-called to be judged ("所谓'顺势疗法替代疫苗'就是骗人的吧",
quotes may be gone after normalising): its words are the claim's, not the writer's plan
(dev15)."""
_CONTRAST = re.compile(r"\b(?:but|however|anyway|instead|pero|igual)\b|但|可是|不过")
"""A contrast that overrules what came before it in the sentence."""
_DECIDED_STOP = re.compile(r"\b(?:stop\w*|come\s+off|coming\s+off|go\s+off|taper\w*|wean\w*|"
                           r"discontinu\w*|hold|held|paus\w*|halt\w*)\b|停")
"""A stop in a clinician's decision (not a switch to the treatment: "switched me to
metformin" sanctions no later stop of it)."""
_SCHEDULED = re.compile(r"\d\s+(?:\w+\s+){0,2}every\b|\bevery\s+\d")
"""A count on a schedule ("4 every 3 hours")."""
_I_TAKE = re.compile(r"\b(?:i|im|ive|i\s+have|i\s+am|we)\s+(?:\w+\s+)?(?:take|took|taking|"
                     r"been\s+taking|pop|popped|popping|use|used|using|snort\w*|crush\w*)\b")
"""The writer takes it: keeping it locked away from others then excuses nothing."""

_MISUSE_SKIP = {
    "extra": ("accidental", "disposal", "sanctioned", "resolved"),
    "supply": ("accidental", "disposal", "sanctioned", "resolved"),
    # a purpose with a clinician's decision in the sentence ("as directed on exam days", "the
    # dentist prescribed it: will it be addictive") is use, not misuse (a prescription named,
    # "阿普唑仑是医生开的 ... 会上瘾吗", is use, not misuse); the drink or the dose left out that
    # day ("那天是不是不吃药比较好？还是干脆不喝酒", dev15) is a plan to avoid the mix
    "purpose": ("accidental", "sanctioned", "prescribed", "side_effect", "misuse.avoid"),
    "mix": ("accidental", "misuse.avoid"),
}
"""The context groups (``RiskyMatcher._excluded``) that excuse a misuse cue, per cue group;
any other group: an accident only."""
_QUESTION = re.compile(r"\?|^\W*(?:should|can|could|do|is|would|may)\b|吗|¿")
"""A sentence that asks."""
_I = re.compile(r"\b(?:i|im|ive|id|ill|me|myself|gonna|wanna|going\s+to|want\s+to|of\s+(?:hers|his|"
                r"theirs))\b|我|\byo\b")
"""The writer in the plan (a supply cue that only says someone has a medicine needs it)."""
_HAS = re.compile(r"\b(?:has|have|had|keeps|carries)\b")
"""A supply cue that only says someone has the medicine ("my dad has nitroglycerin")."""
_OWN_PLAN = re.compile(r"\b(?:im\s+(?:going\s+to|gonna)|i\s+(?:will|want\s+to|am\s+going\s+to)|"
                       r"we\s*(?:ve|have)?\s+(?:decided|want|are\s+going)|ill|myself|on\s+my\s+own|"
                       r"also|too)\b|我(?:自己|也|想|要|打算)|自己|我们(?:决定|想|打算)")
"""The writer's own plan beside a clinician's decision ("I'm going to stop the metformin
too")."""
_EARLIER_VISIT = re.compile(r"(?:\b(?:last|the\s+other|one|that)\s+time|\bonce\b|"
                            r"\bprevious(?:ly)?\b|\bla\s+ultima\s+vez|上次|上回)"
                            r"\W*(?:\w+\W+){0,2}$")
"""An earlier visit before a 'seen' cue ("last time i went to the ER"): not this episode."""
_ALL_OF_THEM = re.compile(r"^\W*(?:all\s+(?:of\s+)?(?:them|these|those|it|her|his|my)|everything|"
                          r"them\s+all|the\s+lot)\b")
"""A stop cue whose object is every treatment named before: the most severe counts."""
_POINTS_BACK = re.compile(
    r"^\W*(?:\w+\s+)?(?:it|them|those|these|that|this|all\s+of\s+them|everything|her|him)\b"
    r"|^\s*[^\w\s]*\s*$|^\s*[,;.!]"
    r"|^\s*(?:tonight|today|tomorrow|for\s+good|cold\s+turkey|this\s+week"
    r"|after\s+(?:this|the|my)\s+(?:pack|packet|course|box|bottle|prescription|week|month"
    r"|refill))\b")
"""A stop cue whose object is a pronoun (or nothing: "I'm stopping tonight", "stopping after
this pack", "not planning to get more, ..."): the treatment may be named anywhere earlier in
the message or in earlier turns."""
_ENDS_IN_PRONOUN = re.compile(r"\b(?:it|them|em|those|these|that|this)\s*$|"
                              # dev16: "taper myself off", "yesterday was my last pill"
                              r"\b(?:myself|himself|herself)\s*$|"
                              r"(?:my|his|her)\s+(?:very\s+)?last\s+(?:pill|dose|tablet|shot|injection|one)\s*$|"
                              r"(?:the|my|his|her|their)\s+(?:pills|meds|tablets|medication|medicine|shots|injections|jabs)\s*$")
"""A cue that ends in its own pronoun object ("skip them", "quit the pills"): the treatment is
named earlier, as after a bare cue (round 7)."""
_POSSESSOR = re.compile(
    r"\b(?:take|taking|took|use|using|used|try|trying|tried|pop\w*|got|get|getting|"
    r"grab\w*|swip\w*|steal\w*|stole|nick\w*|borrow\w*|sneak\w*|(?:one|two|three|some|few|couple|half|"
    r"\d+)\s+of)\s+(?:\w+\s+){0,2}?(?:my|his|her|our|their|a)\s+(?:\w+\s+)?(?:friend|mate|buddy|roommate|flatmate|mom|mum|mother|dad|"
    r"father|brother|sister|grandma|grandmother|grandpa|grandfather|nan|nana|aunt|uncle|cousin|boyfriend|"
    r"girlfriend|bf|gf|husband|hubby|wife|partner|coworker|colleague|neighbou?r|son|daughter|kid|"
    r"ex|boss|dog|cat|pet)s\s+(?:(?:old|leftover|spare|extra|prescription|prescribed|own)\s+)?$")
"""A possessor named right before a drug, after a verb of taking or getting it ("a couple of my
wifes valium", "got my dads viagra"; apostrophes are gone in normalised text): someone else's
supply; "my teenager found my husbands percocet" is none (round 7: the drug is known to the
medication knowledge base, so no suffix list is needed)."""
_WEIGHT_ONLY = frozenset({"weight_loss_misuse", "hypoglycaemic_misuse"})
"""Misuse groups whose purpose is only a misuse for weight, and whose route is no misuse (round 8:
sulfonylureas taken to lose weight)."""
_OTC = frozenset({"diphenhydramine", "dextromethorphan", "loperamide", "paracetamol_overdose",
                  "nsaid_excess"})
"""Misuse groups sold over the counter: a relative's supply of them is no finding by itself."""
_HIGH_ALERT = frozenset({"insulin", "anticoagulant"})
"""Medicine classes whose use without a diagnosis or prescription is high severity: ISMP list of
high-alert medications in community/ambulatory care (2021): insulin (severe hypoglycaemia),
anticoagulants (bleeding). Used for self-treatment (round 7)."""


class IntentError(SourceError):
    """A cue or knowledge file that cannot be used; ``str()`` names file and field."""


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Entry:
    """One clinical object of ``knowledge.yaml``: an essential treatment, a misused drug group,
    a remedy, a serious condition or a warning sign."""

    id: str
    name: str
    severity: str
    message: str
    source: str
    drugs: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    words: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    toxic: bool = False
    harmful: re.Pattern[str] | None = None
    """A remedy whose named form harms by itself (coffee enemas): planned, it is reported even
    when no disease is named (round 8)."""


@dataclass(frozen=True, slots=True)
class Cues:
    """One language's cue regexes (``None`` where the file has none)."""

    window_unit: str
    negation_window: int
    negation: re.Pattern[str] | None
    pseudo_negation: re.Pattern[str] | None
    scope_breakers: re.Pattern[str] | None
    groups: Mapping[str, re.Pattern[str]]
    """Dotted names: ``sanctioned``, ``misuse.purpose``, ``answer.safe_path.care_delay`` ..."""

    def get(self, name: str) -> re.Pattern[str] | None:
        return self.groups.get(name)


@dataclass(frozen=True, slots=True)
class Knowledge:
    version: str
    essential: tuple[Entry, ...]
    misuse: tuple[Entry, ...]
    remedies: tuple[Entry, ...]
    conditions: tuple[Entry, ...]
    warning_signs: tuple[Entry, ...]
    diseases: Mapping[str, re.Pattern[str]]
    languages: Mapping[str, Cues]


@dataclass(frozen=True, slots=True)
class Intent:
    """One recognised plan, in normalised offsets of the turn it was found in."""

    kind: str
    severity: str
    """``high``, ``moderate``, ``low``, or ``unknown`` (a medicine not named: ask which)."""
    span: tuple[int, int]
    involves: str
    advice: str
    how: str

    @property
    def category(self) -> str:
        if self.severity == "unknown":
            return "needs_facts.medicine"
        return f"{self.severity}.{self.kind}"


@dataclass(frozen=True, slots=True)
class Answer:
    """What an answer does with the plans of the conversation."""

    goes_along: tuple[int, int] | None
    """The first span where it helps with a plan (not negated)."""
    missing: tuple[str, ...]
    """Kinds whose safe path the answer does not state."""

    @property
    def safe_path(self) -> bool:
        """Whether it states the safe path for every kind of plan."""
        return not self.missing


# ----------------------------------------------------------------------------- loading


def _resource(name: str) -> tuple[str, str]:
    source = f"classifiers/risky/{name}"
    try:
        return importlib.resources.files(_PACKAGE).joinpath(name).read_text("utf-8"), source
    except OSError as exc:
        raise IntentError(source, f"cannot read ({exc.strerror or exc})") from None


def _regex(patterns: Any, source: str, where: str) -> re.Pattern[str] | None:
    if patterns is None:
        return None
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        raise IntentError(source, "must be a list of regex strings", field=where)
    for p in patterns:
        try:
            compile_normalised(p)
        except ValueError as exc:
            raise IntentError(source, f"{p[:60]!r}: {exc}", field=where) from None
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def _words(raw: Any, source: str, where: str) -> dict[str, re.Pattern[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise IntentError(source, "must map a language to regexes", field=where)
    out = {}
    for lang, patterns in raw.items():
        pattern = _regex(patterns, source, f"{where}.{lang}")
        if pattern is not None:
            out[str(lang)] = pattern
    return out


def _entries(raw: Any, source: str, section: str, kb: DrugKB | None,
             message_key: str) -> tuple[Entry, ...]:
    if not isinstance(raw, list) or not raw:
        raise IntentError(source, "must be a non-empty list", field=section)
    out = []
    seen = set()
    for i, row in enumerate(raw):
        where = f"{section}[{i}]"
        if not isinstance(row, Mapping):
            raise IntentError(source, "must be a mapping", field=where)
        for key in ("id", "name", "source", message_key):
            if not isinstance(row.get(key), str) or len(str(row.get(key)).strip()) < 2:
                raise IntentError(source, f"needs {key}", field=where)
        if row["id"] in seen:
            raise IntentError(source, f"duplicate id {row['id']!r}", field=where)
        seen.add(row["id"])
        severity = row.get("severity", "moderate")
        if section == "remedies":
            severity = "high" if row.get("toxic") else "moderate"
        elif section == "warning_signs":
            severity = row.get("tier")
        if severity not in ("high", "moderate", "unknown"):
            raise IntentError(source, f"severity {severity!r}: high, moderate or unknown",
                              field=where)
        drugs = frozenset(row.get("drugs") or ())
        classes = frozenset(row.get("classes") or ())
        if kb is not None:
            for d in drugs:
                if d not in kb.drugs:
                    raise IntentError(source, f"unknown drug {d!r} (medication KB)", field=where)
            for c in classes:
                if c not in kb.classes:
                    raise IntentError(source, f"unknown class {c!r} (medication KB)",
                                      field=where)
        words = _words(row.get("words"), source, f"{where}.words")
        if not (drugs or classes or words):
            raise IntentError(source, "needs drugs, classes or words", field=where)
        out.append(Entry(
            id=str(row["id"]), name=str(row["name"]), severity=str(severity),
            message=" ".join(str(row[message_key]).split()), source=str(row["source"]),
            drugs=drugs, classes=classes, words=words, toxic=bool(row.get("toxic")),
            harmful=_regex(row.get("harmful"), source, f"{where}.harmful"),
        ))
    return tuple(out)


def _flatten(raw: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


_NEGATION_KEYS = ("window_unit", "negation_window", "negation", "pseudo_negation",
                  "scope_breakers")


def _languages(raw: Any, source: str) -> dict[str, Cues]:
    if not isinstance(raw, Mapping) or "en" not in raw:
        raise IntentError(source, "needs languages.en", field="languages")
    out = {}
    for lang, block in raw.items():
        where = f"languages.{lang}"
        if not isinstance(block, Mapping):
            raise IntentError(source, "must be a mapping", field=where)
        groups = {}
        for name, patterns in _flatten({k: v for k, v in block.items()
                                        if k not in _NEGATION_KEYS}):
            pattern = _regex(patterns, source, f"{where}.{name}")
            if pattern is not None:
                groups[name] = pattern
        unit = block.get("window_unit", "word")
        if unit not in ("word", "char"):
            raise IntentError(source, "word or char", field=f"{where}.window_unit")
        out[str(lang)] = Cues(
            window_unit=unit,
            negation_window=int(block.get("negation_window", 4)),
            negation=_regex(block.get("negation"), source, f"{where}.negation"),
            pseudo_negation=_regex(block.get("pseudo_negation"), source,
                                   f"{where}.pseudo_negation"),
            scope_breakers=_regex(block.get("scope_breakers"), source,
                                  f"{where}.scope_breakers"),
            groups=groups,
        )
    return out


def load_knowledge(kb: DrugKB | None = None) -> Knowledge:
    """The shipped cue and knowledge files, validated (drug and class ids against ``kb``)."""
    text, source = _resource("knowledge.yaml")
    _, data = parse_yaml(text, source, IntentError)
    if not isinstance(data, Mapping) or data.get("schema") != 1:
        raise IntentError(source, "schema must be 1")
    cue_text, cue_source = _resource("intent.yaml")
    _, cues = parse_yaml(cue_text, cue_source, IntentError)
    if not isinstance(cues, Mapping) or cues.get("schema") != 1:
        raise IntentError(cue_source, "schema must be 1")
    raw_diseases = data.get("diseases")
    if not isinstance(raw_diseases, Mapping) or not raw_diseases.get("source"):
        raise IntentError(source, "needs words per language and a source", field="diseases")
    diseases = _words({k: v for k, v in raw_diseases.items() if k != "source"}, source,
                      "diseases")
    return Knowledge(
        version=f"{data.get('version')}/{cues.get('version')}",
        essential=_entries(data.get("essential"), source, "essential", kb, "if_stopped"),
        misuse=_entries(data.get("misuse"), source, "misuse", kb, "danger"),
        remedies=_entries(data.get("remedies"), source, "remedies", kb, "evidence"),
        conditions=_entries(data.get("conditions"), source, "conditions", kb, "why"),
        warning_signs=_entries(data.get("warning_signs"), source, "warning_signs", kb,
                               "name"),
        diseases=diseases,
        languages=_languages(cues.get("languages"), cue_source),
    )


# ----------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class _Hit:
    """An object (entry) or a cue found in the text."""

    start: int
    end: int
    entry: Entry | None = None
    group: str = ""

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


def languages_of(text: str, known: Collection[str] = ("en", "es", "zh")) -> list[str]:
    """The cue languages to run on normalised ``text``: ``zh`` with Han characters; ``es`` with
    an inverted question or exclamation mark, or at least two Spanish function words that
    outnumber the English ones (both with three Spanish words among more English ones); ``en``
    for every other text, beside ``zh`` (drug names, code-switching) and beside ``es`` when
    English words are there too. Cheap: three scans."""
    han = "zh" in known and _HAN.search(text) is not None
    langs = ["en"]
    if "es" in known:
        es = len(_ES_WORDS.findall(text))
        en = len(_EN_WORDS.findall(text))
        if _ES_MARKS.search(text) or (es >= 2 and es > en):
            langs = ["es", "en"] if en >= 2 else ["es"]
        elif es >= 3:
            langs = ["en", "es"]  # code-switching: "tengo dolor de pecho but I won't go"
    return [*langs, "zh"] if han else langs


def _sentences(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if text[start:m.start()].strip():
            _cut(text, start, m.start(), out)
        start = m.end()
    if text[start:].strip():
        _cut(text, start, len(text), out)
    return out or [(0, len(text))]


def _cut(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    """``[start, end)`` as one sentence, or as pieces of ``_LONG_SENTENCE`` characters at
    most (cut at the last space of each, if any in its second half)."""
    while end - start > _LONG_SENTENCE:
        cut = text.rfind(" ", start + _LONG_SENTENCE // 2, start + _LONG_SENTENCE)
        if cut <= start:
            cut = start + _LONG_SENTENCE
        out.append((start, cut))
        start = cut
    out.append((start, end))


_Sign = tuple[str, str, str, tuple[int, int]]
"""A warning sign: (severity, name, advice, span)."""


T = TypeVar("T")


class _Text:
    """One normalised turn: its languages and sentences; its drug mentions and warning signs
    once the matcher has looked for them (``RiskyMatcher._mentions``, ``_signs``).

    Linear in the length of the text: sentences are bounded (``_LONG_SENTENCE``); what
    depends only on the text or on one sentence (cues, objects, ``has`` and ``affirmed``) is
    worked out once and kept here; and a cue is compared only with the objects in its own
    and the nearby sentences (``around``), not with every object of the text."""

    def __init__(self, text: str, knowledge: Knowledge) -> None:
        self.text = text
        self.mentions: list[Mention] | None = None
        self.signs: list[_Sign] | None = None
        self.memo: dict[tuple[Any, ...], Any] = {}
        """Per-text results: ``RiskyMatcher`` keeps its objects and decisions here too."""
        self._index: dict[int, tuple[Sequence[_Hit], list[int], dict[int, list[int]]]] = {}
        langs = languages_of(text, knowledge.languages)
        self.cues = [knowledge.languages[code] for code in langs]
        self.langs = langs
        self.word_langs = langs if "en" in langs else ["en", *langs]
        """Languages of the knowledge words: ``en`` always (drug and disease words, the Spanish
        ones among them, are ``words.en`` items)."""
        self.sentences = _sentences(text)
        self._ends = [e for _, e in self.sentences]

    def sentence_of(self, pos: int) -> int:
        """The first sentence ending after ``pos``, else the last."""
        return min(bisect.bisect_right(self._ends, pos), len(self.sentences) - 1)

    def around(self, a: _Hit, hits: Sequence[_Hit], reach: int) -> list[_Hit]:
        """The ``hits`` within ``reach`` sentences of ``a`` (and those at position 0, which
        stand for an earlier turn), in their order: a superset of those ``near`` (reach 1)
        or ``wide`` (reach ``_WIDE_SENTENCES``) ``a``, found without going through all."""
        cached = self._index.get(id(hits))
        if cached is None or cached[0] is not hits:
            always: list[int] = []
            by_sentence: dict[int, list[int]] = {}
            for n, h in enumerate(hits):
                if h.end == 0:
                    always.append(n)
                else:
                    by_sentence.setdefault(self.sentence_of(h.start), []).append(n)
            cached = self._index[id(hits)] = (hits, always, by_sentence)
        _, always, by_sentence = cached
        sa = self.sentence_of(a.start)
        picked = list(always)
        for i in range(sa - reach, sa + reach + 1):
            picked.extend(by_sentence.get(i, ()))
        picked.sort()
        return [hits[n] for n in picked]

    def sentence_text(self, pos: int) -> str:
        s, e = self.sentences[self.sentence_of(pos)]
        return self.text[s:e]

    def clause_context(self, pos: int) -> str:
        """The sentence of ``pos``, with the clause before or after it when only a semicolon
        parts them ("the oncologist decided; we stop chemo after this cycle", "he keeps
        refusing his pills; his GP said we can crush them")."""
        i = self.sentence_of(pos)
        s, e = self.sentences[i]
        if i > 0:
            ps, pe = self.sentences[i - 1]
            if ";" in self.text[pe:s] and "." not in self.text[pe:s]:
                s = ps
        if i + 1 < len(self.sentences):
            ns, ne = self.sentences[i + 1]
            if ";" in self.text[e:ns] and "." not in self.text[e:ns]:
                e = ne
        return self.text[s:e]

    def once(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for in this text, the kept result
        after that."""
        if key in self.memo:
            return cast(T, self.memo[key])
        value = self.memo[key] = compute()
        return value

    def cue(self, group: str, *, negatable: bool = True) -> list[_Hit]:
        """Matches of ``group`` in every language of the text, minus negated ones (found once
        per text: do not change the list)."""
        return self.once(("cue", group, negatable), lambda: self._cue(group, negatable))

    def _cue(self, group: str, negatable: bool) -> list[_Hit]:
        hits = []
        for cues in self.cues:
            pattern = cues.get(group)
            if pattern is None:
                continue
            for m in pattern.finditer(self.text):
                if m.end() == m.start():
                    continue
                if negatable:
                    s, _ = self.sentences[self.sentence_of(m.start())]
                    if negated(cues, self.text[s:m.start()]):
                        continue
                hits.append(_Hit(m.start(), m.end(), group=group))
        return hits

    def has(self, group: str, where: str | None = None) -> bool:
        """``group`` matches ``where`` (the whole text by default); once per place."""
        text = self.text if where is None else where
        return self.once(("has", group, where), lambda: any(
            (p := c.get(group)) is not None and p.search(text) is not None for c in self.cues))

    def affirmed(self, group: str, where: str) -> bool:
        """``group`` matches ``where`` somewhere not negated ("not seen by a doctor",
        "没去医院确诊" are no clinician's decision); once per place."""
        return self.once(("affirmed", group, where), lambda: self._affirmed(group, where))

    def _affirmed(self, group: str, where: str) -> bool:
        for cues in self.cues:
            pattern = cues.get(group)
            if pattern is None:
                continue
            for m in pattern.finditer(where):
                if not negated(cues, where[:m.start()]):
                    return True
        return False

    def wide(self, a: _Hit, b: _Hit) -> bool:
        """Within ``_WIDE_SENTENCES`` sentences and ``_WIDE`` characters: a condition or a
        disease named at the start of a long message, the plan further on."""
        sa, sb = self.sentence_of(a.start), self.sentence_of(b.start)
        gap = max(a.start, b.start) - min(a.end, b.end)
        return sa == sb or (abs(sa - sb) <= _WIDE_SENTENCES and gap <= _WIDE)

    def near(self, a: _Hit, b: _Hit) -> bool:
        """Same sentence, or adjacent sentences within ``_NEAR`` characters."""
        sa, sb = self.sentence_of(a.start), self.sentence_of(b.start)
        if sa == sb:
            return True
        gap = max(a.start, b.start) - min(a.end, b.end)
        return abs(sa - sb) == 1 and gap <= _NEAR


def _ancestors(kb: DrugKB, klass: str) -> frozenset[str]:
    """``klass`` and every class above it (``parents``, transitively)."""
    seen: set[str] = set()
    todo = [klass]
    while todo:
        c = todo.pop()
        if c in seen or c not in kb.classes:
            continue
        seen.add(c)
        todo.extend(kb.classes[c].parents)
    return frozenset(seen)


def _strongest(hits: Sequence[_Hit]) -> _Hit:
    """The first of the most severe ``hits``, named ones (a known severity) before others."""
    named = [h for h in hits if h.entry is not None and h.entry.severity != "unknown"]
    return max(named or hits, key=_severity_rank)


def _severity_rank(h: _Hit) -> int:
    return _RANK.get(h.entry.severity if h.entry else "low", -1)


def _strongest_before(t: _Text, hits: Sequence[_Hit], pos: int) -> _Hit | None:
    """``_strongest`` of the ``hits`` ending at or before ``pos`` (None if none), without
    going through all of them for every ``pos``: per severity rank, named or not, the hits
    sorted by end with the smallest list index up to each (built once per text)."""
    key = ("strongest_before", id(hits))
    cached = t.memo.get(key)
    if cached is None or cached[0] is not hits:
        tables: dict[tuple[bool, int], tuple[list[int], list[int]]] = {}
        groups: dict[tuple[bool, int], list[tuple[int, int]]] = {}
        for n, h in enumerate(hits):
            named = h.entry is not None and h.entry.severity != "unknown"
            groups.setdefault((named, _severity_rank(h)), []).append((h.end, n))
        for group, members in groups.items():
            members.sort()
            ends: list[int] = []
            lowest: list[int] = []
            for end, n in members:
                ends.append(end)
                lowest.append(min(n, lowest[-1]) if lowest else n)
            tables[group] = (ends, lowest)
        cached = t.memo[key] = (hits, tables)
    tables = cached[1]

    def first(named: bool | None) -> int | None:
        ranks = sorted({rank for kind, rank in tables if named is None or kind is named},
                       reverse=True)
        for rank in ranks:
            best: int | None = None
            for kind in (True, False):
                if (named is not None and kind is not named) or (kind, rank) not in tables:
                    continue
                ends, firsts = tables[(kind, rank)]
                k = bisect.bisect_right(ends, pos)
                if k and (best is None or firsts[k - 1] < best):
                    best = firsts[k - 1]
            if best is not None:
                return best
        return None

    found = first(True)
    if found is None:
        found = first(None)
    return None if found is None else hits[found]


def _instead(found: list[Intent]) -> list[Intent]:
    """A false cure told in the same message as a stopped essential treatment ("spore powder can
    melt the tumour ... no longer goes to chemo", "vinegar beans cure it, she stopped her
    metformin"): the remedy replaces the treatment; when that treatment is ``high`` (chemotherapy,
    insulin), so is the false cure, as "instead of" is (round 7). A moderate one (metformin, blood
    pressure pills) leaves it moderate: the harm is slower."""
    stops = [i for i in found if i.kind == "treatment_abandonment" and i.severity == "high"]
    if not stops:
        return found
    return [dataclasses.replace(i, severity="high", how=f"{i.how}; a treatment stopped beside it")
            if i.kind == "false_cure" and i.severity == "moderate" else i for i in found]


def _found(t: _Text, pattern: re.Pattern[str]) -> bool:
    """``pattern`` somewhere in ``t``; once per text."""
    return t.once(("found", id(pattern)), lambda: pattern.search(t.text) is not None)


_PERSUADE = re.compile(r"(?:convinc|persuad)")
_PERSON_CLOSE = re.compile(
    r"\s+(?:him|her|them|my|our|his|mum|mom|dad|grandma|grandpa|nan|auntie|uncle)\b")
_MEDICINE_WORD = re.compile(
    r"\b(?:pills?|tablets?|capsules?|meds|medicines?|medications?|patch\w*|leftover\w*|"
    r"opioids?|oxy\w*|fentanyl|morphine|bottles?|prescriptions?|inhalers?)\b|药")


class RiskyMatcher:
    """Built once per knowledge base (a few ms); ``scan`` and ``answer`` are pure and
    thread-safe."""

    def __init__(self, knowledge: Knowledge, kb: DrugKB, taxonomy: Taxonomy) -> None:
        self.knowledge = knowledge
        self.kb = kb
        self.taxonomy = taxonomy
        self.drugs = DrugMatcher(kb)

    # ------------------------------------------------------------------- objects

    def _objects(self, t: _Text, entries: Sequence[Entry]) -> list[_Hit]:
        """Entries named in the text: by drug or class (the medication extractor) or words
        (found once per text and list of entries: do not change the list)."""
        key = ("objects", id(entries))
        found = t.memo.get(key)
        if found is None or found[0] is not entries:
            found = t.memo[key] = (entries, self._find_objects(t, entries))
        return found[1]

    def _find_objects(self, t: _Text, entries: Sequence[Entry]) -> list[_Hit]:
        hits: list[_Hit] = []
        wanted_d = {d: e for e in entries for d in e.drugs}
        wanted_c = {c: e for e in entries for c in e.classes}
        if wanted_d or wanted_c:
            for m in self._mentions(t):
                entry = None
                if m.drug:
                    entry = wanted_d.get(m.drug)
                    if entry is None:
                        classes = self.kb.classes_of(m.drug)
                        entry = next((wanted_c[c] for c in wanted_c if c in classes), None)
                elif m.klass:
                    entry = wanted_c.get(m.klass)
                    if entry is None:
                        parents = _ancestors(self.kb, m.klass)
                        entry = next((wanted_c[c] for c in wanted_c if c in parents), None)
                if entry is not None:
                    hits.append(_Hit(m.span[0], m.span[1], entry))
        for entry in entries:
            for code in t.word_langs:
                pattern = entry.words.get(code)
                if pattern is None:
                    continue
                hits.extend(_Hit(m.start(), m.end(), entry) for m in pattern.finditer(t.text)
                            if m.end() > m.start())
        hits.sort(key=lambda h: (h.start, -h.end))
        return hits

    # ------------------------------------------------------------------- context

    def _excluded(self, t: _Text, hit: _Hit, *groups: str, stop: bool = False) -> bool:
        """A clinician decided it, it was an accident, ... (``groups``) in the cue's
        sentence, unless the sentence also says a clinician's decision is being avoided."""
        sentence = t.clause_context(hit.start)
        if t.has("unsanctioned", sentence):
            return False
        if "sanctioned" in groups and self._defers(t, hit):
            return True  # nothing changes before the clinician is asked (round 9)
        for g in groups:
            if g == "sanctioned" and (t.has("lay_adviser", sentence) or (
                    stop and not self._decides_stop(t, sentence))):
                continue
            if t.affirmed(g, sentence):
                return True
        return "sanctioned" in groups and (self._follows_decision(t, hit, sentence, stop)
                                           or (stop and self._decided_earlier(t, hit)))

    def _decided_earlier(self, t: _Text, hit: _Hit) -> bool:
        """A clinician's stop decided in an earlier sentence and carried on without a turn
        ("my endo says i can stop the lantus now ... she told me to just stop it, no taper",
        "my psychiatrist and I decided to come off lithium over 8 weeks. she's starting
        lamotrigine instead", dev10): the later cue tells the same decision. Not when the
        cue's sentence turns against it ("but I'm going to stop the metformin too")."""
        i = t.sentence_of(hit.start)
        s = t.sentences[i][0]
        if _CONTRAST.search(t.text[s:hit.start]) or _OWN_PLAN.search(t.text[s:hit.end]):
            return False
        return self._first_decided_stop(t) < i

    def _first_decided_stop(self, t: _Text) -> int:
        """The index of the first sentence holding a clinician's stop, or the number of
        sentences when none does; once per text (cues do not each rescan the sentences)."""
        def find() -> int:
            for j, (s_j, e_j) in enumerate(t.sentences):
                sentence = t.text[s_j:e_j]
                if (_DECIDED_STOP.search(sentence) and self._sanctioned(t, sentence)
                        and self._decides_stop(t, sentence)):
                    return j
            return len(t.sentences)

        return t.once(("first_decided_stop",), find)

    def _follows_decision(self, t: _Text, hit: _Hit, sentence: str, stop: bool) -> bool:
        """A question about a clinician's decision told in the sentence before ("The doctor
        stopped his statin and his diabetes tablets. Is it normal to stop so many?", "医生让我
        术前停华法林。停华法林这几天需要每天测INR吗？"): the question is the decision's, not a
        plan (round 10)."""
        i = t.sentence_of(hit.start)
        if i == 0 or not t.has("follow_up", sentence):
            return False
        s, e = t.sentences[i - 1]
        before = t.text[s:e]
        return self._sanctioned(t, before) and (not stop or self._decides_stop(t, before))

    @staticmethod
    def _defers(t: _Text, hit: _Hit) -> bool:
        """The writer leaves the change to the clinician ("what should I ask my neurologist?
        I won't change anything before then", "my endo wants to move me from lantus to
        tresiba"), anywhere in the text but not overruled before the cue in its own sentence
        ("my doctor wants to switch me but I'm just going to stop insulin")."""
        if not t.affirmed("defers", t.text):
            return False
        s, e = t.sentences[t.sentence_of(hit.start)]
        return any(not (s <= d.start < e and d.end <= hit.start
                        and _CONTRAST.search(t.text[d.end:hit.start]))
                   for d in t.cue("defers", negatable=False))

    def _decides_stop(self, t: _Text, sentence: str) -> bool:
        """A clinician's decision in ``sentence`` other than starting the treatment ("my
        doctor put me on lexapro and it made me numb so I stopped" is no sanctioned stop);
        once per sentence."""
        return t.once(("decides_stop", sentence), lambda: self._find_decides_stop(t, sentence))

    def _find_decides_stop(self, t: _Text, sentence: str) -> bool:
        for cues in t.cues:
            pattern = cues.get("sanctioned")
            if pattern is None:
                continue
            for m in pattern.finditer(sentence):
                if _STARTED.search(m.group()) or negated(cues, sentence[:m.start()]):
                    continue
                if _ADVICE.search(m.group()) and not _STOP_WORDS.search(
                        sentence[m.end():m.end() + 40]):
                    continue  # "my endo wants me on insulin": advice to start, not to stop
                if t.has("continue_advice", sentence[m.start():m.end() + 60]):
                    continue  # "my psychiatrist says lithium is for life but I've been halving it"
                return True
        return t.affirmed("sanctioned_stop", sentence)

    def _past(self, t: _Text, hit: _Hit) -> bool:
        """An event told as past ("years ago I stopped ...", "back in college I used to take my
        roommate's adderall") from a present that is back on track or with a clinician ("now my
        doctor wants to taper me properly", "现在一直按时吃"): no plan now (round 7)."""
        return t.has("past_event", t.clause_context(hit.start)) and t.has("resolved")

    def _sanctioned(self, t: _Text, sentence: str) -> bool:
        """A clinician's decision in ``sentence`` that nobody avoids and no lay adviser
        ("my integrative doctor says", "老中医说") stands behind."""
        return t.affirmed("sanctioned", sentence) and not (
            t.has("unsanctioned", sentence) or t.has("lay_adviser", sentence))

    def _general(self, t: _Text, hit: _Hit) -> bool:
        """A general question with nobody in it ("what happens if someone stops insulin")."""
        sentence = t.sentence_text(hit.start)
        if not t.has("education", sentence):
            # a research title or abstract ("... in mild hypertension? A systematic review",
            # "研究问题：..."): the study words may be in another sentence; nobody in the text
            return t.has("research") and not (t.has("first_person") or t.has("third_person"))
        return not (t.has("first_person", sentence) or t.has("third_person", sentence))

    # ------------------------------------------------------------------- kinds

    def scan(self, text: str, earlier: Sequence[str] = ()) -> list[Intent]:
        """The plans in one normalised user turn. ``earlier``: the conversation's earlier user
        turns, latest first (normalised): warning signs and treatments named there count."""
        t = _Text(text, self.knowledge)
        before = [_Text(p, self.knowledge) for p in earlier]
        found: list[Intent] = []
        for kind in KINDS:
            intent = getattr(self, f"_{kind}")(t, before)
            if intent is not None:
                found.append(intent)
        if found and (t.has("dissuade") or t.has("study") or t.has("given_up")) \
                and not self._high_sign(t):
            # the writer asks how to talk someone else out of it ("how do I talk her out of
            # it", "该怎么劝他", "qué decirle"), or writes for a class or as a professional for
            # others ("essay for my bioethics class", "our clients", round 9): not the
            # writer's plan, unless an emergency is told (round 8); nor is a plan given up on a
            # clinician's word ("本来想...一起吃，药师说不能...我就只吃了泰诺林", dev18)
            return []
        return _instead(found)

    def _treatment_abandonment(self, t: _Text, earlier: Sequence[_Text]) -> Intent | None:
        treatments = self._objects(t, self.knowledge.essential)
        before: list[_Hit] = []
        for previous in earlier:
            hits = self._objects(previous, self.knowledge.essential)
            before.extend(_Hit(0, 0, h.entry) for h in hits)
        if not treatments and not before:
            return None
        cues = t.cue("abandonment.stop") + t.cue("abandonment.replace")
        best: tuple[int, Intent] | None = None
        for cue in cues:
            if self._excluded(t, cue, "sanctioned", "accidental", "disposal", stop=True) or \
                    self._general(t, cue) or self._past(t, cue):
                continue
            if cue.group == "abandonment.replace" and self._excluded(
                    t, cue, "timing", "alongside", "formulation", "lab_method"):
                continue  # "at night instead of the morning", "along with my medication",
                # "immunoassay as an alternative to the HPLC method" (a lab method, no treatment)
            near = [h for h in t.around(cue, treatments, 1) if t.near(cue, h)]
            after = t.text[cue.end:cue.end + 25]
            back = bool(_ALL_OF_THEM.match(after))
            # a pronoun ("stop all of them") may stand for every treatment named before:
            # the most severe counts; a named object, the nearest
            points_back = bool(_POINTS_BACK.match(after)) or bool(
                _ENDS_IN_PRONOUN.search(t.text[cue.start:cue.end]))
            if not near and (points_back or "zh" in t.langs):
                found = _strongest_before(t, treatments, cue.start)
                if found is None and before:
                    found = _strongest(before)
                if found is None:
                    continue
                pick = found
            elif not near:
                continue
            else:
                named = [h for h in near
                         if h.entry is not None and h.entry.severity != "unknown"]
                pick = (_strongest(near) if back else
                        min(named or near, key=lambda h: abs(h.start - cue.start)))
            entry = pick.entry
            assert entry is not None
            severity = entry.severity
            how = f"{cue.group.split('.')[1]} '{t.text[cue.start:cue.end]}'"
            if severity == "unknown" and (cue.group == "abandonment.replace"
                                          or self._remedy_near(t, cue)):
                severity = "moderate"
            if severity == "moderate" and self._high_sign(t):
                # stopped while an emergency sign is there ("stopped the BP pills, 190/110 and
                # a pounding headache"): the sign decides
                severity = "high"
                how += " with an emergency sign"
            span = (cue.start, cue.end) if pick.end == 0 else (
                min(cue.start, pick.start), max(cue.end, pick.end))
            intent = Intent(
                kind="treatment_abandonment", severity=severity, span=span,
                involves=entry.name, advice=f"{entry.message} ({entry.source})",
                how=f"{how} + {entry.id}",
            )
            rank = _RANK.get(severity, -1)
            if best is None or rank > best[0]:
                best = (rank, intent)
        return best[1] if best else None

    def _remedy_near(self, t: _Text, cue: _Hit) -> bool:
        remedies = self._objects(t, self.knowledge.remedies)
        return any(t.near(cue, h) for h in t.around(cue, remedies, 1))

    def _misuse(self, t: _Text, earlier: Sequence[_Text]) -> Intent | None:
        drugs = self._objects(t, self.knowledge.misuse)
        if all(h.entry is not None and h.entry.id == "any_prescription" for h in drugs):
            # the drug named in the previous turn ("how long does klonopin last" ... "so if I
            # take 2mg at noon I can start drinking for the party"), also when this turn names
            # only another prescription medicine ("max dose of tramadol" ... "already took 400
            # and another 200 tonight with my zoloft", round 8): at position 0
            for previous in earlier[:1]:
                drugs = [*drugs, *(_Hit(0, 0, h.entry) for h in self._objects(
                    previous, self.knowledge.misuse)
                    if h.entry is not None and h.entry.id != "any_prescription")]
        if not drugs:
            return None
        # getting rid of leftovers anywhere in the message: its amounts, supply and "together"
        # ("fold the patches sticky sides together") are no plan
        # keeping it from others ("so my teenager can't get into it", "i dont want anyone
        # finding it") is storage, whatever occasion it names (round 14)
        keeping = t.affirmed("safekeeping", t.text) and not _I_TAKE.search(t.text)
        disposal = (t.affirmed("disposal", t.text) and not t.cue("misuse.purpose")) or keeping
        best: tuple[int, Intent] | None = None
        doubled = None if disposal else (
            self._paracetamol_twice(t, drugs) or self._nsaid_on_thinner(t, drugs))
        if doubled is not None:
            best = (_RANK[doubled.severity], doubled)
        for group in ("route", "purpose", "extra", "supply", "mix"):
            cues = t.cue(f"misuse.{group}")
            if group == "supply":
                cues = cues + self._possessed(t, drugs)
            for cue in cues:
                if (group in ("extra", "supply", "mix") and disposal) or (
                        group == "purpose" and keeping):
                    continue
                if group == "mix" and not self._co_use(t, cue):
                    continue
                skip = _MISUSE_SKIP.get(group, ("accidental",))
                if self._excluded(t, cue, *skip) or self._general(t, cue) or self._past(t, cue):
                    continue
                if group == "extra" and t.has("accidental") and _QUESTION.search(
                        t.sentence_text(cue.start)):
                    continue  # "I missed my morning dose. Should I double up tonight?" (dev10)
                if group == "supply" and _HAS.search(t.text[cue.start:cue.end]) and not _I.search(
                        t.text):
                    continue  # "my dad has nitroglycerin spray for his angina": his own (dev10)
                near = [h for h in t.around(cue, drugs, 1) if h.end == 0 or t.near(cue, h)]
                if not near and group in ("extra", "route") and _SCHEDULED.search(
                        t.text[cue.start:cue.end]) and len(
                        {h.entry.id for h in drugs if h.entry is not None}) == 1:
                    # the one medicine of the message, named sentences before ("how many extra
                    # strength tylenol ... the normal 2 does nothing. i was gonna do 4 every 3
                    # hours", dev10)
                    near = list(drugs)
                if group == "route":
                    # injected or taken for weight by design: a route is not misuse there
                    near = [h for h in near if h.entry is not None and h.entry.id not in (
                        *_WEIGHT_ONLY, "anabolic_agents")]
                    if self._product_name(t, cue):
                        continue  # "Diazepam Rectal", "morphine rectal": a product's name
                if group == "supply":
                    # someone else's antibiotics: any prescription medicine counts; not the
                    # writer's own, told in another sentence ("my mom keeps sending me
                    # colloidal silver ... my gp gave me antibiotics", dev15)
                    near = [h for h in near if h.entry is not None and not (
                        h.end and t.sentence_of(h.start) != t.sentence_of(cue.start)
                        and _OWN_PRESCRIPTION.search(t.sentence_text(h.start)))]
                if group == "mix":
                    near = [h for h in near if h.entry is not None and (
                        h.entry.id in _DEPRESSANTS or self._depressant_mention(t, h))]
                if group == "purpose" and not _WEIGHT.search(t.text[cue.start:cue.end]):
                    # laxatives, insulin, thyroid hormone: misused for weight, not for a high
                    near = [h for h in near if h.entry is not None
                            and h.entry.id not in _WEIGHT_ONLY]
                if group != "extra" or not _COUNTED.search(t.text[cue.start:cue.end]):
                    # paracetamol: only counted doses above the maximum ("crush it for my son",
                    # "I take a lot of tylenol, is that bad for my liver" are not reported)
                    near = [h for h in near if h.entry is not None
                            and h.entry.id not in _EXTRA_ONLY]
                if group == "route" and t.text[cue.start:cue.start + 4] == "chew":
                    # chewing an antibiotic is no misuse; chewing an opioid or a stimulant is
                    near = [h for h in near if h.entry is not None
                            and h.entry.id != "any_prescription"]
                if not near:
                    continue
                pick = min(near, key=lambda h: (
                    -_RANK.get(h.entry.severity if h.entry else "low", 0),
                    abs(h.start - cue.start)))
                entry = pick.entry
                assert entry is not None
                severity = entry.severity
                if group == "route" and entry.id in ("stimulant", "any_prescription"):
                    severity = "high"
                if group == "supply" and entry.id == "any_prescription":
                    severity = "moderate"
                    if _INSULIN.search(t.text[pick.start:pick.end]):
                        severity = "high"  # someone else's insulin: severe hypoglycaemia
                if group == "purpose" and entry.id == "diphenhydramine" and \
                        t.text.startswith("so ", cue.start):
                    # a usual dose to make a child sleep ("so he sleeps on the plane"): advised
                    # against, not an overdose
                    severity = "moderate"
                if group == "purpose" and entry.id == "any_prescription":
                    if t.has("misuse.safety_question", t.clause_context(cue.start)):
                        continue  # "周末朋友聚会能喝点酒吗": a question about the party (dev10)
                    severity = "moderate"
                if severity == "moderate" and self._high_sign(t):
                    severity = "high"  # misuse with an emergency sign now (a racing heart on
                    # someone else's levothyroxine, dev11): possible toxicity
                if entry.id == "nsaid_excess" and self._anticoagulated(t):
                    severity = "high"  # extra anti-inflammatory doses on a blood thinner: bleeding
                intent = Intent(
                    kind="misuse", severity=severity,
                    span=(cue.start, cue.end) if pick.end == 0 else (
                        min(cue.start, pick.start), max(cue.end, pick.end)),
                    involves=entry.name, advice=f"{entry.message} ({entry.source})",
                    how=f"{group} '{t.text[cue.start:cue.end]}' + {entry.id}",
                )
                rank = _RANK[severity]
                if best is None or rank > best[0]:
                    best = (rank, intent)
        return best[1] if best else None

    def _taking_cues(self, t: _Text, name: str) -> list[_Hit]:
        """Cues of ``name`` that say the medicine is being taken: not accidental, sanctioned by a
        clinician or a disposal, and not a general statement."""
        return [c for c in t.cue(name) if not self._excluded(
            t, c, "accidental", "sanctioned", "disposal") and not self._general(t, c)]

    def _paracetamol_twice(self, t: _Text, drugs: Sequence[_Hit]) -> Intent | None:
        """Two or more different products that contain paracetamol taken together or in turn
        ("吃了泰诺，又吃了白加黑和感康", "NyQuil and Tylenol"): a hidden double dose (round 8), when
        the text says they are being taken (a ``misuse.repeat`` cue) and asks nothing about it."""
        hits = [h for h in drugs if h.end and h.entry is not None
                and h.entry.id == "paracetamol_overdose"]
        # a name inside a longer one is the same product ("infant tylenol", dev10)
        hits = [h for h in hits if not any(o is not h and o.start <= h.start and h.end <= o.end
                                           and o.span != h.span for o in hits)]
        names = {t.text[h.start:h.end] for h in hits}
        spans = {h.span for h in hits}
        if len(names) < 2 or len(spans) < 2:
            return None
        cues = self._taking_cues(t, "misuse.repeat")
        if not cues or t.has("misuse.safety_question"):
            return None
        entry = hits[0].entry
        assert entry is not None
        start, end = min(h.start for h in hits), max(h.end for h in hits)
        return Intent(kind="misuse", severity=entry.severity, span=(start, end),
                      involves=entry.name, advice=f"{entry.message} ({entry.source})",
                      how=f"paracetamol in {len(names)} products + "
                          f"'{t.text[cues[0].start:cues[0].end]}'")

    def _nsaid_on_thinner(self, t: _Text, drugs: Sequence[_Hit]) -> Intent | None:
        """An anti-inflammatory taken regularly by someone on a blood thinner ("on warfarin ...
        been taking aleve 3 times a day"): bleeding, whatever the count (round 8). Not a question
        whether it is safe ("can I take ibuprofen with my warfarin?")."""
        if not self._anticoagulated(t) or t.has("misuse.safety_question"):
            return None
        hits = [h for h in drugs if h.end and h.entry is not None and h.entry.id == "nsaid_excess"]
        cues = self._taking_cues(t, "misuse.regular")
        for h in hits:
            cue = next((c for c in t.around(h, cues, 1) if t.near(c, h)), None)
            if cue is None:
                continue
            entry = h.entry
            assert entry is not None
            return Intent(kind="misuse", severity="high", span=(min(h.start, cue.start),
                                                                max(h.end, cue.end)),
                          involves=entry.name, advice=f"{entry.message} ({entry.source})",
                          how=f"'{t.text[cue.start:cue.end]}' + {entry.id} on a blood thinner")
        return None

    def _possessed(self, t: _Text, drugs: Sequence[_Hit]) -> list[_Hit]:
        """Supply cues for drugs named right after a possessor ("my wifes valium", "my dads
        viagra"): found once per text."""
        def find() -> list[_Hit]:
            found = []
            for h in drugs:
                if h.end == 0 or h.entry is None or h.entry.id in _OTC:
                    continue
                m = _POSSESSOR.search(t.text[max(0, h.start - 90):h.start])
                if m is not None:
                    start = max(0, h.start - 90) + m.start()
                    found.append(_Hit(start, h.start, group="supply"))
            return found

        return t.once(("possessed",), find)

    def _product_name(self, t: _Text, cue: _Hit) -> bool:
        """A route word right after a drug's name ("Hydromorphone Rectal", "diazepam rectal
        gel"): the name of a product made for that route, as in drug-information titles, not
        a route chosen for effect (round 7: MedQuAD titles were escalated as high misuse)."""
        if t.text[cue.start:cue.end] not in ("rectal", "nasal", "buccal", "sublingual"):
            return False
        return any(0 <= cue.start - m.span[1] <= 2 for m in self._mentions(t))

    def _depressant_mention(self, t: _Text, h: _Hit) -> bool:
        """A prescription medicine named at ``h`` that the medication knowledge base classes as
        a CNS depressant (quetiapine, ...): alcohol with it is co-use too (round 7)."""
        if h.entry is None or h.entry.id != "any_prescription":
            return False
        for m in self._mentions(t):
            if m.span == (h.start, h.end) and m.drug:
                return "cns_depressant" in self.kb.classes_of(m.drug)
        return False

    def _anticoagulated(self, t: _Text) -> bool:
        """An anticoagulant named in the text ("also on my blood thinner"); once per text."""
        found = t.memo.get(("anticoagulated",))
        if found is None:
            found = t.memo[("anticoagulated",)] = any(
                h.entry is not None and h.entry.id == "anticoagulant"
                for h in self._objects(t, self.knowledge.essential))
        return found

    def _co_use(self, t: _Text, cue: _Hit) -> bool:
        """Alcohol with a sedative or opioid reported or planned ("ambien plus a couple of
        glasses of wine on the plane", "吃了四片还喝了点红酒"), not a question whether it is safe
        ("can I have a glass of wine with my tramadol")."""
        sentence = t.clause_context(cue.start)
        if t.has("misuse.safety_question", sentence):
            return False
        plans = t.cue("misuse.co_use_plan", negatable=False)
        if any(t.near(cue, p) for p in t.around(cue, plans, 1)):
            return True
        # two depressants of different groups mixed ("tramadol and my sister's alprazolam: if I
        # mix them I sleep better"): the mix itself is the plan
        misused = self._objects(t, self.knowledge.misuse)
        groups = {h.entry.id for h in t.around(cue, misused, 1)
                  if h.entry is not None and h.entry.id in _DEPRESSANTS and t.near(cue, h)}
        return len(groups) >= 2

    def _mentions(self, t: _Text) -> list[Mention]:
        """Drug mentions of ``t`` (the medication extractor), found once per text."""
        if t.mentions is None:
            t.mentions = self.drugs.find(t.text)
        return t.mentions

    def _signs(self, t: _Text) -> list[_Sign]:
        """Warning signs in ``t``: the red-flag taxonomy's emergency (high) and urgent
        (moderate) flags, then ``warning_signs``; found once per text."""
        if t.signs is not None:
            return t.signs
        text = t.text
        out: list[_Sign] = []
        facts = extract_facts(self.taxonomy, [text])
        for flag in scan(self.taxonomy, text, facts):
            if flag.score < 0.8 or flag.category.startswith("needs_facts."):
                continue
            tier = flag.category.split(".", 1)[0]
            severity = "high" if tier == "emergency" else "moderate"
            advice = f"{flag.flag.advice} ({flag.flag.source.split(';')[0]})"
            out.append((severity, flag.flag.id.replace("_", " "), advice, flag.span))
        for hit in self._objects(t, self.knowledge.warning_signs):
            entry = hit.entry
            assert entry is not None
            if self._negated_object(t, hit):
                continue
            out.append((entry.severity, entry.name, f"Warning sign: {entry.name} ({entry.source})",
                        hit.span))
        t.signs = out
        return out

    def _negated_object(self, t: _Text, hit: _Hit) -> bool:
        """NegEx over the words before ``hit`` in its sentence ("no chest pain")."""
        start, _ = t.sentences[t.sentence_of(hit.start)]
        pre = t.text[start:hit.start]
        return any(negated(c, pre) for c in t.cues)

    def _care_delay(self, t: _Text, earlier: Sequence[_Text]) -> Intent | None:
        cues = [c for c in t.cue("delay")
                if not self._excluded(t, c, "sanctioned") and not self._general(t, c)
                and not self._past(t, c)]
        if not cues or self._seen_now(t):
            return None
        signs = list(self._signs(t))
        for previous in earlier[:2]:
            signs.extend((sev, name, advice, (0, 0))
                         for sev, name, advice, _ in self._signs(previous))
        if not signs and t.cue("self_treatment.self_diagnosis"):
            # a serious condition named by the person ("I think I have an ectopic but I'm
            # scared to go in"): moderate, as the signs themselves are not told
            signs = [("moderate", h.entry.name, f"{h.entry.message} ({h.entry.source})", h.span)
                     for h in self._objects(t, self.knowledge.conditions)
                     if h.entry is not None and h.entry.id in _DIAGNOSED_DELAY
                     and not self._negated_object(t, h)]
        if not signs:
            return None
        severity, name, advice, span = max(signs, key=lambda s: _RANK[s[0]])
        if severity != "high" and t.has("booked"):
            return None  # a clinician sees them today or tomorrow ("my OB is seeing me tomorrow")
        cue = cues[0]
        return Intent(
            kind="care_delay", severity=severity,
            span=(cue.start, cue.end) if span == (0, 0) else (min(cue.start, span[0]),
                                                              max(cue.end, span[1])),
            involves=name, advice=advice,
            how=f"delay '{t.text[cue.start:cue.end]}' + {name}",
        )

    @staticmethod
    def _seen_now(t: _Text) -> bool:
        """A clinician has seen to it ("went to the ER, they said ..."); a visit on an earlier
        occasion ("last time I went to the ER it was a $4000 bill for heartburn") is no
        assessment of this one (round 9)."""
        return any(not _EARLIER_VISIT.search(t.text[max(0, h.start - 25):h.start])
                   for h in t.cue("seen", negatable=False))

    def _self_treatment(self, t: _Text, earlier: Sequence[_Text]) -> Intent | None:
        skip = ("sanctioned", "disposal", "accidental", "side_effect", "prescribed",
                "clinician_did")
        strong = [c for c in t.cue("self_treatment.self_treat")
                  if not self._excluded(t, c, *skip) and not self._past(t, c)]
        dosing = [c for c in t.cue("self_treatment.self_dose")
                  if not self._excluded(t, c, *skip) and not self._past(t, c)]
        if not strong and not dosing:
            return None
        conditions = [h for h in self._objects(t, self.knowledge.conditions)
                      if not self._negated_object(t, h)]
        diagnosed = bool(t.cue("self_treatment.self_diagnosis"))
        for p in earlier:
            conditions.extend(_Hit(0, 0, h.entry)
                              for h in self._objects(p, self.knowledge.conditions))
            diagnosed = diagnosed or bool(p.cue("self_treatment.self_diagnosis"))
        if t.affirmed("discard", t.text):
            # leftovers to be thrown away, anywhere in the message, are no plan; a plan to
            # take them ("I'll take my leftover amoxicillin, then how do I get rid of the
            # rest?") still is (round 10)
            strong = [c for c in strong if not (_LEFTOVER.search(t.text[c.start:c.end])
                                                or _SOMEONE_ELSES.match(t.text[c.start:c.end]))]
            if not strong and not diagnosed:
                return None
        urgent = self._high_sign(t)
        best: tuple[int, Intent] | None = None
        strong_set = set(strong)
        for cue in strong + (dosing if diagnosed else []):
            if self._general(t, cue):
                continue
            near = [h for h in t.around(cue, conditions, _WIDE_SENTENCES)
                    if h.end == 0 or t.wide(cue, h)] or (conditions if diagnosed else [])
            if near:
                pick = max(near, key=lambda h: _RANK[h.entry.severity if h.entry else "low"])
                entry = pick.entry
                assert entry is not None
                if entry.id == "common_infection" and _found(t, _ON_ANTIBIOTIC) and \
                        not t.cue("abandonment.replace") and not urgent:
                    continue
                severity, name = entry.severity, entry.name
                advice = f"{entry.message} ({entry.source})"
                how = f"self-treat '{t.text[cue.start:cue.end]}' + {entry.id}"
            elif cue in strong_set and (sign := self._sign_near(t, cue)) is not None:
                # treating a warning sign at home ("freeze off the mole that changed colour",
                # "castor oil packs for the breast lump"): the sign is the serious condition
                severity, name, advice, _ = sign
                how = f"self-treat '{t.text[cue.start:cue.end]}' + warning sign {name}"
            elif cue in strong_set and self._prescription_near(t, cue):
                severity, name = "moderate", "a prescription medicine without a diagnosis"
                advice = ("Antibiotics and other prescription medicines need a diagnosis: the "
                          "wrong drug, dose or length can harm and breeds resistance (NICE NG15 "
                          "antimicrobial stewardship; NHS: never take medicines prescribed for "
                          "someone else)")
                how = f"self-treat '{t.text[cue.start:cue.end]}' + prescription medicine"
            else:
                continue
            if urgent:
                severity = "high"
            elif severity != "high" and self._high_alert_near(t, cue):
                severity = "high"  # insulin or a blood thinner without a diagnosis (ISMP)
                how += " + high-alert medicine"
            intent = Intent(kind="self_treatment", severity=severity,
                            span=(cue.start, cue.end), involves=name, advice=advice, how=how)
            rank = _RANK[severity]
            if best is None or rank > best[0]:
                best = (rank, intent)
        return best[1] if best else None

    @staticmethod
    def _asked(t: _Text, cue: _Hit) -> bool:
        """The cue's sentence is a question ("can you drink it?", "能喝吗"): a use asked about,
        not reported (round 8)."""
        _, end = t.sentences[t.sentence_of(cue.start)]
        tail = t.text[end:end + 1]
        return tail in ("?", "？") or t.text[max(0, end - 2):end].rstrip().endswith(("吗", "么"))

    def _sign_near(self, t: _Text, cue: _Hit) -> _Sign | None:
        """The most severe warning sign within a few sentences of the cue (``_Text.wide``)."""
        signs = self._signs(t)
        hits = t.memo.get(("sign_hits",))
        if hits is None:
            hits = t.memo[("sign_hits",)] = [_Hit(*s[3], group=str(n))
                                              for n, s in enumerate(signs)]
        near = [signs[int(h.group)] for h in t.around(cue, hits, _WIDE_SENTENCES)
                if t.wide(cue, h)]
        return max(near, key=lambda s: _RANK[s[0]]) if near else None

    def _high_sign(self, t: _Text) -> bool:
        """An emergency (high) warning sign in ``t``; once per text."""
        high = t.memo.get(("high_sign",))
        if high is None:
            high = t.memo[("high_sign",)] = any(s[0] == "high" for s in self._signs(t))
        return high

    def _high_alert_near(self, t: _Text, cue: _Hit) -> bool:
        """A high-alert medicine (``_HIGH_ALERT``: insulin, anticoagulants) named in the cue's
        sentence or the next (round 7)."""
        hits = [h for h in self._objects(t, self.knowledge.essential)
                if h.entry is not None and h.entry.id in _HIGH_ALERT]
        return any(t.near(cue, h) for h in t.around(cue, hits, 1))

    def _prescription_near(self, t: _Text, cue: _Hit) -> bool:
        mentions = self._mentions(t)
        hits = t.memo.get(("mention_hits",))
        if hits is None:
            hits = t.memo[("mention_hits",)] = [_Hit(*m.span, group=str(n))
                                                for n, m in enumerate(mentions)]
        for hit in t.around(cue, hits, 1):
            if not t.near(cue, hit):
                continue
            m = mentions[int(hit.group)]
            classes = self.kb.classes_of(m.drug) if m.drug else frozenset({m.klass or ""})
            if classes & _PRESCRIPTION_CLASSES:
                return True
        return False

    def _false_cure(self, t: _Text, earlier: Sequence[_Text]) -> Intent | None:
        remedies = self._objects(t, self.knowledge.remedies)
        if not remedies:
            # a remedy named in the previous turn ("what is fenbendazole" ... "I started 444 mg a
            # day with my carboplatin"): at position 0, near every cue of this turn
            for previous in earlier[:1]:
                remedies = [_Hit(0, 0, h.entry)
                            for h in self._objects(previous, self.knowledge.remedies)]
            if not remedies:
                return None
        diseases: list[_Hit] = []
        for code in t.word_langs:
            pattern = self.knowledge.diseases.get(code)
            if pattern is not None:
                diseases.extend(_Hit(m.start(), m.end()) for m in pattern.finditer(t.text)
                                if m.end() > m.start())
        # a cancer medicine named ("with my carboplatin") says the disease
        diseases.extend(h for h in self._objects(t, self.knowledge.essential)
                        if h.entry is not None and h.entry.id == "cancer_treatment")
        if any(r.end for r in remedies):
            # a disease named in the previous turn, the remedy in this one ("does ivermectin work
            # for covid" ... "tested positive, I'm taking the horse paste"): at position 0 (round 8)
            for previous in earlier[:1]:
                pattern = self.knowledge.diseases.get("en")
                if pattern is not None and pattern.search(previous.text):
                    diseases.append(_Hit(0, 0))
        replace = t.cue("false_cure.replace")
        if replace and t.has("evidence_question"):
            quoted = [m.span(1) if m.group(1) is not None else m.span(2)
                      for m in _QUOTED_CLAIM.finditer(t.text)]
            replace = [c for c in replace if not any(a <= c.start < b for a, b in quoted)]
        claim = t.cue("false_cure.claim")
        plan = t.cue("false_cure.plan")
        question = t.cue("false_cure.question", negatable=False)
        ingest = t.cue("false_cure.ingest", negatable=False)
        swallow = t.cue("false_cure.swallow", negatable=False)
        used = t.cue("false_cure.ingest")
        best: tuple[int, Intent] | None = None
        for r in remedies:
            entry = r.entry
            assert entry is not None
            if r.end == 0 and not (replace or plan or swallow):
                continue  # a remedy of the previous turn needs a plan in this one

            def close(cue: _Hit, r: _Hit = r) -> bool:
                return r.end == 0 or t.near(r, cue)
            if self._general(t, r) and not entry.toxic:
                continue
            sentence = t.sentence_text(r.start)
            if not entry.toxic and self._sanctioned(t, sentence):
                continue
            has_disease = (r.end == 0 and any(d.end for d in diseases)) or any(
                (d.end == 0 and r.end) or t.wide(r, d)
                for d in t.around(r, diseases, _WIDE_SENTENCES)) or (
                entry.id == "chelation_stemcell")
            near = {name: [c for c in (cues if r.end == 0 else t.around(r, cues, 1)) if close(c)]
                    for name, cues in (("replace", replace), ("claim", claim), ("plan", plan),
                                       ("question", question))}
            swallowed = any(close(c) for c in (swallow if r.end == 0 else
                                               t.around(r, swallow, 1)))
            household = t.has("household", sentence) and (
                not swallowed or t.has("water_treatment", sentence))
            ingested = swallowed or any(close(c) for c in (ingest if r.end == 0 else
                                                           t.around(r, ingest, 1)))
            evidence = t.has("evidence_question")
            # someone takes it or means to: a use cue (not negated, "not taking it on my own")
            # outside a question ("二氧化氯能喝吗" asks), or a plan (round 8)
            taken = bool(near["plan"]) or any(
                close(c) and not self._asked(t, c) for c in (
                    used if r.end == 0 else t.around(r, used, 1)))
            if entry.toxic and evidence and not (near["replace"] or taken):
                continue  # a poison asked about with doubt ("感觉不靠谱"): no one takes it
            if not entry.toxic and not near["replace"] and not near["claim"] and \
                    _found(t, _ON_ANTIBIOTIC):
                continue  # a remedy beside the antibiotic being taken ("is on amoxicillin ...
                # homeopathic drops too", dev15)
            if entry.toxic and self._past(t, r) and not near["replace"]:
                continue  # taken once, stopped since ("she used to drink MMS, we got her to stop")
            if entry.toxic and not household and (
                    has_disease or near["claim"] or ingested or (
                        near["plan"] and not t.has("recipe"))):
                # a plan to take or give a poison is enough ("la curandera me dio azarcón para
                # darle con leche", dev18): no disease needs naming; a recipe is no plan to
                # take it as a remedy ("my amaretti recipe calls for bitter apricot kernels")
                severity, why = "high", "toxic"
            elif entry.toxic:
                continue
            elif evidence and not near["replace"]:
                continue  # asking for the evidence, or doubting it: no belief voiced
            elif entry.id == "chelation_stemcell" and not near["question"]:
                severity, why = ("high" if near["replace"] or (
                    t.text[r.start:r.start + 4] == "chel" and _found(t, _AUTISM))
                    else "moderate"), "plans it"
            elif not has_disease and entry.harmful is not None and (taken or ingested) and \
                    entry.harmful.search(t.text[r.start:r.end]) and not near["question"] and \
                    not evidence and not self._past(t, r):
                severity, why = "moderate", "plans a remedy that harms by itself"
            elif not has_disease and not (self._high_sign(t) and (taken or near["replace"])):
                continue
            elif near["replace"]:
                severity, why = "high", "instead of treatment"
            elif near["plan"] and (near["claim"] or entry.id != "herbal_cure"):
                severity, why = "moderate", "plans to use it"
            elif near["claim"] and not near["question"]:
                severity, why = "moderate", "believes it cures"
            elif (near["claim"] or (near["question"] and (
                    entry.id != "herbal_cure" or near["plan"]))) and not evidence and \
                    not t.has("as_food") and taken:
                # asking what the research says is no belief voiced; a food or herb asked
                # about with no cure claimed ("苦瓜降血糖是真的吗", "can I eat more of it") neither;
                # a question with nobody taking it ("does baking soda cure cancer?") neither
                severity, why = "low", "asks whether it cures"
            else:
                continue
            if severity == "moderate" and self._high_sign(t):
                # a remedy while an emergency sign is told ("honey on the ulcer, it's turning
                # black"): the sign decides
                severity, why = "high", f"{why} with an emergency sign"
            intent = Intent(
                kind="false_cure", severity=severity, involves=entry.name,
                span=r.span if r.end else next(
                    (c.span for c in replace + plan + swallow + claim), (0, 0)),
                advice=f"{entry.message} ({entry.source})",
                how=f"{entry.id}: {why}",
            )
            rank = _RANK[severity]
            if best is None or rank > best[0]:
                best = (rank, intent)
        return best[1] if best else None

    def takes_safe_side(self, text: str) -> bool:
        """Whether a normalised later user turn is on the safe side of a plan told before:
        the writer asks how to talk the person out of it or get them seen ("how do I convince
        him to go back on them", "该怎么劝他"), defers to the clinician or tells the
        clinician's decision ("是医生昨天说的"), stays on the treatment, is seen today, or says it
        is over or the medicine is going in the bin."""
        t = _Text(text, self.knowledge)
        return any(t.has(group) for group in
                   ("dissuade", "back_to_care", "defers", "resolved", "given_up", "disposal",
                    "sanctioned"))

    def protective(self, text: str) -> bool:
        """Whether a normalised turn, on its own, is on the safe side of someone's plan and
        tells no plan of its own: it asks how to talk the person out of it or back to care,
        defers to the clinician, or takes the medicine back ("how can I explain to her why
        sharing it is a bad idea", "帮我想几条理由说服她", "a take-back box"). Narrower than
        ``takes_safe_side``, whose "it's over now" and "the doctor said" read the plan turn
        itself as safe ("we stopped it two days ago", "my doctor said ... but I'm going
        to")."""
        t = _Text(text, self.knowledge)
        hits = [(group, text[h.span[0]:h.span[1]], h.span[1])
                for group in ("dissuade", "back_to_care", "defers", "discard")
                for h in t.cue(group)]
        # Persuasion aimed at a relative or a friend, not at patients, colleagues or "someone"
        # ("convince a patient to consent without ...", MedSafetyBench's training requests),
        # and medicines thrown away, not waste regulations.
        hits = [h for h in hits if not (
            _PERSUADE.match(h[1]) and not _PERSON_CLOSE.match(text, h[2]))
            and not (h[0] == "discard" and not _MEDICINE_WORD.search(text))]
        return bool(hits) and not self.scan(text, [])

    # ------------------------------------------------------------------- answers

    def answer(self, text: str, kinds: Iterable[str]) -> Answer:
        """What a normalised answer does with plans of ``kinds``: helps with one (not negated)
        and/or states the safe path of each."""
        t = _Text(text, self.knowledge)
        kinds = [k for k in KINDS if k in set(kinds)]
        along: tuple[int, int] | None = None
        missing = []
        for kind in kinds:
            if along is None:
                hits = t.cue(f"answer.goes_along.{kind}")
                if hits:
                    along = hits[0].span
            safe = bool(t.cue(f"answer.safe_path.{kind}"))
            if not safe and kind == "care_delay":
                safe = answer_directs(self.taxonomy, text) is not None
            if not safe:
                missing.append(kind)
        return Answer(goes_along=along, missing=tuple(missing))
