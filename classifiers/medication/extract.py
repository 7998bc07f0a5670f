"""What a conversation says about medicines: drug mentions, doses and the patient's facts.

Everything here is rules over the knowledge base (``kb.py``), chosen over a model because each
decision must be explainable with a source, and because it runs in well under a millisecond.

- ``DrugMatcher.find(text)``: drug mentions normalised to generic ids (generic names, brands,
  misspellings in the KB, one-edit typos of long names, Chinese names, combination products
  such as Percocet expanded to their components, and class words such as "blood thinner").
- ``find_doses(text, mentions)``: amounts with units (mg, mcg/µg, g, units, tablets of a known
  strength), frequency (every 4 h, q6h, bid, 3 times a day, weekly, 每天3次), each tied to the
  nearest drug in its sentence, giving a single and a daily amount in the drug's unit.
- ``find_facts(text)``: age, weight, pregnancy (and week), breastfeeding, kidney function
  (eGFR/CrCl or stage words), liver disease, allergies; negated statements are dropped
  ("not pregnant", "no kidney problems").

Mentions carry a ``current`` flag: "I stopped warfarin last year", "allergic to penicillin"
and "instead of ibuprofen" name a drug the person is not taking.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from classifiers.medication.kb import DrugKB, Product, to_mg

__all__ = [
    "ZH_DONT",
    "Dose",
    "DrugMatcher",
    "Facts",
    "Mention",
    "ReleaseUse",
    "find_doses",
    "find_facts",
    "find_release",
    "is_extended_release",
    "sentences",
]

_CJK = re.compile(r"[\u4e00-\u9fff]")
ZH_DONT = r"别(?!嘌)"
"""Chinese 别 "don't" in a negation or a caution, and not the first character of 别嘌醇
(allopurinol), which would otherwise negate or caution every sentence naming it."""
_TOKEN = re.compile(r"[a-z0-9\u00c0-\u024f]+(?:['\-][a-z0-9\u00c0-\u024f]+)*")


_THOUSANDS_DOT = re.compile(r"(?<![\d.,])([1-9]\d{0,2})\.(\d{3})(?=(?:\.\d{3})*\s*"
                            r"(?:ui|iu|unidades|units?)\b)")
"""A thousands dot before international units ("50.000 UI", the Spanish way of writing
50,000 IU): read as a thousands comma. Only before units, so "0.125 mg" is untouched."""


def _norm(text: str) -> str:
    out = (text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00b5", "\u03bc")
           .casefold())
    return _THOUSANDS_DOT.sub(r"\1,\2", out) if "." in out else out


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence (and line) in ``text``."""
    out: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"[.!?;。！？；\n]+(?=\s|$|[^\d])", text):
        end = m.end()
        if text[start:end].strip():
            out.append((start, end))
        start = end
    if text[start:].strip():
        out.append((start, len(text)))
    return out


@dataclass(frozen=True, slots=True)
class Mention:
    drug: str
    """Generic id in the KB."""
    span: tuple[int, int]
    via: str = "name"
    """name | typo | product | class"""
    current: bool = True
    """False when the text says the person does not take it (stopped, allergic, instead of)."""
    product: Product | None = None
    strength_mg: float | None = None
    """Per-unit strength from a fixed-strength product (Extra Strength Tylenol: 500 mg)."""
    conc_mg_per_ml: float | None = None
    """A liquid product's standard concentration (Children's Motrin: 20 mg/mL)."""
    klass: str | None = None
    """For class words ('blood thinner'): the class; ``drug`` is then empty."""
    local: bool = False
    """Eye or ear drops, a cream, a nasal spray: not counted for combinations (``current`` is
    False), but a dose stated for it is still checked."""
    whose: str = "unknown"
    """'self', 'other' (someone else's: "my husband takes finasteride") or 'unknown'."""
    replaced: bool = False
    """Switched away from ("switched me to enoxaparin" after warfarin): not current, but a
    combination that needs a washout between the two still applies."""
    stopped_days: float | None = None
    """Not current, stopped this many days ago ("fluoxetine 40 mg stopped 2 wk ago")."""


_LAY_REACTION = (r"(?:(?:really |very )?(?:bad|severe|serious|terrible|awful|horrible|nasty) "
                 r"(?:allergic )?reaction|(?:throat|tongue|lips?|face|mouth|eyes?) (?:closed|"
                 r"closing|swelled|swelling|swole|swollen|blew|puffed)(?: up)?|broke out in "
                 r"(?:hives|a rash|welts)|(?:couldn'?t|could not|can'?t) breathe|went into "
                 r"(?:anaphylaxis|anaphylactic shock))")
"""An allergic reaction in lay words, before the medicine that caused it ("my throat closed up
after Bactrim", "bad reaction to penicillin"): the allergen, not a medicine taken now."""

# Words before a drug that say the person is not taking it now (ConText-style, same clause).
_NOT_CURRENT = re.compile(
    r"\b(?:stopped|quit|quitting|used to|no longer|not on|not taking|don't take|do not take|"
    r"d/c'?d|d/c|dc'd|"
    r"never taken|never take|never took|came off|come off|off of|discontinued|weaned off|"
    r"allergic to|allergy to|allergies to|anaphylaxis to|anaphylactic reaction to|"
    r"hypersensitivity to|instead of|rather than|"
    # "antecedente de SJS con carbamazepina", "una anafilaxia con cefuroxima (Zinnat)"
    r"(?:sjs|stevens[- ]johnson|anafilaxia|shock anafil[aá]ctico|angioedema|urticaria|"
    r"reacci[oó]n al[eé]rgica)(?:\s+\w+){0,3}?\s+(?:con|a|al|por|tras)|"
    r"(?:switch|chang|mov|transition|convert)\w*\b[^.;!?]{0,20}\b(?:off|from)|"
    r"took (?:me |him |her )?off|years ago|last year|threw (?:out|away)|thrown (?:out|away)|"
    r"(?:didn'?t|did not|wouldn'?t|would not) (?:give|prescribe|use|start)|decided against|"
    r"(?:was|were) going to (?:give|prescribe|start|put)|was on|were on|had been on|"
    r"got rid of|tossed|binned|"
    r"took (?:my|his|her|the) (?:very )?last(?: dose of| pill of| one of)?|"
    r"in (?:19|20)\d\d)\b(?:(?!\b(?:prescribed|gave|given|sent|put (?:me|him|her) on|now|"
    # "a transplant 10 years ago and take Neoral": taken now
    r"and (?:i |he |she )?(?:take|takes|am on|'m on|is on))\b)"
    r"[^.;!?。，,]){0,40}$"
    r"|\b(?:dej[eé] de(?: tomar| usar)?|termin[eé](?: de tomar| el tratamiento con)?|"
    r"ya no (?:tomo|uso|toma)|en (?:lugar|vez) de|"
    r"(?:le |me )?(?:ha |han )?(?:quitado|retirado|suspendido)(?: poco a poco)?|"
    r"al[eé]rgic[oa]s? al?|alergias? al?|"
    # "sabiendo lo del ciprofloxacino", "knowing about the cipro": the allergy known, not a drug
    r"sabiendo\s+lo\s+del?|\bknowing about(?:\s+(?:my|the|his|her))?)"
    r"(?: la| el| los| las| mi)?\s*$"
    r"|\b(?:the|my|his|her|your|their|that|an?) (?:old|previous|former|past|last)\s*$"
    r"|\b(?:allerg(?:y|ies)|alergias?)\s*(?:list\s*)?[:\-][^.;!?\n]{0,50}$|过敏史\s*[:：][^。；;]{0,30}$"
    r"|\blast (?:dose|pill|tablet|capsule|shot)s? of\s*$"
    # "I finished my Accutane course": right before the name ("finished my dinner and took
    # 2 Tylenol" is not)
    r"|\b(?:finished|completed)(?: (?:my|the|a|her|his|your))?(?: (?:course|round) of)?\s*$"
    r"|\b(?:to|will|going to|gonna|plan to|planning to|told me to|said to) (?:stop|hold|pause)\s+"
    r"(?:my |the |his |her |taking )?$"
    r"|\b(?:sjs|stevens[- ]johnson(?: syndrome)?|anaphylaxis|anaphylactic reaction|reaction|"
    r"rash|hives|angioedema|cough) (?:with|to|from|after|on)\s*$"
    rf"|\b{_LAY_REACTION} (?:with|to|from|after|on)\s*$"
    r"|\b(?:no|not(?! sure)|avoid|avoiding|without|never|don't|can't|cannot|shouldn't|must not|"
    r"should not)\s+(?:\w+\s+){0,2}$"
    # the rest of a list under the negation ("said no tylenol pm or benadryl", "nada de
    # Enantyum ni ibuprofeno")
    r"|\b(?:no|not|avoid|without|never|nada de|sin)\s+(?:[\w-]+\s+){1,3}(?:or|nor|ni|o)\s+$"
    r"|\bnada de\s+(?:\w+\s+){0,1}$"
    # "the last time she had Keflex (cephalexin)": the medicine a past reaction followed
    r"|\b(?:the last time|last time)\s+(?:she|he|i|they|we)\s+(?:had|took|was given|got|used)\s+"
    r"(?:[\w()]+\s*){0,2}$"
    # a medicine named as the one warned about or compared with ("my pharmacist warned me
    # about Cipro", "会不会像卡马西平那样")
    r"|\b(?:warned|warning|cautioned) (?:me |him |her |us )?(?:about|against|not to take)\s+"
    r"(?:the |taking |using )?$|\b(?:unlike|other than)\s+$|像$"
    r"|(?:停用|停了|已经停|已停|停药|不再|过敏|以前吃(?!剩)|年前|而不是|而非|代替|(?<!能)不能|"
    r"(?<!要)不要|(?<!可)不可以|禁用|" + ZH_DONT + r"|停掉|"
    r"把我的)[^。，,]{0,6}$"
    r"|(?:不用|没用|没有用|不吃|没吃|没有吃|没开|没有开|没给开|没给我开|不开)\s*(?:任何|什么)?\s*$"
)
_THIRD = (r"(?:my|our) (?:husband|wife|partner|boyfriend|girlfriend|spouse|mother-in-law|"
          r"father-in-law|mom|mum|mother|dad|father|grandma|grandmother|grandpa|grandfather|"
          r"grandad|granddad|son|daughter|brother|sister|friend|neighbou?r|roommate|coworker|"
          r"colleague|aunt|uncle)|\bhe\b|\bshe\b|\bmi (?:marido|esposo|esposa|madre|padre)")
_TAKING = (r"(?:takes|took|is on|was on|has been on|is taking|uses|"
           r"(?:was|is|has been|got|gets) (?:just |recently |newly )?prescribed|got|gets|"
           r"was given|has|toma|tomaba)")
_OTHER_BEFORE = re.compile(
    rf"(?:\b{_THIRD})\b[^.;!?]{{0,30}}?\b{_TAKING}\b[^.;!?]{{0,40}}$"
    r"|\b(?:his|her|their) (?:own )?(?:\w+ )?$"
    rf"|\b(?:can|could|should|may|is it (?:ok|okay|safe) for|is it (?:ok|okay|safe) if)\s+"
    rf"(?:{_THIRD})\s+(?:\w+\s+)?(?:take|use|have|keep taking)\b[^.;!?]{{0,40}}$"
    r"|(?:老公|丈夫|妻子|老婆|爱人|婆婆|公公|岳母|妈妈|母亲|爸爸|父亲)[^。，,]{0,6}(?:在)?(?:吃|服|用)[^。，,]{0,10}$")
_OTHER_AFTER = re.compile(r"^[^.;!?]{0,30}\b(?:for (?:him|her|them)|his|her)\b|"
                          r"^[^。]{0,10}给(?:他|她)")
_SELF_TAKING_OTHERS = re.compile(
    r"\b(?:i|i've|i'm|i have|i am|i've been)\b[^.;!?]{0,20}\b(?:taking|take|took|using|used|"
    r"borrowed|had|tried)\s+(?:some of\s+|one of\s+)?(?:his|her|their)\s+(?:\w+\s+)?$"
    r"|\b(?:gave|give|gives|handed|lent|sold|shared|passed)\s+me\s+(?:some|a few|one|a couple|"
    r"two|three|several|a handful)?\s*(?:of\s+)?(?:his|her|their)\s+(?:\w+\s+)?$"
    r"|\bme (?:dio|dieron|pas[oó]|prest[oó]|regal[oó])\s+(?:(?:unas?|algunas?|un par)\s+)?"
    r"(?:de\s+)?(?:su|sus)\s+(?:\w+\s+)?$"
    # "my daughter got me into drinking grapefruit juice": taken by me
    r"|\b(?:got|gets|get|has|had|put|started)\s+me\s+(?:into|on(?:to)?|started on)\s+"
    r"(?:\w+ing\s+)?(?:\w+\s+){0,6}$")
_SELF_BEFORE = re.compile(
    r"\b(?:i|i'm|im|i've|i'd)\b[^.;!?]{0,30}$|\bmy own\b[^.;!?]{0,20}$|我[^。，,]{0,8}$"
    r"|\b(?:yo|me (?:han |ha )?(?:recetado|mandado|dado|puesto)|me recetaron|tomo|estoy tomando)"
    r"\b[^.;!?]{0,30}$")
_SENTENCE_START = re.compile(r"[.!?。！？;；\n]")
_SELF_SUBJECT = re.compile(r"\b(?:i|i'm|im|i've|i'd|yo)\b|我(?!们)")


def _whose(before: str, after: str) -> str:
    """'other' (someone else's medicine: "my husband takes X", "her Xanax", "X for him"),
    'self' ("I take X") or 'unknown', from the mention's sentence."""
    start = 0
    for m in _SENTENCE_START.finditer(before):
        start = m.end()
    sentence = before[start:]
    end = _SENTENCE_START.search(after)
    tail = after[:end.start()] if end else after
    if _SELF_TAKING_OTHERS.search(sentence):
        return "self"  # "I've been taking his Tylenol 3"
    third = [m.end() for m in re.finditer(_THIRD, sentence)]
    me = [m.end() for m in _SELF_SUBJECT.finditer(sentence)]
    if third and me and me[-1] > third[-1] and not re.search(
            r"\b(?:his|her|their|him|them)\b", sentence[me[-1]:]):
        return "self"  # "my husband takes warfarin and I take ibuprofen"
    if _OTHER_BEFORE.search(sentence) or _OTHER_AFTER.search(tail):
        return "other"
    if _SELF_BEFORE.search(sentence):
        return "self"
    return "unknown"


_NOW = re.compile(r"\b(?:now|currently|still|again|these days|at the moment|today|started|"
                  r"(?:i'm|im|i am|she's|he's|is) on|"
                  r"restarted|back on)\b|现在|目前|还在|又")
_AFTER_NOT_CURRENT = re.compile(
    r"^\W{0,3}(?:allergy|allergies|allergic|过敏|was stopped|"
    r"(?<=^-)free\b|"
    r"(?:后|之后)?[^。，,；]{0,3}(?:过敏|休克|荨麻疹|起疹|喉头水肿)|"
    r"(?:(?<=^ )|(?<=[—–:\-] ))(?:anaphylaxis|anaphylactic|hypersensitivity|intolerance)\b|"
    r"were stopped|is stopped|"
    r"(?:now |since |was |were )?(?:stopped|discontinued|held|off|d/c'?d|dc'd)(?=\W|$)|"
    r"(?:\w+ ){0,3}(?:\d+|one|two|three|four|five|six|a few|several)(?: and a half)? "
    r"(?:days?|weeks?|wks?|months?|mos?|"
    r"years?) ago|"
    # "me tomé un solo Nolotil hace tres días" (not "desde hace 3 años": taken since then)
    r"(?:\w+ ){0,3}(?<!desde )hace (?:\d+|un|una|unos|unas|dos|tres|cuatro|cinco|seis|varios|"
    r"varias) (?:d[ií]as|semanas|meses|a[ñn]os)\b|"
    r"(?:was |were )?(?:stopped|discontinued|held) \d|(?:\w+ ){0,2}was stopped|"
    # "enoxaparin 40 mg SC daily was declined": an order not given
    r"(?:[\w.]+ ){0,5}(?:was|were) (?:declined|refused|not (?:given|started|ordered))\b|"
    r"(?:[\w\-/]+[ ,]+){0,4}(?:(?:and |then )?(?:was |were |got |been )?(?:switched|changed|"
    r"swapped) (?:over )?to)\b|"
    # ("... febuxostat since allopurinol caused rash": the other drug's reaction)
    r"(?!(?:\w+ )?(?:since|because|as|after|when|while)\b)"
    r"(?:\w+ ){0,2}(?:gave|gives|give|caused|causes|triggered) (?:me |him |her |them )?(?:a |an )?"
    r"(?:bad |severe |terrible |horrible |awful |dry |constant )?(?:rash|hives|anaphylaxis|"
    r"angioedema|reaction|swelling|cough|headaches?|nausea|diarrh?o?ea|dizziness|side effects|"
    r"muscle (?:pain|aches?)|leg cramps)|"
    # "aspirin makes my asthma go crazy": the trigger of a reaction, not a medicine taken
    r"(?:makes?|made|sets? off|set off|brings? on|brought on|triggers?|triggered) (?:my |his |"
    r"her |me |him )?(?:asthma|wheez\w*)|"
    r"(?:\w+ )?dose (?:was |taken )?\d+ ?(?:h|hrs?|hours?|days?) ago|"
    r"(?:\d+ \w+ |\w+ )?dose (?:was|is) (?:on |last )?(?:monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|yesterday|\d+ ?h)|停了|停用|"
    r"停掉|换成|"
    # "开了甲硝唑，两个星期前就吃完了"
    r"[^。；;.!?]{0,12}?(?:就|已经)?(?:吃完了|用完了|服完了|打完了))"
    # "...，到今天已经停药两周了": stopped weeks or months ago
    r"|^[^。；;.!?]{0,12}?停(?:药|用)?了?\s*(?:两|三|四|五|六|七|八|九|十|几|半|\d+)\s*(?:周|个?月|年|个?星期)"
    # "辛伐他汀 40mg qn，根除期间暂停": paused for the course
    r"|^[^。；;.!?]{0,20}?(?:期间|时|疗程中)暂停"
    r"|^\s*(?:也)?(?:不行|不能用|不建议用?)(?![^。，,；]{0,8}(?:吗|？|\?))"
    # named as a medicine ruled out ("Paxlovid not appropriate", "tramadol are a no-go",
    # "hydroxyzine can mess with heart rhythm", "像卡马西平那样")
    r"|^\W{0,3}(?:\([^)]{0,30}\)\s*)?(?:is |are |was )?(?:not appropriate|not suitable|"
    r"inappropriate|(?:is |are )?(?:a )?no[- ]go|ruled out|off the table|off limits|"
    r"not an option|can (?:mess|interfere) with|(?:can|could|may) (?:cause|prolong|raise|"
    r"affect) (?:\w+ ){0,3}(?:heart rhythm|qt|serotonin))\b|^(?:那样|一样|那种)"
    # a list, or an age, before the prohibition ("秋水仙碱和布洛芬都不能用",
    # "尼美舒利12岁以下不能吃")
    r"|^[^。，,；.;]{0,8}?(?:都|也)?(?:不能(?:用|吃)|不可以(?:用|吃)|禁用)(?![^。，,；]{0,8}(?:吗|？|\?))"
    r"|^[^.;!?]{0,30}?\b(?:stopped|quit|discontinued|came off|went off) (?:it|them|taking it)\b"
    r"(?![^.;!?]{0,20}\b(?:but|and) (?:restarted|started again|went back))", re.I)
_FINISHED_AFTER = re.compile(
    r"^[^.;!?]{0,45}?\b(?:but|and)\s+(?:\w+\s+)?(?:finished|completed|stopped|quit|came off|"
    r"went off)\s+(?:that|it|them|taking it)\b(?![^.;!?]{0,20}\b(?:but|and) (?:restarted|"
    r"started again|went back))"
    # "celexa 20 for years and the psychiatrist told me to stop it ..., which i did"
    r"|^[^.;!?]{0,50}?\b(?:told|asked|advised)\s+(?:me|him|her|us)\s+to\s+stop\s+(?:it|them|"
    r"taking it)\b(?=[^.;!?]{0,50}\b(?:which i did|and i did|so i did|i stopped it)\b)")
"""'he was on xarelto last year for a clot but finished that in march': not taken now."""
_STOP_NOW_BEFORE = re.compile(
    r"(?:^|[:;,.]\s*|\bplan\s*[:\-]?\s*|\b(?:then|and|will|to)\s+)(?:stop|d/c|dc|discontinue|hold)\s+"
    r"(?:the\s+|his\s+|her\s+|my\s+)?$|(?:停用?|停掉)\s*$|\bsuspender\s+(?:el\s+|la\s+)?$")
_START_AFTER = re.compile(r"^[^.;!?。；]{0,45}?\b(?:start\w*|begin\w*|switch\w*\s+to|bridge\w*|"
                          r"change\w*\s+to|iniciar|empezar)\b|^[^。；;.!?]{0,20}?(?:改用|换成|改成|开始用)")
"""A stop and a start in one plan ("stop warfarin today, start enoxaparin")."""
_SWITCHED_BEFORE = re.compile(r"\b(?:switched|changed|swapped|replaced)\s+(?:the\s+|my\s+|his\s+|"
                              r"her\s+)?$|\bcambi[oóé]\s+(?:el|la|los|las|mi|mis)\s+$")
_SWITCHED_AFTER = re.compile(r"^\s*(?:to|for|with|por)\s+\w")
"""'switched the omeprazole to pantoprazole': the first drug is replaced, not taken."""
_SWITCHED_TO = re.compile(
    r"\b(?:switch(?:ed)?|chang(?:ed|e)|mov(?:ed|e)|transition(?:ed)?|convert(?:ed)?|put)\s+"
    r"(?:me|him|her|them|us|my \w+)?\s*(?:over\s+)?to\s+(?:the\s+|a\s+)?(?:\w+\s+)?$|"
    r"(?:换成|改为|改用|换用|转为|改成)\s*$|"
    r"\b(?:me |le )?(?:cambiaron|cambi[oó]|pasaron|pas[oó])\s+(?:a|por)\s+(?:la |el )?$")
"""Right before a medicine that now replaces one named earlier ("switched me to", 换成)."""
_KEPT_TAKING = re.compile(
    r"^[^.;!?]{0,50}\bbut (?:i|i've|i have|she|he)\s+(?:kept|still|continued|carried on|have been|"
    r"am still|'m still|'ve been)\b|"
    r"^[^.;!?]{0,50}\b(?:and|but) (?:\w+ )?(?:still|is still|'s still) "
    r"(?:takes?|taking|on|uses?)\b")
"""'my doctor said to stop lipitor but I kept taking it': still taken."""
_STILL_BEFORE = re.compile(r"\b(?:still|keep|continue|also)\b[^.;!?]{0,25}$")
_DRINK_NOT_ALCOHOL = re.compile(
    r"^\s*(?:(?:plenty|lots|a lot|more|enough)\b|(?:of )?(?:water|fluids?|juice|milk|tea|coffee|"
    r"it|them|this|the (?:medicine|syrup|solution|liquid))\b)")
_DRINK_NOT_ALCOHOL_BEFORE = re.compile(r"\b(?:energy|sports?|soft|fizzy|protein|electrolyte)\s*$")
_LOCAL_USE = re.compile(
    r"^(?:\s*(?:and|\+|/|,)?\s*[a-z0-9%.\-]+){0,3}?\s*(?:otic|ophthalmic|eye ?drops?|ear ?drops?|"
    r"eye ointment|cream|ointment|lotion|topical|mouthwash|shampoo|vaginal cream|nasal spray)\b|"
    r"^\s*(?:滴眼液|滴耳液|眼膏|软膏|乳膏|外用)")
_DRINKING = re.compile(r"\b(?:drink\w*|drank|beers?|wine|glass(?:es)? of|booze|"
                       r"liquor|vodka|whiske?y|alcoholic|hungover|hangover|champagne|prosecco)\b|喝酒|饮酒|喝了|酗酒|敬酒|"
                       r"喝[^。，,？?]{0,3}酒|(?:喝|来|干)[一两几]?[杯瓶口]")
_NO_DRINKING = re.compile(r"\b(?:don't|do not|never|no longer|doesn't|not)\s+(?:\w+\s+)?drink\b|"
                          r"\bno alcohol\b|\bsober\b|不喝酒|不饮酒|戒酒|"
                          # in withdrawal: not drinking now ("alcohol withdrawal, last drink
                          # 36h ago")
                          r"\balcohol(?:ic)? withdrawal\b|\bwithdrawing from alcohol\b|"
                          r"\blast drink\b[^.;]{0,20}\bago\b|酒精戒断|戒断")


_NAME_GAP = re.compile(r"[,;:.!?()\[\]\n]")
"""Punctuation between two words that cannot both belong to one name."""


class DrugMatcher:
    """Finds drug mentions. Build once per KB (a few ms); ``find`` is pure and thread-safe."""

    def __init__(self, kb: DrugKB) -> None:
        self.kb = kb
        self._latin: dict[tuple[str, ...], tuple[str, str, Product | None]] = {}
        self._upper_only: set[tuple[str, ...]] = set()
        self._cjk: list[tuple[str, str, str, Product | None]] = []
        self._cjk_sorted: list[tuple[str, str, str, Product | None]] | None = None
        self._max_n = 1
        for drug in kb.drugs.values():
            for name in drug.all_names():
                self._add(name, drug.id, "name", None)
        for product in kb.products:
            for name in [*product.names, *product.zh]:
                self._add(name, product.components[0].drug, "product", product)
        for klass in kb.classes.values():
            for word in klass.words:
                self._add(word, "", f"class:{klass.id}", None, overwrite=False)
        # One-edit typos of long single-word names (symmetric delete index; the first two
        # letters must agree, as they do in nearly all real misspellings of drug names).
        self._deletes: dict[str, set[tuple[str, str]]] = {}
        for key, (drug_id, via, _) in self._latin.items():
            if len(key) == 1 and len(key[0]) >= 8 and via == "name":
                word = key[0]
                for variant in {word, *(word[:i] + word[i + 1:] for i in range(2, len(word)))}:
                    self._deletes.setdefault(variant, set()).add((word, drug_id))
        self._longest_delete = max(map(len, self._deletes), default=0)

    def _add(self, name: str, drug: str, via: str, product: Product | None,
             overwrite: bool = True) -> None:
        if _CJK.search(name):
            self._cjk.append((name, drug, via, product))
            self._cjk_sorted = None
            return
        key = tuple(_TOKEN.findall(_norm(name)))
        if not key or (not overwrite and key in self._latin):
            return
        self._latin[key] = (drug, via, product)
        self._max_n = max(self._max_n, len(key))
        if len(name) <= 4 and name.isupper():
            self._upper_only.add(key)

    def find(self, text: str) -> list[Mention]:
        norm = _norm(text)
        tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(norm)]
        found: list[Mention] = []
        i = 0
        while i < len(tokens):
            hit = None
            for n in range(min(self._max_n, len(tokens) - i), 0, -1):
                key = tuple(t for t, _, _ in tokens[i:i + n])
                entry = self._latin.get(key)
                if entry is None:
                    continue
                start, end = tokens[i][1], tokens[i + n - 1][2]
                if key in self._upper_only and not text[start:end].isupper():
                    continue
                if n > 1 and any(_NAME_GAP.search(norm[tokens[k][2]:tokens[k + 1][1]])
                                 and not (tokens[k][0] == "st"
                                          and norm[tokens[k][2]:tokens[k + 1][1]] == ". ")
                                 for k in range(i, i + n - 1)):
                    continue  # "tylenol, 3 times a day" is not "Tylenol 3"
                hit = (entry, start, end, n)
                break
            if hit is None:
                plural = self._plural(tokens[i][0])
                if plural is not None:
                    hit = (plural, tokens[i][1], tokens[i][2], 1)
            if hit is None and "-" in tokens[i][0]:
                # "acetaminophen-codeine liquid", "amlodipine-benazepril": a hyphenated
                # combination, when every part is a medicine's name ("aspirin-free" is not)
                parts: list[tuple[tuple[str, str, Product | None], tuple[int, int]]] = []
                at = tokens[i][1]
                for part in tokens[i][0].split("-"):
                    entry = self._latin.get((part,))
                    if entry is None or entry[1] not in ("name", "product"):
                        parts = []
                        break
                    parts.append((entry, (at, at + len(part))))
                    at += len(part) + 1
                if len(parts) > 1:
                    for (drug, via, product), span in parts:
                        found.extend(self._mentions(drug, via, product, span))
                    i += 1
                    continue
            if hit is None:
                word = tokens[i][0]
                typo = self._typo(word) if len(word) >= 8 and word not in _NOT_TYPOS else None
                if typo is not None:
                    found.append(Mention(typo, (tokens[i][1], tokens[i][2]), "typo"))
                i += 1
                continue
            (drug, via, product), start, end, n = hit
            found.extend(self._mentions(drug, via, product, (start, end)))
            i += n
        if _CJK.search(text):
            # the characters already named (a list of the spans, searched for every name,
            # was quadratic in the number of names in the text)
            taken = bytearray(len(text))
            # Longest names first; plain substring search (a regex per name went through
            # re's compile cache, which hundreds of names overflow: ~12 ms a message).
            for name, drug, via, product in self._cjk_longest_first():
                at = text.find(name)
                while at != -1:
                    span = (at, at + len(name))
                    if not any(taken[span[0]:span[1]]):
                        taken[span[0]:span[1]] = b"\x01" * len(name)
                        found.extend(self._mentions(drug, via, product, span))
                    at = text.find(name, span[1])
        found.sort(key=lambda m: m.span)
        return self._switched([self._context(text, m) for m in found], norm)

    def _switched(self, found: list[Mention], norm: str) -> list[Mention]:
        """"I've been on warfarin ... my hematologist switched me to enoxaparin": a medicine
        switched to replaces the earlier-named one of the same class, even far before it
        (``norm``: the normalised text)."""
        out = list(found)
        for k, m in enumerate(found):
            if not m.drug or not m.current or not _SWITCHED_TO.search(
                    norm[max(0, m.span[0] - 40):m.span[0]]):
                continue
            classes = self.kb.classes_of(m.drug)
            for j in range(k):
                x = out[j]
                if x.drug and x.drug != m.drug and x.current and x.span[0] < m.span[0] and (
                        classes & self.kb.classes_of(
                        x.drug)) and not _STILL_BEFORE.search(norm[max(0, x.span[0] - 30):
                                                                   x.span[0]]):
                    # (not another component of the same product: Triumeq's abacavir)
                    out[j] = replace(x, current=False, replaced=True)
        return out

    def _plural(self, word: str) -> tuple[str, str, Product | None] | None:
        """A plural or possessive of a one-word name ("five of the Tylenols", "Zyrtec's",
        "two Xanaxes"): the name it stands for."""
        for suffix in ("'s", "es", "s"):
            stem = word[:-len(suffix)]
            if not word.endswith(suffix) or len(stem) < 5:
                continue
            entry = self._latin.get((stem,))
            if entry is not None and entry[1] in ("name", "product") and (
                    (stem,) not in self._upper_only):
                return entry
        return None

    def _cjk_longest_first(self) -> list[tuple[str, str, str, Product | None]]:
        if self._cjk_sorted is None:
            self._cjk_sorted = sorted(self._cjk, key=lambda e: -len(e[0]))
        return self._cjk_sorted

    def _mentions(self, drug: str, via: str, product: Product | None,
                  span: tuple[int, int]) -> list[Mention]:
        if via.startswith("class:"):
            return [Mention("", span, "class", klass=via[6:])]
        if product is None:
            return [Mention(drug, span, via)]
        out = []
        for comp in product.components:
            strength = to_mg(comp.amount, comp.unit) if comp.amount is not None else None
            if product.volume_ml is not None:  # a liquid: mg per mL, not per tablet
                conc = strength / product.volume_ml if strength is not None else None
                out.append(Mention(comp.drug, span, "product", product=product,
                                   conc_mg_per_ml=conc))
                continue
            out.append(Mention(comp.drug, span, "product", product=product,
                               strength_mg=strength))
        return out

    def _typo(self, word: str) -> str | None:
        if len(word) > self._longest_delete + 1:
            # no name is one edit away (the deletions below of a very long word, each a new
            # string, were quadratic in its length)
            return None
        candidates: set[tuple[str, str]] = set(self._deletes.get(word, ()))
        for i in range(2, len(word)):
            candidates |= self._deletes.get(word[:i] + word[i + 1:], set())
        drugs = {drug for name, drug in candidates if _one_edit(word, name)}
        return next(iter(drugs)) if len(drugs) == 1 else None

    @staticmethod
    def _context(text: str, m: Mention) -> Mention:
        m = replace(m, whose=_whose(_norm(text[max(0, m.span[0] - 120):m.span[0]]),
                                    _norm(text[m.span[1]:m.span[1] + 40])))
        before = re.sub(r"(?<=\d),(?=\d{3})", "", _norm(text[max(0, m.span[0] - 60):m.span[0]]))
        after = _norm(text[m.span[1]:m.span[1] + 30])
        if _STOP_NOW_BEFORE.search(before) and _START_AFTER.search(
                _norm(text[m.span[1]:m.span[1] + 60])):
            # "plan: stop warfarin today, start enoxaparin": switched from, as in a switch
            return replace(m, current=False, replaced=True)
        stop = _NOT_CURRENT.search(before)
        if stop is not None and _NOW.search(before[stop.start():]):
            stop = None  # "finished chemo last year and now I'm on tamoxifen"
        if stop is not None and (_KEPT_TAKING.search(_norm(text[m.span[1]:m.span[1] + 80])) or (
                re.search(r"\b(?:old|previous|former)\s*$", stop.group())
                and _STILL_BEFORE.search(before[:stop.start()]))):
            stop = None  # "... but I kept taking it", "can I still take my old lisinopril too?"
        if stop is not None or _AFTER_NOT_CURRENT.search(after) or _FINISHED_AFTER.search(
                _norm(text[m.span[1]:m.span[1] + 130])) or (
                _SWITCHED_BEFORE.search(before) and _SWITCHED_AFTER.match(after)):
            return replace(m, current=False, stopped_days=_stopped_days(
                _norm(text[m.span[1]:m.span[1] + 60]), before))
        if _LOCAL_USE.search(_norm(text[m.span[1]:m.span[1] + 60])):
            # ear and eye drops, creams: not the systemic exposure that interactions and
            # contraindications are about
            return replace(m, current=False, local=True)
        if m.drug == "ethanol" or m.klass == "alcohol":
            # "alcohol" is a drink only when someone drinks it (not "alcohol swabs",
            # "naltrexone for alcohol", "I don't drink")
            norm = _norm(text)
            if not _DRINKING.search(norm) or _NO_DRINKING.search(norm):
                return replace(m, current=False)
            if norm[m.span[0]:m.span[1]].startswith("drink") and (
                    _DRINK_NOT_ALCOHOL.match(after) or _DRINK_NOT_ALCOHOL_BEFORE.search(before)):
                return replace(m, current=False)  # "drink plenty of water", "energy drinks"
        return m


_STOPPED_AGO = re.compile(
    r"(?P<n>\d{1,3}(?:\.\d)?|one|two|three|four|five|six|seven|eight|nine|ten|a|a few|"
    r"a couple of)\s*(?P<u>days?|d|weeks?|wks?|wk|w|months?|mos?)\s+ago\b"
    r"|停(?:药|用)?了?\s*(?P<zn>\d{1,3}|[一两二三四五六七八九十]+)\s*(?P<zu>天|周|个?星期|个?月)"
    r"|hace\s+(?P<en>\d{1,3}|un[oa]?|dos|tres|cuatro|cinco|seis)\s+(?P<eu>d[ií]as?|semanas?|mes(?:es)?)"
    # "停了氟西汀两周": the time right after the name
    r"|^\s*(?:已经|才)?(?P<zn2>\d{1,3}|[一两二三四五六七八九十]+)\s*(?P<zu2>天|周|个?星期|个?月)")
_FEW = {"a": 1.0, "a few": 3.0, "a couple of": 2.0, "un": 1.0, "uno": 1.0, "una": 1.0, "dos": 2.0,
        "tres": 3.0, "cuatro": 4.0, "cinco": 5.0, "seis": 6.0}


def _unit_days(unit: str) -> float:
    if unit.startswith(("mo", "mes", "月", "个月")):
        return 30.0
    if unit.startswith(("w", "se", "周", "星", "个星")):
        return 7.0
    return 1.0


_STOPPED_RECENTLY = re.compile(
    r"\b(?:yesterday|last night|ayer|anoche)\b|昨天|昨晚|(?P<today>\b(?:this morning|earlier today|"
    r"today|esta mañana|hoy)\b|今天|今早)")


def _stopped_days(after: str, before: str) -> float | None:
    """Days since the medicine was stopped, when the text says ("stopped 2 wk ago", "停药两周",
    "la dejé hace 10 días"): its clause after the name, else the words before it."""
    for window in (after, before[-40:]):
        m = _STOPPED_AGO.search(window)
        if m is None:
            recent = _STOPPED_RECENTLY.search(window)
            if recent is not None:  # "took my last Nardil yesterday morning"
                return 0.0 if recent.group("today") else 1.0
            continue
        raw = m.group("n") or m.group("zn") or m.group("en") or m.group("zn2")
        unit = m.group("u") or m.group("zu") or m.group("eu") or m.group("zu2")
        number = _FEW.get(raw)
        return (number if number is not None else _to_number(raw)) * _unit_days(unit)
    return None


def _one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours apart ("reaction" is two
    edits from "Reactine")."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:] or (a[i:i + 2] == b[i:i + 2][::-1] and a[i + 2:] == b[i + 2:])
    return a[i + 1:] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1:]


# Common words one edit away from a long drug name.
_NOT_TYPOS = frozenset({"aspiring", "insulins", "antacids", "steroids"})

# ---------------------------------------------------------------------------- doses

_NUM_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "half": 0.5, "a couple of": 2, "couple": 2, "several": 3, "both": 2,
    "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    "十": 10, "半": 0.5, "couple of": 2, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6,
}
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+,\d{1,2}(?!\d)|\d+(?:\.\d+)?|\.\d+)"
_UNIT_MAP = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "mgs": "mg", "毫克": "mg",
    "mcg": "mcg", "μg": "mcg", "ug": "mcg", "microgram": "mcg", "micrograms": "mcg",
    "微克": "mcg", "g": "g", "gm": "g", "gram": "g", "grams": "g", "gr": "g", "克": "g",
    "unit": "units", "units": "units", "iu": "units", "u": "units", "单位": "units",
    "ui": "units", "unidades": "units",
    "meq": "mEq", "mmol": "mmol", "gramo": "g", "gramos": "g", "miligramo": "mg",
    "miligramos": "mg", "microgramo": "mcg", "microgramos": "mcg",
}
_COUNT_UNITS = (r"tablets?|tabs?|pills?|capsules?|caps?|caplets?|gel ?caps?|softgels?|lozenges?|"
                r"sachets?|sobres|片|粒|颗|袋")
# Amounts spelled out before a mass unit: "two thousand milligrams", "a gram and a half",
# "un gramo", "一克半", "五百毫克".
_SPELLED = (r"(?:(?:one|two|three|four|five|six|seven|eight|nine|ten|a|an)\s+thousand|"
            r"(?:dos|tres|cuatro|cinco|seis)\s+mil|"
            r"(?:a|an|one|two|three|four|five|un|una|dos|tres|cuatro|cinco|medio|half an?)"
            r"(?:\s+and\s+a\s+half)?(?=\s+(?:grams?|gramos?|milligrams?|miligramos?)\b)|"
            r"(?<![一两二三四五六七八九十百千\d])[一两二三四五六七八九十百千]+(?=(?:毫克|微克|克)))")
_DOSE = re.compile(
    rf"(?P<num>{_NUM}|{_SPELLED})(?:\s*(?:-|to|–|~)\s*(?P<num2>{_NUM}))?\s*"
    r"(?P<unit>mg|milligrams?|mgs|mcg|μg|ug|micrograms?|grams?|gm|gr|g|units?|iu|ui|unidades|u|meq|mmol|"
    r"gramos?|miligramos?|microgramos?|毫克|微克|克|单位)(?![a-z])"
    r"(?P<half>\s+and\s+a\s+half|\s+y\s+medio|半)?",
)
_LAB_BEFORE_COUNT = re.compile(
    r"\b(?:e?gfr|crcl|clcr|clearance|creatinine|cr|scr|k|potassium|inr|a1c|hba1c|bmi|weight|"
    r"wt|age|aged|bp|hr|spo2|sats?|glucose|sugar|bs|bg)\s*(?:of|is|was|=|:|at|~|约)?\s*$")
"""A lab or vital-sign name right before a number: the number is the reading."""
_COUNT_BEFORE = re.compile(
    r"(?:^|[\s(])(?P<count>\d{1,2}(?:\.\d+)?|a couple of|couple of|several|half|both|one|two|"
    r"three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    rf"[一两二三四五六七八九十半])\s*(?:x\s*)?(?:(?:{_COUNT_UNITS})\s+)?(?:(?:of|de)\s+)?"
    r"(?:the\s+|my\s+|more\s+)?(?:(?:regular|plain|generic|strong)\s+)?$"
)
_CLOCK = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?|noon|midday|midnight)"
_FREQ_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # times of day listed for one amount ("at 8am, 10am, noon and 2pm"): that many a day
    (re.compile(
        rf"\bat\s+{_CLOCK}(?:\s*,\s*{_CLOCK})*\s*,?\s*(?:and|&)\s+{_CLOCK}(?!\s*(?:mg|mcg|g|ml|"
        r"units?|tablets?|pills?|caps?|hours?|hrs?|minutes?|days?)\b)"), "times"),
    (re.compile(r"\bq\s?(\d{1,2})\s?(?:-\s?(\d{1,2})\s?)?h(?:rs?|ours?)?\b"), "q"),
    (re.compile(r"\bevery\s+(\d{1,2}|one|two|three|four|five|six|eight|twelve)"
                r"(?:\s*(?:-|to|or)\s*(\d{1,2}))?\s*(?:hours?|hrs?|h)\b"), "q"),
    (re.compile(r"\bevery\s+(?:hour|hr)\b|每(?:个)?小时(?!\s*(?:内|之内))|\bcada hora\b"),
     "hourly"),
    (re.compile(r"每\s*隔?\s*(\d{1,2}|[一两二三四五六八十]+)\s*(?:个)?小时"), "q"),
    (re.compile(r"(?<![每\d])(\d{1,2}|[一两二三四五六八十]+)\s*(?:个)?小时(?:吃|服|用)?一次"),
     "q"),
    (re.compile(r"\bcada\s+(\d{1,2})\s*(?:-\s*\d{1,2}\s*)?h(?:oras?)?\b|\bc/\s?(\d{1,2})\s?h\b"),
     "q"),
    # a unit's "/día", "/day" right after the amount ("4 g/día"): the clause starts at "/"
    (re.compile(r"^\s*/\s?(?:d[ií]a|day|d)\b"), "daily"),
    # a schedule in days: "every other day", "every 3 days", "cada dos días", "隔天"
    (re.compile(r"\bevery\s+(other|second|2|two|3|three|4|four|5|five|6|six)\s+days?\b|"
                r"\bcada\s+(2|dos|3|tres|4|cuatro|5|cinco)\s+d[ií]as\b|"
                r"\b(?:d[ií]as alternos|d[ií]a s[ií],? d[ií]a no|q\.?o\.?d)\b|"
                r"(?:隔天|隔日|两天一次)"),
     "days"),
    (re.compile(r"\b(\d{1,2}|dos|tres|cuatro|cinco|seis)\s*veces\s*(?:al|por|cada)\s*d[ií]a\b"),
     "n"),
    # administrations counted within one night, morning or afternoon: all in under a day
    (re.compile(r"(?:一(?:个)?(?:晚上|夜|上午|下午|早上)|半天|一宿)(?:里|之内|内)?\s*(?:就)?"
                r"(?:吃|服|服用|用|喝|喂)?了?\s*(\d{1,2}|[一两二三四五六七八九十]+)\s*次"),
     "n"),
    (re.compile(r"\b(\d{1,2}|two|three|four|five|six|seven|eight|ten)\s*times\s*(?:today|tonight|"
                r"last night|overnight|this (?:morning|afternoon|evening)|since (?:this )?"
                r"(?:morning|lunch|noon))\b|\b(\d{1,2}|dos|tres|cuatro|cinco|seis)\s*veces\s*"
                r"(?:hoy|anoche|esta (?:noche|mañana|tarde))\b"), "n"),
    (re.compile(r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|ten)\s*(?:x|times)\s*"
                r"(?:a|per|each|/)\s*(?:day|daily|d)\b"), "n"),
    (re.compile(r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|ten)\s*(?:x|times)\s*daily\b"),
     "n"),
    (re.compile(r"(?:每天|每日|一天|一日)\s*(\d|[一两二三四])\s*(?:顿|餐)"), "n"),
    (re.compile(r"(?:每天|每日|一天|一日|今天)\s*(?:已经|都|已)?\s*(?:一共|总共)?\s*"
                r"(?:加|吃|服|服用|用|喝|喂)?了?\s*(\d{1,2}|[一两二三四五六七八九十]+)\s*(?:次|回)"),
     "n"),
    (re.compile(r"\b(?:twice|two times)\s*(?:a|per|each)?\s*(?:day|daily)\b|\bbid\b|\bb\.i\.d\b|"
                # British prescribing: bd, tds, qds (BNF abbreviations)
                r"\bbd\b|\bb\.d\b"),
     "2"),
    (re.compile(r"\b(?:three times|thrice)\s*(?:a|per|each)?\s*(?:day|daily)\b|\btid\b|"
                r"\bt\.i\.d\b|\btds\b|\bt\.d\.s\b"),
     "3"),
    (re.compile(r"\bfour times\s*(?:a|per|each)?\s*(?:day|daily)\b|\bqid\b|\bq\.i\.d\b|\bqds\b|"
                r"\bq\.d\.s\b"), "4"),
    (re.compile(r"\bmorning and (?:\w+ )?(?:at )?(?:night|bedtime|evening)\b|"
                r"\bpor la ma[ñn]ana y (?:otr[oa] )?por la noche\b|\bma[ñn]ana y noche\b|"
                r"\b(?:morning|breakfast) and (?:\w+ )?(?:at |with )?(?:dinner|supper)\b|"
                r"早晚各|早晚"),
     "2"),
    (re.compile(r"\bbefore (?:each )?meals and at bedtime\b|\bwith meals and at bedtime\b"), "4"),
    (re.compile(r"\bmorning,? (?:noon|lunch(?:time)?|afternoon),? and (?:night|bedtime|evening)\b|"
                r"\bbreakfast,? lunch,? and (?:dinner|supper)\b|早中晚"), "3"),
    # (Chinese "饭后服用" says when, not how often: only each meal counts)
    (re.compile(r"\b(?:with|before|after) (?:each |every |all )?meals?\b|三餐|每餐|每顿饭"), "3"),
    (re.compile(r"\b(?:once\s*(?:a|per)?\s*week(?:ly)?|weekly|every week|per week|a week|/\s?week|"
                r"qw|qwk|q\s?1\s?wk?|"
                r"/\s?wk|(?:una vez )?(?:por|a la|cada|la) semana|semanal(?:es|mente)?|"
                r"(?:once|una vez) (?:a|cada|por|each) (?:fortnight|two weeks|2 weeks|quincena)|"
                r"(?:every|each|on) (?:mon|tues|wednes|thurs|fri|satur|sun)days?|"
                r"(?:cada|todos los) (?:lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bados?|"
                r"domingos?))\b|每周|每星期|一周一次|每个?礼拜"), "weekly"),
    (re.compile(r"\b(?:once a day|once daily|qd|od|(?:po|iv|im|sc|sq|sl|pr) daily|a night|"
                r"each night|nightly|at night|"
                r"every (?:morning|evening|night)|each (?:morning|evening)|at bedtime|qhs|qam|qpm|"
                r"nocte|mane|"
                r"una vez al d[ií]a|cada (?:mañana|noche)|por la (?:mañana|noche)|"
                r"antes de dormir)\b|每晚|睡前|每天一次|每日一次|一天一次|一日一次"),
     "once"),
    # an amount over a stated period, the labelled course ("1.8 mg total in the first hour"):
    # compared with the day's limit, not the single dose
    (re.compile(r"\btotal\s+(?:in|over|within)\s+(?:the\s+)?(?:first\s+)?(?:an?\s+|one\s+|\d+\s+)?"
                r"hours?\b"), "daily"),
    (re.compile(r"\b(?:per day|a day|each day|every (?:single )?day|daily|/\s?day|/\s?d|"
                r"in 24 hours|in a day|for the day|for that day|al d[ií]a|por d[ií]a|diari[oa]s?|"
                r"/\s?d[ií]a|"
                r"todos los d[ií]as|"
                r"cada d[ií]a|a diario|"
                r"(?:in|per|within|any|a) 24 ?(?:hours?|hrs?|h))\b|"
                r"每天|每日|一天|一日|24\s*小时(?:内|之内)?"),
     "daily"),
    (re.compile(r"\b(?:at once|at a time|in one go|all at once|in one dose|single dose|per dose|"
                r"each dose|stat|each time|every time|de una vez|de golpe|juntas|juntos|"
                r"cada vez)\b|一次|顿服|一下子|一口气|每次"),
     "single"),
    # what has been taken so far in a day, added up ("I've had 4 of them today", "总共",
    # "hoy llevo"): a day's total unless the same words say it was at once
    (re.compile(r"\b(?:today|so far|in total|altogether|all day|since (?:this )?(?:morning|"
                r"lunch|noon|breakfast)|over the (?:day|afternoon|evening)|hoy|en total|llevo)\b|"
                r"今天|总共|一共|合计|前前后后"), "sofar"),
]
_WORD_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
             "eight": 8, "ten": 10, "twelve": 12}


_ZH_DIGITS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}


def _zh_number(raw: str) -> float:
    """Chinese numerals up to the thousands: "五百" 500, "一千二百" 1200, "十二" 12."""
    total = 0
    digit = 0
    for ch in raw:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (digit or 1) * unit
            digit = 0
    return float(total + digit)


def _to_number(raw: str) -> float:
    raw = re.sub(r"\s+", " ", raw.strip())
    half = raw.endswith(" and a half")
    if half:
        return _to_number(raw[: -len(" and a half")]) + 0.5
    if raw.endswith((" thousand", " mil")):
        return _to_number(raw.rsplit(" ", 1)[0]) * 1000
    if raw in ("un", "una", "uno"):
        return 1.0
    if raw in ("medio", "half a", "half an"):
        return 0.5
    if re.fullmatch(r"[一两二三四五六七八九十百千]+", raw) and re.search(r"[百千]", raw):
        return _zh_number(raw)
    if raw in _NUM_WORDS:
        return float(_NUM_WORDS[raw])
    if raw in _WORD_NUM:
        return float(_WORD_NUM[raw])
    if re.fullmatch(r"[一两二三四五六七八九十]+", raw):
        if raw.startswith("十"):
            return 10 + (_NUM_WORDS.get(raw[1:], 0) if len(raw) > 1 else 0)
        if "十" in raw:
            tens, _, ones = raw.partition("十")
            return _NUM_WORDS[tens] * 10 + (_NUM_WORDS.get(ones, 0) if ones else 0)
        return float(_NUM_WORDS.get(raw, 0))
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw):
        return float(raw.replace(",", ""))
    if re.fullmatch(r"\d+,\d{1,2}", raw):  # decimal comma: "1,5 ml"
        return float(raw.replace(",", "."))
    return float(raw)


@dataclass(frozen=True, slots=True)
class Dose:
    drug: str
    span: tuple[int, int]
    amount: float
    """One administration, in ``unit``."""
    unit: str
    per_day: float | None = None
    """Administrations per day (24 / interval); None when not said."""
    daily_total: bool = False
    """The amount is what is taken in a whole day ("4000 mg a day")."""
    weekly: bool = False
    count: float | None = None
    """Tablets counted, when the amount came from count x strength."""
    owner: tuple[int, int] | None = None
    """Span of the mention the amount belongs to (a product's name: "NyQuil", "Tylenol")."""
    loading: bool = False
    """A first (loading) dose before a maintenance one ("750 mg x1 then 750 mg q48h",
    "首剂500mg，之后250mg qd"): not the day's regimen."""

    @property
    def daily(self) -> float | None:
        if self.daily_total:
            return self.amount
        if self.per_day is not None:
            return self.amount * self.per_day
        return None

    @property
    def single(self) -> float | None:
        return None if self.daily_total and self.per_day is None else self.amount


_FREQ_NEGATED = re.compile(r"\b(?:not|never|no)\b(?:\s+(?:take|taken|taking|be|it|to)){0,2}\s*$|"
                           r"(?:不能|不要|不是|不可以?|" + ZH_DONT + r"|千万不)[吃服用]?$")


_EXTRA_DOSE = re.compile(r"\b(?:plus|and|with)\s+(?:an?\s+|one\s+)?(?:extra|additional|more)\s+"
                         r"(?:one|dose|tablet|pill|capsule)\b|\b(?:plus|and) one more\b")


def _frequency(clause: str, last: bool = False) -> tuple[float | None, bool, bool]:
    """(per_day, daily_total, weekly) said in ``clause``. Of several schedules, the first
    one is taken, or with ``last`` the one nearest the end (the text before a dose:
    "once a day at first, now three times a day, 2 tablets")."""
    per_day: float | None = None
    daily_total = weekly = once = single = sofar = False
    found = [(m, kind) for pattern, kind in _FREQ_PATTERNS for m in pattern.finditer(clause)
             if not _FREQ_NEGATED.search(clause[max(0, m.start() - 16):m.start()])]
    if last:
        found.sort(key=lambda mk: -mk[0].start())
    else:
        found.sort(key=lambda mk: mk[0].start())
    for m, kind in found:
        if kind == "q" and per_day is None:
            # of a range ("every 4-6 hours") the longer interval: the label's own wording
            raw = (m.group(2) if m.lastindex and m.lastindex >= 2 and m.group(2)
                   else m.group(1))
            if re.fullmatch(r"[一两二三四五六七八九]{2}", raw):
                raw = max(raw, key=lambda c: _NUM_WORDS[c])  # "三四个小时": 3-4 hours
            hours = _to_number(raw)
            if hours > 0:
                per_day = 24 / hours
        elif kind == "days" and per_day is None:
            # "every other day", 隔天, "días alternos": every second day
            word = m.group(1) or m.group(2)
            per_day = 1 / (2.0 if word in (None, "other", "second") else _to_number(word))
        elif kind == "times" and per_day is None:
            per_day = float(len(re.findall(_CLOCK, m.group(0)[2:])))
        elif kind == "hourly" and per_day is None:
            per_day = 24.0
        elif kind == "n" and per_day is None:
            per_day = _to_number(next(g for g in m.groups() if g))
        elif kind in ("2", "3", "4") and per_day is None:
            per_day = float(kind)
        elif kind == "weekly" and not (last and per_day is not None):
            # (of the text before a dose, a nearer daily schedule wins: "“qw”是每天一次的意思，
            # 就是每天吃一次，每次4片")
            weekly = True
        elif kind == "once":
            # one administration a day ("at bedtime", "once daily"): the amount is both the
            # dose and the day's total; a more frequent schedule said with it wins
            once = True
            if last and per_day is None:
                break
        elif kind == "daily":
            daily_total = True
            if last and per_day is None:
                break  # "every 4-6 hours, not more than 4 g in 24 hours": the nearest
        elif kind == "single":
            single = True
        elif kind == "sofar":
            sofar = True
    if per_day is not None and _EXTRA_DOSE.search(clause):
        per_day += 1  # "four times a day plus an extra one at night"
    if sofar and not single and per_day is None and not once and not weekly:
        daily_total = True
    if per_day is None and once and not weekly:
        per_day = 1.0
    if per_day is not None:
        daily_total = False
    return per_day, daily_total, weekly


# A word ending in a WHO INN stem right before an amount names a drug the knowledge base
# does not hold ("fosaprepitant 150 mg"); its dose must not go to the drug named earlier.
_UNKNOWN_DRUG_BEFORE = re.compile(
    r"\b[a-z]{3,}(?:pitant|mab|tinib|ciclib|vir|pril|olol|alol|statin|conazole|cillin|mycin|"
    r"micin|floxacin|prazole|sartan|dipine|glutide|gliptin|gliflozin|parin|xaban|gatran|afil|"
    r"triptan|azepam|zolam|oxetine|pramine|triptyline|setron|tidine|lukast|terol|asone|olone|"
    r"platin|rubicin|taxel|tecan|dronate|semide|thiazide|fibrate|codone|morphone|barbital|"
    r"azepine|trigine|racetam|cycline|cef\w*|azine|profen)\s*(?:\(\w+\)\s*)?$|"
    r"\b(?:b-?12|b-?6|b-?1|vitamin [bce]\d*|vit\.? [bce]\d*|zinc|biotin|fish oil|omega[- ]?3s?|"
    r"coq-?10|coenzyme q10|glucosamine|chondroitin|turmeric|curcumin|collagen|probiotics?|"
    r"cyanocobalamin|methylcobalamin|selenium|lutein|l-?theanine|ashwagandha|calcium|"
    r"magnesium|vitamin d-?\d?|vit\.? d-?\d?|d3|cranberry|krill oil|flax(?:seed)?(?: oil)?|"
    r"evening primrose(?: oil)?|saw palmetto|elderberry|echinacea|"
    r"甲钴胺|维生素b\d*|维生素c|维生素e|鱼油|葡萄糖胺|辅酶q10)"
    # "fish oil capsules, 1000 mg"
    r"(?:\s+(?:capsules?|caps|tablets?|tabs|pills?|softgels?|gummies|supplements?))?\s*,?"
    r"\s*(?:\(\w+\)\s*)?$")
_OTHER_OWNER_GAP = re.compile(r"^\s*of\s+(?!(?:the|my|your|his|her)\b)\w|[;:]|"
                              r"\b(?:and|with|plus|along|alongside|also|y|con)\b")
"""Between an amount and a drug named after it: the amount is of something else ("1000 mg of
vitamin C with my levothyroxine", "600 mg at lunch, and my alendronate")."""
_PER_HOUR = re.compile(r"\s*(?:/\s*(?:hr?|hour)\b|(?:per|an|a)\s+(?:hr|hour)\b)")
_CONC_AFTER = re.compile(
    r"^\s*(?:per|/|in|each|every|por|en|cada|每)\s*(?P<vol>\d+(?:\.\d+)?)?\s*(?:ml|mls|cc|毫升)\b")
_CONC_BEFORE = re.compile(r"每\s*(?P<vol>\d+(?:\.\d+)?)?\s*毫升\s*(?:含)?\s*$|"
                          r"(?<![\d.])(?P<vol2>\d+(?:\.\d+)?)\s*(?:ml|毫升)\s*[:：]\s*$")
"""A concentration said before the amount: "每5毫升含", a Chinese label's "100ml:2g"."""
_LOADING_BEFORE = re.compile(r"(?:\b(?:loading|initial|first)\s+(?:dose\s+)?(?:of\s+)?|首剂|负荷量|"
                             r"首次|dosis\s+(?:de\s+carga|inicial)\s+(?:de\s+)?)$")
_LOADING_AFTER = re.compile(r"\s*(?:(?:po|iv|im|sc|oral(?:ly)?)\s+)?"
                            r"(?:x\s*1\b|once\s*(?:,\s*)?then\b|"
                            r"then\b|followed\s+by\b|stat\b[^.;]{0,10}then\b)|\s*[，,]?\s*(?:之后|然后|以后|随后)")
_THIS_ONE = re.compile(r"\s*(?:of\s+)?(?:this\s+one|these\s+ones|this|these|the\s+drops|"
                       r"the\s+new\s+one)\b|\s*(?:这个|这瓶|滴剂)")
_NOT_A_DOSE = re.compile(r"^\s*(?:pe\s*)?(?:/|per)\s*(?:kg|kilo|dl|l\b|m2|m²|min|hr?\b|hour)|"
                         r"^\s*/\s*(?:d|dl)\b")
_VOLUME = re.compile(r"(?P<num>(?<![\d.,])\d+(?:\.\d{1,3}|,\d{1,2})?(?!\d)|"
                     r"\b(?:half an?|an?|one|two|three))\s*"
                     r"(?P<unit>ml|mls|milliliters?|millilitres?|cc|毫升|"
                     r"teaspoons?|tsp|tablespoons?|tbsp|cucharaditas?)(?![a-z])"
                     # "CrCl 22 mL/min", "eGFR 52 mL/min/1.73m2": a clearance, not a volume
                     r"(?!\s*/\s*(?:min|分))")
_SPOON_WORDS = {"half a": 0.5, "half an": 0.5, "a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0,
                "three": 3.0}
_VOLUME_ML = {"teaspoon": 5.0, "teaspoons": 5.0, "tsp": 5.0, "tablespoon": 15.0,
              "tablespoons": 15.0, "tbsp": 15.0, "cucharadita": 5.0, "cucharaditas": 5.0}
_N = (r"\d{1,2}(?:\.\d+)?|a couple of|couple of|several|half|one|two|three|four|five|six|seven|"
      r"eight|nine|ten|eleven|twelve|fifteen|twenty|[一两二三四五六七八九十半]+|dos|tres|cuatro|"
      r"cinco|seis|siete|ocho|nueve|diez|doce|una|uno")
_RAISED_TO = ("doubled", "gone", "went", "myself", "i'm", "im")
"""The word right before "up to" when a dose was raised to the number ("doubled up to 2",
"gone up to 3", "pushed myself up to 4", "I'm up to 300"): the number is taken, not a limit."""
_RAISED_UP_TO = "|".join(f"(?<={w} up to )" for w in _RAISED_TO)
_NOT_RAISED_UP_TO = "".join(f"(?<!{w} )" for w in (
    *_RAISED_TO, "double", "bumped", "it", "way", "now"))
"""Before an amount, "up to" is a limit unless one of these words comes before it (the raised
words, and "bumped it up to", "worked my way up to", "now up to")."""
_COUNT_EVENT = re.compile(
    rf"(?<![a-z0-9.\-])(?P<n>{_N})(?:\s*(?:-|to|or)\s*(?:{_N}))?\s*(?:x\s*)?(?:(?:{_COUNT_UNITS}|liquicaps?|gummies|pastillas?|"
    rf"tabletas?|comprimidos?|comps?|c[aá]psulas?)(?![a-z])|"
    rf"of (?:them|those|these|it|the (?:tablets|"
    rf"pills|caps|capsules)|my (?:pills|tablets))\b)"
    rf"|(?:\btake|\btaking|\btook|\btakes|\btaken|\bdoing|\bpopping|\bpopped|\bswallowed|\bhad|"
    rf"\bgive|\bgiving|\bgave|吃了?|服了?|服用|喂了?|\btom[eéoó]|\btomando|\btomado|\btomaba|"
    rf"\bllevo\b|\bdi\b|\bdio\b|\bdado\b)\s*(?P<n2>{_N})(?!\d)(?:\s*more)?"
    rf"(?!\s*(?:mg|mcg|μg|g\b|ml|units?|%|gramos?|miligramos?|grams?|vez|veces|d[ií]as?|horas?|"
    rf"a[nñ]os|semanas?|years?|yrs?|days?|weeks?|wks?|months?|hours?|hrs?|kg|"
    rf"lbs?|am\b|pm\b|times|x\b|次|天|岁|小时|毫|克|周|月|年|个|日|:|\.\d|/))"
    rf"|(?<![a-z0-9.])(?<!by )(?:(?<!to )|{_RAISED_UP_TO})(?P<n3>{_N})\s+"
    rf"(?=every|each (?:time|dose)|at once|"
    rf"at a time|a day|per day|"
    rf"twice|three times|four times|in the morning|at bedtime|at night|before bed\b|"
    rf"with (?:breakfast|lunch|dinner|supper)\b)"
)
_BARE_STRENGTH = re.compile(
    r"(?:\b(?:los|las|el|la|unos|unas|es|son|eran|era)\s+de|\bthe)\s+"
    r"(?P<num>\d{1,4}(?:\.\d+)?)(?:'?s|\s+(?:ones|kind|mg ones))?(?=\s*(?:[,.;!?]|$|y\b|and\b|"
    r"ones\b|kind\b|pero\b|but\b))"
    r"|(?<![\d.])(?P<num2>\d{1,4}(?:\.\d+)?)\s+(?:each|apiece|a piece|cada una|cada uno)\b"
    r"|\b(?:are|is|were|was|'re|son|eran)\s+(?:the\s+|all\s+|los\s+|las\s+)?"
    r"(?P<num3>\d{2,4})(?:'?s\b|\s+ones\b)"
    r"|\b(?:dose|strength|dosage|dosis)\b[^.,;!?\d]{0,24}?\b(?:is|was|es|era)\s+"
    r"(?P<num4>\d{1,4}(?:\.\d+)?)(?=\s*(?:[,.;!?]|$|and\b|but\b|y\b|pero\b))")
"""A product's strength said apart from its name, with no unit ("paracetamol, los de 500",
"ibuprofen - 4 of them, 400 each"): the strength later or earlier counts multiply."""
_TOTAL = re.compile(
    r"(?:\b(?:that's|that is|thats|that makes|which is|which makes|so i'm (?:at|on|taking)|"
    r"i'm now (?:at|on|taking)|for a total of|a total of|total of|in total|altogether|"
    r"en total|o sea)\s+|总共|一共|合计"
    # a dose reached by raising it ("I've gone up to 1200", "I'm up to 300 a day now",
    # "bumped it up to 40"): the amount taken now, not a limit
    r"|\b(?:gone|went|moved|bumped|stepped|crept|pushed|built|ramped|titrated|"
    r"worked (?:my|his|her) way)\s+(?:(?:it|me|him|her|myself|himself|herself)\s+)?up\s+to\s+"
    r"|\b(?:i'm|im|i am|she's|he's)\s+(?:now\s+)?up\s+to\s+"
    r"|\b(?:i|she|he|we)\s+(?:(?:have|has)\s+)?(?:[a-z]+ly\s+)?(?:increased|upped|raised|doubled|"
    r"bumped|pushed)\s+"
    r"(?:it|the dose|my dose|myself)\s+(?:up\s+)?to\s+)"
    r"(?P<num>\d{1,4}(?:\.\d+)?)(?!\d|\.\d|\s*(?:%|/|毫|克|微|片|粒|颗|次|岁|天|小时|个|周|月|年|"
    r"(?:mg|mcg|μg|ug|g|grams?|gramos?|ml|cc|units?|iu|kg|kilos?|lbs?|years?|yrs?|days?|weeks?|"
    r"months?|hours?|hrs?|h|min|minutes?|times|x|tablets?|tabs?|pills?|caps?|capsules?|ones?|of|"
    r"percent|am|pm|pastillas?|veces|d[ií]as|horas|a[nñ]os)\b))")
"""A stated total with no unit after a drug's strength ("that's 40 a day now", "总共15"):
an amount in the drug's unit (a count when it is small and below the strength)."""
_COUNTED_AFTER = re.compile(
    rf"\s*(?:more\s+)?(?:{_COUNT_UNITS}|ones?\b|of (?:them|those|these|it|the|my|his|her|their|"
    r"hers|his)\b|pastillas?|tabletas?|comprimidos?|comps?\b|c[aá]psulas?|"
    r"de (?:ellas|esas|estas|las)\b)")
"""Words after a number that make it a count of units: "took 6 of them", "8 pastillas"."""
_COUNT_STRENGTH = re.compile(
    rf"(?<![a-z0-9.,])(?P<n>{_N})(?:\s*(?:x|×|\*)\s*|\s*(?:片|粒|颗)\s*|\s+(?:(?:tablets?|tabs?|"
    r"pills?|caplets?)\s+)?(?:of\s+)?)(?:the\s+|my\s+)?(?P<s>\d{2,4})(?:'?s\b|\s*的|\s+ones\b)")
"""A count of tablets of a strength given without its unit: "two 500s", "三片500的"."""
_BARE = re.compile(r"^\s*(?:de|of|的|#)?\s*(?P<num>\d{1,4}(?:\.\d+)?)s?"
                   r"(?!\d|\.\d|,\d|\s*(?:%|mg|mcg|μg|ug\b|micrograms?|milligrams?|mgs\b|g\b|"
                   r"gm|grams?|ml|cc|units?|iu|u\b|kg|lbs?|years?|yrs?|yo|y/o|days?|weeks?|wks?|"
                   r"months?|hours?|hrs?|h\b|min|times|x\b|am\b|pm\b|/|-\s*\d|-[a-z]|mmol|meq|毫|克|岁|天|次|小时|"
                   r"月|周|年|kilos?|años|horas|días))")


_SCHEDULE_NEXT = re.compile(
    r"\s*(?:mg\s+)?(?:once|twice|three times|four times|every|a day|daily|per day|at night|"
    r"at bedtime|in the morning|bid|tid|qid|q\d|morning and|veces|cada|al d[ií]a)\b")
_THEN_PRONOUN = re.compile(
    r"\s*[.;!?]?\s*(?:and\s+|so\s+|but\s+)?(?:(?:i|he|she|we|they)\s+(?:(?:have|has|had)\s+been\s+|"
    r"(?:am|'m|is|'s|are|'re|was)\s+)?(?:take|takes|taking|took|give|gives|giving|gave|"
    r"use|uses|using)\s+(?:it|them|this|that|one|each one)\b|"
    # "... lo estoy tomando tres veces al día"
    r"(?:[^.;!?\n]{0,60}?\s)?(?:lo|la|los|las)\s+(?:estoy\s+|est[aá]\s+|he\s+|ha\s+)?"
    r"(?:tomo|toma|tom[eé]|tomando|tomado|doy|da|d[aá]ndo|usando|uso))(?P<rest>[^.;!?\n]{0,50})")
"""The sentence after a dose that gives its schedule through a pronoun ("I take it every 2
hours")."""


_SCHEDULE_SENTENCE = re.compile(
    r"\s*[.;!?]\s*(?P<rest>(?:every|each|once|twice|three times|four times|\d+ times|q\d)"
    r"[^.;!?\n]{0,40})")
"""A sentence that starts with a schedule, after a dose that has none ("I take 3. Every 4
hours or so")."""
_THAT_IS = re.compile(r"\b(?:is that|was that|that's|that is|thats|which is|that makes|"
                      r"which makes|so that's)\s+(?:about |around |roughly |only |a total of )?$")
_EACH_TIME = re.compile(r"\s*(?:,\s*)?(?:each|every) time\b|\s*(?:,\s*)?(?:each|per) dose\b")


class _Spans:
    """Spans already used (for amounts), asked about many times: kept sorted, so that the
    spans over a place are found by bisection, not by going through all of them."""

    def __init__(self) -> None:
        self._spans: list[tuple[int, int]] = []
        self.longest = 0

    def append(self, span: tuple[int, int]) -> None:
        bisect.insort(self._spans, span)
        self.longest = max(self.longest, span[1] - span[0])

    def starting(self, lo: int, hi: int) -> Iterator[tuple[int, int]]:
        """The spans starting in ``[lo, hi]``."""
        for n in range(bisect.bisect_left(self._spans, (lo, -1)), len(self._spans)):
            span = self._spans[n]
            if span[0] > hi:
                return
            yield span

    def covers(self, pos: int) -> bool:
        """A span holds ``pos`` (``s <= pos < e``)."""
        return any(s <= pos < e for s, e in self.starting(pos - self.longest, pos))


def _without_glosses(drugs: list[Mention], norm: str) -> list[Mention]:
    """The ingredients named in brackets after a product ("Zaldiar (tramadol con
    paracetamol)", "泰诺（酚麻美敏片）") gloss it: the amounts after them are the product's,
    so they are left out of the owners of amounts."""
    products = [m for m in drugs if m.product is not None]
    if not products:
        return drugs
    out = []
    for m in drugs:
        gloss = m.product is None and any(
            p.span[1] <= m.span[0] and m.drug in {c.drug for c in p.product.components}
            and re.fullmatch(r"\s*[(（][^)）]{0,40}", norm[p.span[1]:m.span[0]])
            for p in products if p.product is not None)
        if not gloss:
            out.append(m)
    return out


def find_doses(text: str, mentions: Sequence[Mention],
               strength_unit: Callable[[str], str | None] | None = None) -> list[Dose]:
    """Doses in ``text``: explicit amounts ("800 mg"), counts of units of a known strength
    ("Toradol 10 mg tabs ... I take 2 every 4 hours", "4 Benadryl (25mg)", "6 extra strength
    tylenol"), liquid volumes of a stated concentration ("160 mg per 5 mL ... 15 mL"), and
    bare strengths after a name ("Imitrex 100") when ``strength_unit(drug)`` gives their
    unit. Each amount belongs to the drug right after it ("400 mg of ibuprofen") or else to
    the nearest drug named before it in the message."""
    norm = _norm(text)
    drugs = _without_glosses([m for m in mentions if m.drug], norm)
    if not drugs:
        return []
    doses: list[Dose] = []
    strengths: dict[str, tuple[float, str]] = {}
    strength_at: dict[str, int] = {}
    """Drug -> where the amount read as its strength was said."""
    own_strength: dict[tuple[int, int], tuple[float, str]] = {}
    """A name's span -> the strength said with it ("百服宁(对乙酰氨基酚片0.5g)" beside "泰诺林
    (...650毫克)": two products of one drug, each counted at its own)."""
    conc: dict[str, float] = {}
    conc_of: dict[tuple[int, int], float] = {}
    """A concentration stated after a named product, for that product's volumes only."""
    taken = _Spans()
    for one, two in itertools.pairwise(drugs):  # "Hydrocodone/APAP 10/325": one strength each
        if one.drug == two.drug or not re.fullmatch(r"\s*(?:/|-|and|with)\s*",
                                                     norm[one.span[1]:two.span[0]]):
            continue
        pair = _PAIR_STRENGTH.match(norm, two.span[1])
        if pair is not None:
            unit = _UNIT_MAP.get(pair.group("unit") or "mg", "mg")
            strengths.setdefault(one.drug, (float(pair.group("x")), unit))
            strengths.setdefault(two.drug, (float(pair.group("y")), unit))
            taken.append((pair.start("x"), pair.end()))
    # Mentions come in text order and do not overlap (or share a span): their starts and
    # ends both ascend, so the drugs inside, after or before a place are found by bisection
    # instead of going through all of them for every amount (quadratic in a long message).
    d_starts = [m.span[0] for m in drugs]
    d_ends = [m.span[1] for m in drugs]
    ordered = all(a <= b for a, b in itertools.pairwise(d_starts)) and all(
        a <= b for a, b in itertools.pairwise(d_ends))

    def first_inside(start: int) -> list[Mention]:
        if not ordered:
            return [m for m in drugs if m.span[0] < start < m.span[1]]
        k = bisect.bisect_left(d_starts, start)
        j = bisect.bisect_right(d_ends, start, 0, k)
        return drugs[j:j + 1] if j < k else []

    def first_after(end: int) -> list[Mention]:
        if not ordered:
            return [m for m in drugs if m.span[0] >= end]
        k = bisect.bisect_left(d_starts, end)
        return drugs[k:k + 1]

    def last_before(start: int) -> list[Mention]:
        if not ordered:
            return [m for m in drugs if m.span[1] <= start]
        k = bisect.bisect_right(d_ends, start)
        return drugs[k - 1:k] if k else []

    def owner(start: int, end: int) -> Mention | None:
        inside = first_inside(start)
        if inside:
            return inside[0]  # "aspirin 81 mg": the product name holds the amount
        after = first_after(end)
        if after:
            gap = norm[end:after[0].span[0]]
            if re.fullmatch(r"\s*(?:of\s+(?:the\s+|my\s+|your\s+)?|的|de\s+|\)?\s*|"
                            r"(?:[一每]\s*)?(?:片|粒|颗|袋|支)的?)?", gap):
                return after[0]
        before = last_before(start)
        if before and _UNKNOWN_DRUG_BEFORE.search(norm[before[-1].span[1]:start]):
            return None  # "dexamethasone 12 mg, fosaprepitant 150 mg": not ours
        if before:
            return before[-1]
        if after and after[0].span[0] - end <= 30 and not _CJK.search(
                norm[end:after[0].span[0]]) and not _OTHER_OWNER_GAP.search(
                norm[end:after[0].span[0]]) and not _UNKNOWN_DRUG_BEFORE.search(
                norm[max(0, start - 30):start]):
            return after[0]
        return None

    starts = sorted((m.span[0], m.drug) for m in drugs)

    def add(drug: str, span: tuple[int, int], amount: float, unit: str,
            count: float | None, owner: tuple[int, int] | None = None) -> None:
        before, after = _clause(norm, span[0], span[1])
        # the next other drug, if it starts within ``after`` (bounded: a clause)
        nxt = None
        for s, d in starts[bisect.bisect_left(starts, (span[1], "")):]:
            if s - span[1] >= len(after):
                break
            if d != drug:
                nxt = s
                break
        if nxt is not None and nxt - span[1] < len(after):
            after = after[:nxt - span[1]]  # "amlodipine 10 in the morning, metformin 500 bid"
        lo = span[0] - len(before)
        near = drugs if not ordered else drugs[
            bisect.bisect_left(d_ends, lo):bisect.bisect_right(d_ends, span[0])]
        prv = max((m.span[1] for m in near if m.drug != drug and lo <= m.span[1] <= span[0]),
                  default=None)
        if prv is not None:
            before = norm[prv:span[0]]  # "metformin 500 twice a day, methotrexate 2.5 mg"
        per_day, daily_total, weekly = _frequency(after)
        if per_day is None and not daily_total and not weekly:
            per_day, daily_total, weekly = _frequency(before, last=True)
        if per_day is None and not daily_total and not weekly:
            # "Diazepam, the dose is 10 mg. I take it every 2 hours": the schedule in the next
            # sentence, said of the same medicine by a pronoun
            nxt_sentence = _THEN_PRONOUN.match(norm, span[1] + len(after)) or (
                # "Enantyum 25 mg para un dolor ... y me lo estoy tomando cada 3 horas": later
                # in the same sentence
                _THEN_PRONOUN.match(norm, span[1]))
            if nxt_sentence is not None and not any(
                    nxt_sentence.start() <= s < nxt_sentence.end() for s, _ in starts):
                per_day, daily_total, weekly = _frequency(nxt_sentence.group("rest"))
        if per_day is None and not daily_total and not weekly:
            # "Tramadol 50 mg. I take 3. Every 4 hours": a schedule starting the next sentence
            sched = _SCHEDULE_SENTENCE.match(norm, span[1] + len(after))
            if sched is not None and not any(
                    sched.start() <= s < sched.end() for s, _ in starts):
                per_day, daily_total, weekly = _frequency(sched.group("rest"))
        if per_day is None and not daily_total and not weekly and _THAT_IS.search(
                norm, max(0, span[0] - 24), span[0]):
            # "max 6 caplets in 24 hours. Is that 3,900 mg?": a total of what was just said,
            # on the schedule said there
            per_day, daily_total, weekly = _frequency(norm[max(0, span[0] - 160):span[0]],
                                                      last=True)
        if per_day is None and not daily_total and not weekly and _EACH_TIME.match(after):
            # "Doctor says 1 three times a day. I take 2 each time": the schedule said before
            earlier = [d for d in doses if d.drug == drug and d.span[1] <= span[0]
                       and d.per_day is not None]
            if earlier:
                per_day = earlier[-1].per_day
        loading = bool(_LOADING_BEFORE.search(norm, max(0, span[0] - 20), span[0])
                       or _LOADING_AFTER.match(norm, span[1]))
        doses.append(Dose(drug, span, amount, unit, per_day, daily_total, weekly, count, owner,
                          loading))

    for m in _DOSE.finditer(norm):
        start, end = m.start(), m.end()
        rate = _PER_HOUR.match(norm, end)
        if rate is not None and m.group("unit") in ("mg", "milligrams", "milligram", "mgs",
                                                    "毫克"):
            # "fentanyl patch 50 mg/hr": a delivery rate, kept in mg/h (patches of fentanyl
            # and buprenorphine are made only in mcg/h)
            mention = owner(start, end)
            if mention is not None:
                taken.append((start, rate.end()))
                doses.append(Dose(mention.drug, (start, rate.end()),
                                  _to_number(m.group("num2") or m.group("num")), "mg/h", None,
                                  False, False, None, mention.span))
            continue
        if _NOT_A_DOSE.match(norm[end:end + 8]):
            continue
        amount = _to_number(m.group("num2") or m.group("num"))
        if m.group("half"):
            amount += 0.5  # "a gram and a half", "一克半", "un gramo y medio"
        unit = _UNIT_MAP[m.group("unit")]
        if unit == "units" and m.group("unit") == "u" and amount < 1:
            continue
        mention = owner(start, end)
        if mention is None:
            continue
        taken.append((start, end))
        ca = _CONC_AFTER.match(norm[end:end + 16])
        cb = _CONC_BEFORE.search(norm[max(0, start - 12):start])
        if ca or cb:
            if cb is not None and cb.group("vol2"):
                taken.append((max(0, start - 12) + cb.start(), start))  # "100ml:2g": no dose
            vol = (ca.group("vol") if ca is not None
                   else cb.group("vol") or cb.group("vol2"))  # type: ignore[union-attr]
            if ca is not None:
                taken.append((end, end + ca.end()))  # "160 mg/5 mL": the 5 mL is no dose
            mg = to_mg(amount, unit)
            if mg is not None:
                conc[mention.drug] = conc_of[mention.span] = mg / float(vol or 1)
            continue
        count = _count_before(norm, start)
        add(mention.drug, (start, end), amount * (count or 1), unit, count, owner=mention.span)
        if _PER_UNIT_NEXT.search(norm[max(0, start - 16):start]) or (
                not _DAILY_AFTER.match(norm[end:end + 14])
                and not _DAILY_AFTER_NAME.match(norm, end) and not _LIMIT_BEFORE.search(
                    norm[max(0, start - 30):start]) and not _LINKED_TOTAL.search(
                    norm, max(0, start - 40), start)):
            # "2 g a day" or "at most 15 mg" is not the strength of one tablet; "每片0.4g"
            # (per tablet) is, whatever schedule follows it
            if mention.drug not in strengths:
                strength_at[mention.drug] = start
            own_strength.setdefault(mention.span, (amount, unit))
            strengths.setdefault(mention.drug, (amount, unit))

    for mention in drugs:
        if mention.strength_mg is not None:
            strengths.setdefault(mention.drug, (mention.strength_mg, "mg"))
        if strength_unit is None:
            continue
        b = _BARE.match(norm[mention.span[1]:mention.span[1] + 24])
        if mention.drug in strengths and (b is None or not b.group(0).endswith("s")):
            continue  # a number after a name whose strength is known is a count; "500s" is not
        bare_unit = strength_unit(mention.drug)
        if b is None or bare_unit is None:
            continue
        value = float(b.group("num"))
        if value <= 0:
            continue
        if (1950 <= value <= 2035 and "." not in b.group("num") and not _SCHEDULE_NEXT.match(
                norm[mention.span[1] + b.end():mention.span[1] + b.end() + 30])):
            continue  # "angioedema on lisinopril 2021": a year, not a strength
        span = (mention.span[1], mention.span[1] + b.end())
        strengths[mention.drug] = (value, bare_unit)
        taken.append(span)
        add(mention.drug, span, value, bare_unit, None, owner=mention.span)

    for v in _VOLUME.finditer(norm):
        if taken.covers(v.start()):
            continue
        word = _SPOON_WORDS.get(v.group("num"))
        if word is not None and v.group("unit") not in _VOLUME_ML:
            continue  # "a ml" is not a volume; "a teaspoon" is
        mention = owner(v.start(), v.end())
        if mention is None:
            continue
        number = word if word is not None else _to_number(v.group("num"))
        ml = number * _VOLUME_ML.get(v.group("unit"), 1.0)
        own = conc_of.get(mention.span)
        if own is None and _THIS_ONE.match(norm, v.end()) and mention.drug in conc:
            own = conc[mention.drug]  # "4 ml of this one": the liquid whose strength was said
        if own is None and mention.conc_mg_per_ml and conc_of:
            # a named liquid of its own strength ("4 ml of childrens motrin") next to another
            # product's stated concentration ("INFANTS advil (the 50mg/1.25ml drops)")
            own = mention.conc_mg_per_ml
        if own is not None:
            add(mention.drug, (v.start(), v.end()), ml * own, "mg", None, owner=mention.span)
            continue
        if mention.drug not in conc:
            # a named liquid of one standard concentration (Children's Motrin), each component
            liquid = [x for x in drugs if x.span == mention.span and x.conc_mg_per_ml]
            for x in liquid:
                add(x.drug, (v.start(), v.end()), ml * (x.conc_mg_per_ml or 0), "mg", None,
                    owner=x.span)
            if not liquid and v.group("unit") in ("ml", "mls", "cc", "毫升"):
                # a volume with no strength stated: kept in mL (insulin drawn up in mL)
                add(mention.drug, (v.start(), v.end()), number, "mL", None, owner=mention.span)
            continue
        add(mention.drug, (v.start(), v.end()), ml * conc[mention.drug], "mg", None,
            owner=mention.span)

    for mention in drugs:  # "4 Benadryl (25mg)", "6 extra strength tylenol"
        cb4 = _COUNT_BEFORE.search(norm[max(0, mention.span[0] - 40):mention.span[0]])
        if cb4 is None or (mention.drug not in strengths and mention.strength_mg is None):
            continue
        if _package(norm, max(0, mention.span[0] - 40) + cb4.start("count")):
            continue
        if _LAB_BEFORE_COUNT.search(norm, max(0, mention.span[0] - 60),
                                    max(0, mention.span[0] - 40) + cb4.start("count")):
            continue  # "at eGFR 52 metformin 1000 mg": a reading, not a count of tablets
        try:
            count = _to_number(cb4.group("count"))
        except (ValueError, KeyError):
            continue
        if 0 < count <= 60:
            amount, unit = ((mention.strength_mg, "mg") if mention.strength_mg is not None
                            else strengths[mention.drug])
            span = (mention.span[0] - len(cb4.group(0)), mention.span[1])
            taken.append((span[0], span[0] + 1))
            add(mention.drug, span, amount * count, unit, count, owner=mention.span)

    if strength_unit is not None:
        for cs in _COUNT_STRENGTH.finditer(norm):  # "two 500s", "三片500的"
            if taken.covers(cs.start("s")) or _package(norm, cs.start("n")):
                continue
            mention = owner(cs.start(), cs.end())
            bare = strength_unit(mention.drug) if mention is not None else None
            if mention is None or bare is None:
                continue
            try:
                count = _to_number(cs.group("n"))
            except (ValueError, KeyError):
                continue
            value = float(cs.group("s"))
            if not 0 < count <= 20 or value <= 0:
                continue
            strengths.setdefault(mention.drug, (value, bare))
            taken.append((cs.start(), cs.end()))
            add(mention.drug, (cs.start(), cs.end()), value * count, bare, count,
                owner=mention.span)

    if strength_unit is not None:
        for b in _BARE_STRENGTH.finditer(norm):  # "los de 500", "400 each", "the 10 mg kind"
            key = next(k for k in ("num", "num2", "num3", "num4") if b.group(k))
            num, start = b.group(key), b.start(key)
            mention = owner(start, start + len(num))
            if mention is None or mention.drug in strengths or mention.strength_mg is not None:
                continue
            bare = strength_unit(mention.drug)
            if bare is not None and float(num) > 0:
                strengths[mention.drug] = (float(num), bare)
                taken.append((start, start + len(num)))

    if strength_unit is not None:
        for t in _TOTAL.finditer(norm):  # "amlodipine 10, doubled again - that's 40"
            mention = owner(t.start("num"), t.end("num"))
            if mention is None or taken.covers(t.start("num")):
                continue
            bare = strength_unit(mention.drug)
            value = float(t.group("num"))
            known = strengths.get(mention.drug) or (
                (mention.strength_mg, "mg") if mention.strength_mg is not None else None)
            if bare is None or value <= 0:
                continue
            span = (t.start("num"), t.end("num"))
            taken.append(span)
            if known is not None and value <= 12 and value < known[0]:
                # "Tylenol 500s, that's 4 a day": a small number under the strength is a count
                add(mention.drug, span, value * known[0], known[1], value, owner=mention.span)
            else:
                add(mention.drug, span, value, known[1] if known else bare, None,
                    owner=mention.span)

    for c in _COUNT_EVENT.finditer(norm):
        raw = c.group("n") or c.group("n2") or c.group("n3")
        start = c.start("n") if c.group("n") else c.start("n2") if c.group("n2") else c.start("n3")
        if _package(norm, start) or any(
                s - 12 <= start < e and not _PER_UNIT_NEXT.search(norm[c.end():s])
                and not _PER_UNIT_AFTER.match(norm[e:e + 8])
                for s, e in taken.starting(start - taken.longest, start + 12)):
            continue  # the count was already used with the amount after it
        try:
            count = _to_number(raw)
        except (ValueError, KeyError):
            continue
        if not 0 < count <= 60:
            continue
        if _AMOUNT_RESTATED.search(norm, max(0, start - 16), start):
            continue  # "no more than 240 mg (8 tablets)": the amount again, in tablets
        if c.group("n") and _TOTAL_IN_BRACKETS.match(norm, c.end()):
            continue  # "four caplets (8 mg) in 24 hours": the 4's total, said in brackets
        if _COUNT_THEN_TOTAL.match(norm, c.end()):
            continue  # "2 caplets twice a day is 2,000 mg": the amount is the count's total
        mention = owner(start, c.end())
        if mention is None:
            continue
        # a combination product counts for each of its components at its own strength
        # ("DayQuil LiquiCaps 2 every 4 hours": acetaminophen 325 mg and the rest, per capsule)
        parts = [x for x in drugs if x.span == mention.span and x.strength_mg is not None] if (
            mention.product is not None) else []
        for x in parts or [mention]:
            if x.strength_mg is not None:
                amount, unit = x.strength_mg, "mg"
            elif x.span in own_strength:
                amount, unit = own_strength[x.span]
            elif x.drug in strengths:
                # (not said with this name: that is ``own_strength``, above)
                said_at = strength_at.get(x.drug)
                if said_at is not None and said_at > c.end() and _STRONG_BREAK.search(
                        norm, c.end(), said_at):
                    continue  # "Zaldiar ... 2 comprimidos c/6h. Con Gelocatil 1 g": another
                    # product's strength, said in a later sentence
                amount, unit = strengths[x.drug]
            else:
                bare = strength_unit(x.drug) if strength_unit is not None else None
                if bare is not None and c.group("n2") and count > 12 and re.fullmatch(
                        r"\d+(?:\.\d+)?", raw) and _SCHEDULE_NEXT.match(norm, c.end()):
                    # "I take 60 three times a day": too many to be a count of tablets, so
                    # an amount in the drug's usual unit
                    add(x.drug, (start, c.end()), count, bare, None, owner=x.span)
                continue
            if c.group("n2") and re.fullmatch(r"\d+(?:\.\d+)?", raw) and count >= 5 and (
                    not _COUNTED_AFTER.match(norm[c.end():c.end() + 16])) and any(
                    abs(count - amount * k) < 1e-6 for k in (0.25, 0.5, 1, 2, 3, 4)):
                # "10 mg tabs ... I'm meant to take 5", "I take 20 of lisinopril": a bare number
                # that is a fraction or multiple of the tablet strength is an amount, not a count
                add(x.drug, (start, c.end()), count, unit, None, owner=x.span)
                continue
            add(x.drug, (start, c.end()), amount * count, unit, count, owner=x.span)
    doses = _count_schedules(doses, norm)
    doses.extend(_same_day_totals(norm, doses, strengths))
    return doses


_A_DAY_AFTER = re.compile(rf"\s*(?:(?:{_COUNT_UNITS})\s+)?(?:a|per|each|every)\s+day\b|\s*daily\b|"
                          r"\s*(?:al|por)\s+d[ií]a\b")
"""A whole day's count ("caplets a day"), not the amount so far ("today"), which a later
"4 more tonight" adds to."""


def _count_schedules(doses: list[Dose], norm: str) -> list[Dose]:
    """A count said before its product takes the schedule said after the product's strength:
    "2 of the extra strength tylenol 500mg every 3 hrs" is 1,000 mg 8 times a day, "4 of the
    imodium 2mg caplets a day" is 8 mg a day (the strength's own dose carries the schedule)."""
    out = list(doses)
    for i, d in enumerate(out):
        if d.count is None or d.per_day is not None or d.daily_total or d.weekly:
            continue
        nxt = next((e for e in doses if e is not d and e.drug == d.drug and e.count is None
                    and e.owner == d.owner and 0 <= e.span[0] - d.span[1] <= 60
                    and (e.per_day is not None or e.daily_total)), None)
        if nxt is not None and (nxt.per_day is not None or _A_DAY_AFTER.match(
                norm, nxt.span[1])):
            out[i] = replace(d, per_day=nxt.per_day, daily_total=nxt.daily_total)
    return out


# ------------------------------------------------------------ repeated doses in one day
_RN = (r"\d{1,4}(?:\.\d+)?|one|two|three|four|five|six|a couple of|couple of|"
       r"[一两二三四五六七八九十]+|dos|tres|cuatro")
_REPEAT_UNIT = (rf"(?:\s*(?:mg|mcg)?\s*(?:{_COUNT_UNITS}|ones?|doses?|liquicaps?|gummies|"
                r"shots?|pastillas?|tabletas?|comprimidos?))?")
_REPEAT_NEXT = (r"(?=\s*(?:at|around|about|before|after|in the|this|that|later|when|because|"
                r"and|then|an hour|\w+ (?:hours?|minutes?|mins?) (?:later|after)|\d|[,.;!?]|$))")
_REPEAT = re.compile(
    rf"\b(?:another|one more)(?:\s+(?P<n1>{_RN}))?{_REPEAT_UNIT}{_REPEAT_NEXT}"
    rf"|(?<![a-z0-9.])(?P<n2>{_RN})\s+more{_REPEAT_UNIT}{_REPEAT_NEXT}"
    rf"|\b(?:a|the|my) (?:second|third|fourth|fifth|2nd|3rd|4th|5th)"
    rf"(?:\s+(?P<n5>{_RN}))?{_REPEAT_UNIT}{_REPEAT_NEXT}"
    rf"|(?:,|\band|\bthen)\s+(?P<n6>{_RN}){_REPEAT_UNIT}\s+(?=(?:at|around) (?:\d|noon|night|"
    r"bedtime|lunch|dinner|midnight)|before (?:bed|dinner|lunch)|in the (?:morning|afternoon|"
    r"evening)|with (?:breakfast|lunch|dinner|supper))"
    rf"|\by\s+(?P<n7>{_RN})(?:\s*(?:gramos?|g|mg|{_COUNT_UNITS}|pastillas?|tabletas?|"
    r"comprimidos?))?\s+(?=(?:en|con) (?:la cena|el desayuno|la comida|el almuerzo)|por la "
    r"(?:noche|tarde|mañana)|antes de (?:dormir|acostarme)|a las \d)"
    r"|\b(?:and |then )?again (?=at|around|before|after|in the|this|that|later)"
    r"|\b(?:took|take|gave|had) (?:it|them|one|some)? ?again\b"
    rf"|\botras?(?:\s+(?P<n3>{_RN}))?(?=\s*(?:a las|más tarde|después|por la|en la|[,.;]|$))"
    r"|又(?:吃|服|喝|用|喂)了?(?P<n4>[一两二三四五六七八九十\d]+)?(?:片|粒|颗|次|袋)?")
_SAME_DAY = re.compile(
    r"\bat \d|\b\d{1,2}(?::\d\d)?\s*(?:am|pm|a\.m\.|p\.m\.)|\b(?:noon|midnight|lunch|"
    r"breakfast|dinner|supper|bed|bedtime|morning|afternoon|evening|tonight|today|later|"
    r"so far|an hour|hours? later)\b|小时后|早上|中午|下午|晚上|今天|睡前|上午|凌晨|"
    r"\ba las \d|\bhoy\b|\bluego\b|\bdespu[eé]s\b|\b(?:el desayuno|la cena|la comida|el almuerzo|"
    r"por la noche)\b")
_DAY_CHANGE = re.compile(
    r"\b(?:yesterday|tomorrow|next day|following day|day after|day before|days? later|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?|last night|week|weekly|every other day)\b|"
    r"昨天|明天|第二天|隔天|次日|\bayer\b|\bmañana\b")


_AT_BEDTIME = re.compile(r"\s*(?:at bedtime|before bed(?:time)?|at night|tonight|"
                         r"in the (?:morning|afternoon|evening)|at (?:breakfast|lunch|noon)|"
                         r"with (?:breakfast|lunch))\b")
"""'... and now I'm about to take 2 at bedtime', '2 in the morning and 2 at night': a time of
day in a sequence of doses, not a once-daily schedule."""


def _same_day_totals(norm: str, doses: Sequence[Dose],
                     strengths: dict[str, tuple[float, str]]) -> list[Dose]:
    """Doses of one drug repeated through a day ("2 Advil at 8, another 2 at noon and 2 more
    at 4", "Imitrex 100 at 8am, another at 10 and a third at 2pm", "吃了一片，两小时后又吃了
    一片"), added up as what was taken that day. Only when the text marks the times of day and
    names no other day; a repeat without a number repeats the previous amount."""
    if not doses or not _REPEAT.search(norm) or _DAY_CHANGE.search(norm):
        return []
    events: list[tuple[int, int, str, float, str, float | None, bool]] = []
    for d in sorted(doses, key=lambda d: d.span):
        timed = d.per_day == 1.0 and bool(_AT_BEDTIME.match(norm, d.span[1]))
        if (d.per_day is None or timed) and not d.weekly and not d.daily_total and not any(
                e[0] < d.span[1] and d.span[0] < e[1] for e in events):
            events.append((d.span[0], d.span[1], d.drug, d.amount, d.unit, d.count, False))
    counted = {e[2] for e in events if e[5] is not None}
    # "Viagra 100 ... I take one before dinner": the bare number was the strength
    events = [e for e in events if e[5] is not None or e[2] not in counted]
    if not events:
        return []
    taken = [(d.span[0], d.span[1]) for d in doses]
    for r in _REPEAT.finditer(norm):
        sentence_end = re.search(r"[.!?。！？\n]|$", norm[r.end():])
        tail = norm[r.end():r.end() + (sentence_end.end() if sentence_end else 0)]
        head = norm[max(0, r.start() - 40):r.start()]
        if tail.rstrip().endswith(("?", "？")) and re.search(
                r"\b(?:can|could|should|may|is it|would)\b[^.!?]*$|可以|能", head):
            continue  # "can I take a fourth one?": asked about, not taken
        before = [e for e in events if e[1] <= r.start()]
        if not before:
            continue
        prev = max(before, key=lambda e: e[1])
        if any(s <= r.start() < e or r.start() <= s < r.end() for s, e in taken):
            # already counted as a dose ("took 2 more"); it still marks a repeat
            events = [(*e[:6], True) if e[0] >= r.start() and e[0] < r.end() + 2 else e
                      for e in events]
            continue
        raw = next((r.group(k) for k in ("n1", "n2", "n3", "n4", "n5", "n6", "n7") if r.group(k)),
                   None)
        drug, amount, unit, count = prev[2], prev[3], prev[4], prev[5]
        if raw is not None:
            try:
                n = _to_number(raw)
            except (ValueError, KeyError):
                continue
            strength = strengths.get(drug)
            if strength is not None and (n == strength[0] or n > 12):
                amount, unit, count = n, strength[1], None
            elif strength is not None and 0 < n <= 12:
                amount, unit, count = n * strength[0], strength[1], n
            else:
                continue
        events.append((r.start(), r.end(), drug, amount, unit, count, True))
    out: list[Dose] = []
    for drug in {e[2] for e in events}:
        mine = sorted(e for e in events if e[2] == drug)
        if len(mine) < 2 or not any(e[6] for e in mine[1:]):
            continue
        region = norm[mine[0][0]:mine[-1][1] + 30]
        if not _SAME_DAY.search(region):
            continue
        unit = mine[0][4]
        total = 0.0
        for e in mine:
            value = e[3] if e[4] == unit else _mass(e[3], e[4], unit)
            if value is None:
                break
            total += value
        else:
            counts = [e[5] for e in mine]
            count = sum(c for c in counts if c is not None) if all(
                c is not None for c in counts) else None
            out.append(Dose(drug, (mine[0][0], mine[-1][1]), total, unit, None, True, False,
                            count))
    return out


def _mass(amount: float, unit: str, target: str) -> float | None:
    mg, factor = to_mg(amount, unit), to_mg(1.0, target)
    return None if mg is None or factor is None else mg / factor


# ------------------------------------------------------------ extended release
_ER_AFTER = re.compile(
    r"^[\s\-]*(?:\d+(?:\.\d+)?\s*(?:mg|mcg|毫克)?\s*)?(?:(?:er|xr|xl|sr|cr)\b|"
    r"(?:extended|sustained|modified|controlled|slow|prolonged)[- ]release|"
    r"(?:8|12|24)[- ]?(?:hour|hr)\b(?!s)|缓释|控释)")
_ER_AFTER_UPPER = re.compile(r"^[\s\-]*(?:\d+(?:\.\d+)?\s*(?:mg)?\s*)?(?:LA|CD|XT|MR)\b")
_ER_BEFORE = re.compile(r"(?:\b(?:extended|sustained|modified|controlled|slow|prolonged)"
                        r"[- ]release|\blong[- ]acting|缓释|控释)\s*$")
_ER_BEFORE_UPPER = re.compile(r"\b(?:ER|XR|XL|SR|CR)\s*$")
_NOT_ER_USE = re.compile(r"\b(?:breakthrough|prn|as needed|rescue|immediate[- ]release|ir|"
                         r"instead of|rather than|not|never|don't|do not|no more (?:often )?than|"
                         r"at least)\b|短效|必要时|不要|不能|至少")


@dataclass(frozen=True, slots=True)
class ReleaseUse:
    """An extended-release form and how often the text says it is taken."""

    drug: str
    span: tuple[int, int]
    per_day: float
    """The most frequent schedule said for it."""
    patch: bool = False
    """A transdermal patch replaced ``per_day`` times a day ("a new one every morning")."""


def is_extended_release(text: str, m: Mention, kb: DrugKB) -> bool:
    """The mention names an extended-release form of a drug that has one ("OxyContin",
    "metformin ER", "Tylenol 8 HR", "硝苯地平控释片")."""
    drug = kb.drugs.get(m.drug)
    if drug is None or drug.extended_release is None:
        return False
    norm = _norm(text)
    surface = norm[m.span[0]:m.span[1]]
    return bool(surface in {n.casefold() for n in drug.extended_release.names}
                or _ER_AFTER.match(norm[m.span[1]:m.span[1] + 30])
                or _ER_AFTER_UPPER.match(text[m.span[1]:m.span[1] + 30])
                or _ER_AFTER.match(surface[len(surface.split()[0]):] if " " in surface else "")
                or _ER_BEFORE.search(norm[max(0, m.span[0] - 30):m.span[0]])
                or _ER_BEFORE_UPPER.search(text[max(0, m.span[0] - 6):m.span[0]]))


def find_release(text: str, mentions: Sequence[Mention], kb: DrugKB) -> list[ReleaseUse]:
    """Extended-release forms ("OxyContin", "metformin ER", "硝苯地平控释片") and the most
    frequent schedule said for each, up to the next drug named."""
    norm = _norm(text)
    out: list[ReleaseUse] = []
    named = sorted(m.span for m in mentions if m.drug or m.klass)
    for m in mentions:
        drug = kb.drugs.get(m.drug)
        if drug is None or drug.extended_release is None or not m.current:
            continue
        if not is_extended_release(text, m, kb):
            continue
        end = next((s for s, _ in named if s >= m.span[1]), len(norm))
        window = norm[m.span[1]:min(end, m.span[1] + 300)]
        best = 0.0
        last = 0
        for pattern, kind in _FREQ_PATTERNS:
            if kind not in ("q", "n", "2", "3", "4", "hourly"):
                continue
            for f in pattern.finditer(window):
                lead = window[max(0, f.start() - 40):f.start()]
                brk = max(lead.rfind(c) for c in ".;!?。；！？,，")
                if _NOT_ER_USE.search(lead[brk + 1:] + " " + window[f.start():f.end() + 25]):
                    continue
                per_day, _, _ = _frequency(f.group(0))
                if per_day is not None and per_day > best:
                    best, last = per_day, f.end()
        if best:
            out.append(ReleaseUse(m.drug, (m.span[0], m.span[1] + last), best))
    out.extend(_patch_changes(norm, mentions, kb))
    return out


_PATCH_WORDS = re.compile(r"\bpatch(?:es)?\b|\btransdermal\b|\bparches?\b|透皮|贴")


def patch_context(window: str, names: Sequence[str]) -> bool:
    """The (casefolded) text around a mention or a dose speaks of a patch: "patch",
    "transdermal", "parche", 贴 (贴剂, 贴片), 透皮, or a brand that means the patch."""
    return bool(_PATCH_WORDS.search(window)) or any(n.casefold() in window for n in names)

_PATCH_CHANGE = re.compile(
    r"\b(?:new|fresh|another|second)\s+(?:one|patch)\s+(?:on\s+)?|"
    r"\b(?:chang|replac|swap)\w*\s+(?:it|them|(?:the|my|her|his|their) (?:[\w-]+ ){0,2}?"
    r"patch(?:es)?|(?:a |the )?(?:new |fresh )?(?:one|patch))?\s*|"
    r"\b(?:put|stick|slap|apply|applying|putting|sticking)\w*\s+(?:on\s+)?(?:a\s+)?(?:new|fresh|"
    r"another)\s+(?:one|patch)\s+(?:on\s+)?|"
    r"\b(?:cambi\w+|pon\w*|coloc\w+)\s+(?:un parche nuevo|uno nuevo|otro parche|otro|"
    r"el parche(?:\s+de\s+[\w-]+)?)?\s*")
_PATCH_EVERY = re.compile(
    r"^(?:(?:every|each)\s+(?:single\s+)?(?:day|morning|night|evening|(?P<h>\d{1,2})\s*"
    r"(?:h|hrs?|hours))|once a day|daily|(?:cada|todos los)\s+(?:d[ií]as?|ma[ñn]anas?|noches?|"
    r"(?P<h2>\d{1,2})\s*horas)|a diario)\b")
_PATCH_EVERY_ZH = re.compile(r"(?:每天|每日|一天|每晚|每早)(?:都)?(?:换|贴|更换)|"
                             r"(?:每|隔)(?P<h>\d{1,2})(?:个)?小时(?:换|贴|更换)")


def _patch_changes(norm: str, mentions: Sequence[Mention], kb: DrugKB) -> list[ReleaseUse]:
    """A patch replaced more often than its label allows ("I put a new one on every
    morning", "每天换一贴"): each patch delivers days of drug, so daily changes (or a new
    one over the old) can overdose. Only for drugs the knowledge base knows as patches,
    said near a patch word or brand."""
    out: list[ReleaseUse] = []
    for m in mentions:
        drug = kb.drugs.get(m.drug)
        if drug is None or drug.patch is None or drug.patch.min_wear_hours is None:
            continue
        window = norm[max(0, m.span[0] - 120):m.span[1] + 200]
        if not patch_context(window, drug.patch.names):
            continue
        hours: float | None = None
        for c in _PATCH_CHANGE.finditer(window):
            every = _PATCH_EVERY.match(window[c.end():c.end() + 30])
            if every is None:
                continue
            lead = window[max(0, c.start() - 30):c.start()]
            if _NOT_ER_USE.search(lead[max(lead.rfind(x) for x in ".;!?,") + 1:]):
                continue
            h = every.group("h") or every.group("h2")
            got = float(h) if h else 24.0
            hours = got if hours is None else min(hours, got)
        for z in _PATCH_EVERY_ZH.finditer(window):
            lead = window[max(0, z.start() - 8):z.start()]
            if re.search(r"不要|不能|" + ZH_DONT + r"|不用", lead):
                continue
            got = float(z.group("h")) if z.group("h") else 24.0
            hours = got if hours is None else min(hours, got)
        if hours is not None and 0 < hours < drug.patch.min_wear_hours:
            out.append(ReleaseUse(m.drug, m.span, 24.0 / hours, patch=True))
    return out


_AMOUNT_RESTATED = re.compile(r"\d\s*(?:mg|mcg|g|ml|毫克|克)\s*[(（]\s*(?:or\s+|=\s*|即\s*)?$")
_PAIR_STRENGTH = re.compile(r"\s*(?:tabs?\s+|tablets?\s+)?(?P<x>\d+(?:\.\d+)?)\s*/\s*"
                            r"(?P<y>\d+(?:\.\d+)?)\s*(?P<unit>mg|mcg)?\b(?!\s*(?:ml|mL|h))")
"""The strengths of a two-drug combination after its two names ("hydrocodone/APAP 10/325")."""
_DAILY_AFTER = re.compile(r"\s*(?:a|per|each|every)\s+day\b|\s*daily\b|\s*/\s*d(?:ay)?\b|"
                          r"\s*(?:每天|每日|一天)")
_DAILY_AFTER_NAME = re.compile(r"\s*(?:of|de)\s+[\w-]+\s+(?:a|per|each|every)\s+day\b|"
                               r"\s*(?:of|de)\s+[\w-]+\s+(?:daily|al\s+d[ií]a|diarios?)\b")
"""An amount of a named drug per day ("2,6 g de paracetamol al día"): no unit's strength."""
_LIMIT_BEFORE = re.compile(r"(?:[≤<]=?|\b(?:max|maximum|no more than|not more than|at most|"
                           r"limit of|exceed)|最多|不超过|最大|上限|"
                           rf"{_NOT_RAISED_UP_TO}\bup to)[^.;!?。，,]{{0,12}}$")


_PER_UNIT_NEXT = re.compile(r"[\s,，;；(（]*(?:每片|每粒|每颗|每支|一片|一粒|"
                            r"each (?:tablet|pill|cap\w*) (?:is )?)\s*$")
_PER_UNIT_AFTER = re.compile(r"\s*(?:each|apiece|per (?:tablet|pill|cap\w*)|/片|/粒|一片|一粒|"
                             r"每片)")
"""A strength said after a count, per unit: "一次4片，每片0.2g", "3 tablets, 400 mg each"."""
_PACKAGE_BEFORE = re.compile(
    r"\b(?:box|boxes|pack|packs|packet|bottle|container|blister|strip|carton|tub|jar|"
    r"supply|prescription|script|refill)\s+(?:of|has|had|with|contains?|holds?|came with)\s+"
    r"(?:(?:the|my|a)\s+)?(?:\w+\s+){0,2}$|"
    r"\b(?:contains?|holds?|came with|comes with|dispensed|bought)\s+(?:a total of\s+)?$|"
    r"(?:一盒|一瓶|每盒|每瓶|盒|瓶)(?:有|装|里有)?\s*$|"
    r"\b(?:caja|frasco|envase) (?:de|con|trae)\s+$")
"""Words before a count that make it a pack size, not a dose ("a box of 24 tablets",
"the bottle has 100", "一盒24片")."""


def _package(text: str, start: int) -> bool:
    return bool(_PACKAGE_BEFORE.search(text[max(0, start - 40):start]))


_COUNT_JUST_BEFORE = re.compile(
    r"(?:^|[\s(]|(?<=[\u4e00-\u9fff]))(\d{1,2}|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"[一两二三四五六七八九十])\s*(?:x|×|\*|of the|of my|of those|of these|of|"
    r"(?:片|粒)\s*[（(]?)?\s*$")
_TOTAL_IN_BRACKETS = re.compile(
    rf"\s*[（(]\s*{_NUM}\s*(?:mg|mcg|μg|g|grams?|毫克|微克|克)(?![a-z])"
    r"(?!\s*(?:each|per|apiece|a piece|/|的|每|cada))")
"""An amount in brackets right after a count of units ("4 caplets (8 mg)"): their total, as
"每次4片（10毫克）" is, unless it says it is each one's ("2 tablets (500 mg each)")."""
_LINK_TO_TOTAL = (
    r"(?:\b(?:is|are|=|makes?|comes? to|equals?|totals?|adds? up to|that'?s|thats|son|"
    r"ser[ií]an?|suman?)|=|就是|一共是?|总共是?|合计)\s*(?:already |about |around |roughly |"
    r"only |just |a total of |approximately |~|ya |unos |casi |约|大约)?")
_LINKED_TOTAL = re.compile(
    rf"(?<![a-z0-9.])(?:{_N}|[一两二三四五六七八九十])\s*(?:[a-z]+\s+){{0,3}}?"
    rf"(?:{_COUNT_UNITS}|sobre|comprimidos?|c[aá]psulas?|包)"
    r"[^.;!?。；！？\n]{0,30}?"
    rf"{_LINK_TO_TOTAL}(?:每天|每日|一天)?\s*$")
"""A count of units linked to the amount after it ("2 caplets twice a day is 2,000 mg",
"一次4粒一天3次就是每天3.6克"): that amount is their total, not one unit's strength."""
_COUNT_THEN_TOTAL = re.compile(
    rf"[^.;!?。；！？\n]{{0,30}}?{_LINK_TO_TOTAL}(?:每天|每日|一天)?\s*{_NUM}\s*"
    r"(?:mg|mcg|μg|g|grams?|gramos?|毫克|微克|克)(?![a-z])"
    r"(?!\s*(?:each|per|apiece|a piece|/|的|每|cada))")
"""The same link seen from the count: the count is not multiplied by a strength."""
_MULTIPLIED = re.compile(r"(?:x|×|\*|of the|of my|of those|of these|(?:片|粒)\s*[（(]?)\s*$")
_COUNT_REACH = 200
"""How far before an amount its count is looked for: the count and its "x" or "of the" are
a few characters (the search of everything before every amount was quadratic)."""


def _count_before(sentence: str, pos: int) -> float | None:
    """"two 500 mg tablets", "2 x 500mg", "3 of the 200mg": the count before an amount."""
    # searched in the text up to ``pos`` (``$`` matches there), from ``_COUNT_REACH``
    # before it (``^`` still matches only at the real start, lookbehinds see before it)
    lo = max(0, pos - _COUNT_REACH)
    m = _COUNT_JUST_BEFORE.search(sentence, lo, pos)
    if m is None or _package(sentence, m.start(1)):
        return None
    after = sentence[pos:pos + 40]
    spelled = not m.group(1).isdigit()
    unit_after = rf"\S+\s*(?:\S+\s*)?(?:{_COUNT_UNITS})"
    multiplied = _MULTIPLIED.search(sentence, lo, pos)
    if not spelled and not re.match(unit_after, after) and not multiplied:
        return None
    if multiplied and re.search(r"[（(]\s*$", multiplied.group()) and not re.match(
            r"[\d.]+\s*(?:mg|mcg|μg|g|毫克|微克|克)\s*(?:的|/片|/粒|每片|一片|each|per)", after):
        return None  # "每次4片（10毫克）" is the total of the 4; "4片（5mg的）" is per tablet
    if m.start(1) > 0 and _CJK.match(sentence[m.start(1) - 1]) and not multiplied:
        return None  # "吃8片500毫克" counts; a number run into other Chinese text does not
    value = _to_number(m.group(1))
    return value if 0 < value <= 40 else None


_STRONG_BREAK = re.compile(r"[.;!?。；！？\n](?!\d)|\s(?:but|and then|then)\s")


def _clause(text: str, start: int, end: int) -> tuple[str, str]:
    """(before, after): the text around a dose that can hold its frequency, up to the
    sentence's edge or the neighbouring dose. Frequencies usually follow the dose."""
    hi = min(len(text), end + 60)
    brk = _STRONG_BREAK.search(text, end, hi)
    if brk is not None:
        hi = brk.start()
    nxt = _DOSE.search(text, end, hi)
    if nxt is not None and (re.fullmatch(r"\s*\(\s*", text[end:nxt.start()]) or (
            nxt.start() - end <= 10 and _PER_UNIT_NEXT.search(text[end:nxt.start()]))):
        # "4 Benadryl (25mg) every 4 hours", "每次3片(每片500毫克)，一天三次": the strength
        # of one unit is no neighbouring dose
        nxt = _DOSE.search(text, nxt.end(), hi)
    while nxt is not None and _CONC_AFTER.match(text[nxt.end():nxt.end() + 16]):
        # "7.5 mL of Children's Tylenol (160 mg/5 mL) every 2 hours": a concentration is
        # no neighbouring dose either
        nxt = _DOSE.search(text, nxt.end(), hi)
    if nxt is not None:
        hi = nxt.start()
    lo = max(0, start - 50)
    for m in _STRONG_BREAK.finditer(text, lo, start):
        lo = m.end()
    for prev in _DOSE.finditer(text, lo, start):
        lo = prev.end()
    return text[lo:start], text[end:hi]


# ---------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Facts:
    """What the conversation says about the patient. None = not said."""

    age_years: float | None = None
    age_at_most: float | None = None
    """Upper bound from a word ("baby", "toddler", "newborn") when no age is given."""
    child: bool = False
    weight_kg: float | None = None
    pregnant: bool = False
    pregnant_other: bool = False
    """The pregnancy is someone else's ("my wife is pregnant"): it applies to medicines
    named for her, not to the writer's own."""
    pregnancy_week: int | None = None
    planning_pregnancy: bool = False
    breastfeeding: bool = False
    egfr: float | None = None
    dialysis: bool = False
    """On dialysis or in kidney failure: below every renal threshold (CrCl < 15)."""
    renal: str | None = None
    """'severe' (dialysis, failure, CKD 4-5, eGFR < 30), 'moderate' (CKD 3), 'any'."""
    hepatic: str | None = None
    """'severe' (cirrhosis, liver failure, Child-Pugh C), 'moderate', 'any'."""
    allergies: frozenset[str] = field(default_factory=frozenset)
    """Drug ids and class ids the patient is allergic to."""
    allergies_other: frozenset[str] = field(default_factory=frozenset)
    """Allergies of someone else the writer names ("my son is allergic to amoxicillin"):
    they do not apply to the writer's own medicine."""
    opioid_naive: bool = False
    """Not already taking opioids ("opioid-naive", "never had opioids")."""
    hla_positive: frozenset[str] = field(default_factory=frozenset)
    """HLA alleles a test found ("HLA-B*1502 positive": {"B*15:02"})."""

    def merge(self, other: Facts) -> Facts:
        """Later statements fill in what earlier ones left out."""
        def pick(a: Any, b: Any) -> Any:
            return b if b not in (None, False) else a

        values: dict[str, Any] = {
            name: (getattr(self, name) | getattr(other, name))
            if name in ("allergies", "allergies_other", "hla_positive")
            else pick(getattr(self, name), getattr(other, name))
            for name in self.__dataclass_fields__
        }
        return Facts(**values)

    @property
    def is_child(self) -> bool:
        if self.age_years is not None:
            return self.age_years < 18
        return self.child or (self.age_at_most is not None and self.age_at_most < 18)

    @property
    def older_adult(self) -> bool:
        return self.age_years is not None and self.age_years >= 65

    @property
    def upper_age(self) -> float | None:
        return self.age_years if self.age_years is not None else self.age_at_most


_NEG = r"(?:not|no|never|isn't|aren't|am not|i'm not|im not|don't|do not|without|denies|negative)"
_AGE = [
    re.compile(r"\b(\d{1,3})\s*(?:-|\s)?\s*(?:years?|yrs?|yr|y)\s*(?:-|\s)?\s*(?:old|o)\b"),
    re.compile(r"\b(\d{1,3})\s*(?:yo|y/o|y\.o\.)\b"),
    re.compile(r"\b(?:aged?|age:?)\s*(\d{1,3})\b"),
    # (not a temperature's last digit: "temp of 100.8 F")
    re.compile(r"\b(?<![\d.,])(\d{1,3})\s*(?:m|f|male|female|man|woman|boy|girl)\b"
               r"(?!\s*(?:mg|kg|g)\b)"),
    re.compile(r"(\d{1,3})\s*(?:岁|周岁)"),
    re.compile(r"\b(?:i'?m|i am|im|he'?s|she'?s|he is|she is|is)\s+(\d{2})\b(?![\d/]|\.\d|\s*(?:"
               r"weeks?|wks?|"
               r"months?|kg|lbs?|mg|%|cm|years? (?:ago|since)|times|days|hours|units?|iu|ml|"
               r"mcg|micrograms?|puffs?|tablets?|pills?|caps(?:ules)?))"),
    re.compile(r"\b(\d{1,3})\s*a[ñn]os\b"),
    re.compile(r"\b(?:mujer|var[oó]n|hombre|paciente|se[ñn]ora|se[ñn]or)\s+(?:de\s+)?(\d{1,3})\s*a\b"),
    # "son is 4, 35 lbs": one digit after a child word (not after any "is": "INR is 4")
    re.compile(r"\b(?:son|daughter|kid|child|boy|girl|grandson|granddaughter|toddler|niece|"
               r"nephew|little one)\s+(?:is|who'?s|who is|just turned|turned|is now|is only)\s+"
               r"(\d{1,2})\b(?![\d/]|[.,]\d|\s*(?:weeks?|wks?|months?|mos?|kg|lbs?|pounds?|mg|ml|%|"
               r"cm|days?|hours?|times|am|pm|o'?clock|:|ft|feet|foot|'))"),
]
_AGE_MONTHS: list[tuple[re.Pattern[str], float]] = [  # (pattern, units in a year)
    (re.compile(r"\b(\d{1,2})\s*(?:-|\s)?\s*(?:months?|mos?|mo)\s*(?:-|\s)?\s*old\b"), 12),
    (re.compile(r"\b(\d{1,2})\s*(?:-|\s)?\s*(?:weeks?|wks?)\s*(?:-|\s)?\s*old\b"), 52),
    (re.compile(r"\b(\d{1,2})\s*(?:-|\s)?\s*days?\s*(?:-|\s)?\s*old\b|出生(\d{1,2})天|"
                r"(\d{1,2})天大"), 365),
    (re.compile(r"(\d{1,2})\s*(?:个月|月龄)"), 12),
    (re.compile(r"\b(\d{1,2})\s*mes(?:es)?\b"), 12),
    # "lactante de 6 semanas", "3 semanas de vida", "10 días de vida"
    (re.compile(r"\b(?:lactante|beb[eé]|reci[eé]n nacid[oa]|neonato|hij[oa]|niñ[oa])\s+de\s+"
                r"(\d{1,2})\s+semanas\b|\b(\d{1,2})\s+semanas\s+de\s+vida\b|"
                # "mi bebé tiene 6 semanas"
                r"\b(?:beb[eé]|hij[oa]|niñ[oa]|nen[ae]|lactante)\s+(?:\w+\s+){0,2}?tiene\s+"
                r"(\d{1,2})\s+semanas\b"), 52),
    (re.compile(r"\b(\d{1,2})\s+d[ií]as\s+de\s+vida\b|\b(?:beb[eé]|reci[eé]n nacid[oa]|"
                r"neonato)\s+de\s+(\d{1,2})\s+d[ií]as\b"), 365),
]
_CHILD_WORDS: list[tuple[re.Pattern[str], float | None]] = [
    (re.compile(r"\b(?:newborn|neonate)s?\b|新生儿"), 0.1),
    # (not the mother's own words about the birth: "生完宝宝20周", "had my baby")
    (re.compile(r"\b(?<!had my )(?<!had a )(?:infant|baby(?! aspirin)|bebé|lactante)\b|婴儿|"
                r"(?<!生完)(?<!生了)(?<!生下)宝宝"), 1.0),
    (re.compile(r"\b(?:toddler)s?\b|幼儿"), 3.0),
    (re.compile(r"\b(?:my|our|her|his|the)\s+(?:child|kid|son|daughter|little one|boy|girl)\b|"
                r"\b(?:children|kids|pediatric|paediatric|niño|niña|hijo|hija)\b|孩子|儿童|小孩|患儿|"
                r"^\W*(?:child|boy|girl)\b(?![- ]pugh)|"
                r"\b(?:\d+(?:\.\d+)?\s*kg|a|pt|patient)\s+(?:child|boy|girl)\b(?![- ]pugh)|"
                r"儿子|女儿"), None),
]
_WEIGHT = re.compile(
    # (a decimal comma: "4,5 kg")
    r"(\d{1,3}(?:\.\d+|,\d{1,2}(?!\d))?)\s*(kg|kgs|kilos?|kilograms?|lbs?|pounds?|公斤|千克|斤)"
    r"(?![a-z])")
_PREGNANT = re.compile(
    r"\b(?:i'?m|i am|im|she'?s|she is|my wife is|my partner is|currently|being|now)\s+"
    r"(?:\d{1,2}\s*(?:weeks?|wks?|months?)\s+)?pregnant\b|\b\d{1,2}\s*(?:weeks?|wks?)\s+pregnant\b"
    r"|\bpregnant (?:with|woman|women|patient|lady|pt)\b|\b(?:my|her|during|in) pregnancy\b|"
    r"\bexpecting (?:a baby|twins)\b|\b(?:i'?m|i am|im|she'?s|she is)\s+expecting"
    r"(?=\s*(?:[,.;!?]|$|and\b|but\b|so\b|now\b|again\b|\d|my (?:first|second|third)\b|"
    r"(?:in|due)\b))|\b\d{1,2}\s*(?:weeks?|wks?)\s+along\b|"
    r"\b(?:first|second|third|1st|2nd|3rd) trimester\b|"
    r"\bpregnant\b|\bembarazada\b|\bgestante\b|"
    # "estoy de 14 semanas" (not "de vida"/"nacido"); "took a test ... I was late and it's positive"
    r"\b(?:estoy|esta|est[aá]s)\s+de\s+\d{1,2}\s+semanas\b(?!\s+de\s+(?:nacid|vida))|"
    r"\b(?:took|did|done)\s+a\s+(?:home\s+)?test\b[^.]{0,40}\b(?:late|period)\b[^.]{0,40}"
    r"\bpositive\b|\b(?:test|prueba)\s+de\s+embarazo\s+(?:\w+\s+){0,2}"
    r"positiv\w*|\bpositiv\w*\s+(?:\w+\s+){0,3}(?:test|prueba)\s+de\s+embarazo|"
    r"怀孕|孕期|孕妇|孕\d+周|孕早期|孕中期|孕晚期|妊娠|"
    r"\bpositive pregnancy test\b|\bpositive (?:serum |urine )?b?-?hcg\b|"
    r"\bb?-?hcg (?:is |was |came back )?positive\b|"
    r"\b(?:ob|obstetric|antenatal|prenatal|l&d|labou?r and delivery)\b[^.;]{0,40}\bat \d{1,2} ?"
    r"(?:weeks|wks)\b|\bpregnancy test (?:was |is |came back )?positive\b|"
    r"\b\d{1,2}\s?/\s?40\b|\bweeks'? (?:of )?gestation\b|\bgestational age\b|"
    r"\bg\d(?:\s?p\d)?\b[^.;]{0,12}\bat \d{1,2} ?(?:weeks|wks?)\b|"
    r"\b(?:urine |serum )?b?-?hcg\s*(?:\+|\(\+\)|pos\b)|"
    r"\bg\d\s?p\d\b[^.;]{0,15}?\b\d{1,2}\s*(?:\+\s*\d\s*)?(?:weeks|wks?)\b(?!\s+(?:ago|postpartum|pp))|"
    r"\b(?:period is|period's) (?:\d+ (?:days?|weeks?) )?late\b"
)
_PREG_STRONG = re.compile(
    r"\b(?:i'?m|i am|im|she'?s|she is)\s+(?:\d{1,2}\s*(?:weeks?|wks?|months?)\s+)?pregnant\b|"
    r"\b\d{1,2}\s*(?:weeks?|wks?)\s+pregnant\b|trimester|怀孕了|孕\d+周")
_PREG_WEEK = re.compile(r"\b(\d{1,2})\s*(?:weeks?|wks?)\s*(?:pregnant|gestation|along)\b|"
                        r"\b(\d{1,2})\s?/\s?40\b|\bat (\d{1,2}) weeks\b|"
                        r"孕\s*(\d{1,2})\s*周|\b(\d{1,2})\s*weeks? into (?:my|the|her) pregnancy|"
                        r"~\s*(\d{1,2})\s*(?:weeks?|wks?)\b|\b(\d{1,2})\s*semanas\b|"
                        r"\bat (\d{1,2}) wks?\b|"
                        r"\b(\d{1,2})\s*(?:wks?|weeks)\s+by\s+(?:dates|lmp|us|ultrasound|scan)\b|"
                        # "Pregnant lady, 8 weeks", "pregnant (11 wks)"
                        r"\bpregnant(?:\s+(?:lady|woman|patient|pt|mum|mom))?\s*[,:(-]?\s*"
                        r"(\d{1,2})\s*(?:weeks?|wks?)\b")
_TRIMESTER = re.compile(r"\b(first|second|third|1st|2nd|3rd) trimester\b|孕(早|中|晚)期")
_PLANNING = re.compile(r"\b(?:trying to (?:get pregnant|conceive|have a baby)|(?:start )?trying "
                       r"for a baby|planning (?:a|to get|"
                       r"to become) pregnan\w*|want to get pregnant|ttc)\b|备孕|准备怀孕|"
                       r"(?<!不)(?<!不打算)想要孩子")
_PREG_NEG = re.compile(
    rf"\b{_NEG}\b[^.;!?]{{0,20}}pregnant|\bpregnancy test (?:was |is )?negative|not planning"
    r"|\b(?:b?hcg|pregnancy test|upt)\s*(?:is |was |came back )?(?:negative|neg)\b"
    r"|\bnegative (?:b?hcg|pregnancy test)\b"
    r"|没有怀孕|没怀孕|未怀孕|不是孕妇|if (?:i|she) (?:were|was|get|gets|became) pregnant|"
    r"\bbefore (?:i|she) (?:got|get) pregnant\b|\bafter (?:the |my )?pregnancy\b"
)
_BREASTFEEDING = re.compile(r"\b(?:breast-?feeding|breastfeed|nursing (?:my|a|her|the) (?:baby|"
                            r"newborn|infant|son|daughter)|lactating|"
                            r"(?:i'?m|i am|im) (?:still |currently |exclusively )?nursing|"
                            r"still nursing|nursing (?:him|her) (?:morning|at night|every)|pumping|"
                            # "can I take Zyrtec while nursing?", "safe when nursing"
                            r"(?:while|when|whilst) (?:i'?m |i am |im )?nursing|"
                            r"breast milk)\b|哺乳|母乳喂养|喂奶|喂母乳|吃母乳|lactancia|"
                            r"amamantando|"
                            r"(?:doy|dar|d[aá]ndole|dando) (?:el |de )?(?:pecho|mamar)|"
                            r"\bnursing (?:my|a|her) \d{1,2}[- ](?:month|week|day)s?[- ]old|"
                            # clinical shorthand: "exclusively BF", "continue BF?", "OK for BF"
                            r"\b(?:exclusively|exclusive|excl|currently|continue|continuing|"
                            r"ok for|okay for|safe (?:for|in|with)|while|compatible with) bf\b|"
                            r"\bbf(?:ing)? (?:a |her |my )?\d{1,2}[- ]?(?:mo|month|wk|week)s?\b")
_BF_NEG = re.compile(rf"\b{_NEG}\b[^.;!?]{{0,20}}(?:breast-?feeding|nursing)|stopped "
                     r"breast-?feeding|不再哺乳|已经断奶|断奶了|不喂奶|不再喂奶|改喝奶粉|"
                     r"没(?:有)?喂母乳|奶粉喂养|人工喂养|not nursing|formula[- ]feeding|"
                     r"no longer (?:breast-?feeding|nursing)|"
                     # "has decided to stop breastfeeding and switch to formula", "fully weaned"
                     r"(?:decided|deciding|going|plans?|planning|chose|wants?) to stop "
                     r"breast-?feeding|switch\w* to formula|fully weaned|stopped nursing|"
                     r"dej[oó] (?:de dar )?(?:el pecho|la lactancia)|"
                     r"ya no (?:doy|le doy) (?:el )?pecho")
_EGFR = re.compile(r"(?<![a-z0-9])(?:e?gfr|crcl|creatinine clearance|cr ?cl|cl ?cr|kidney function|"
                   r"renal function|"
                   r"filtrado glomerular|tasa de filtraci[oó]n glomerular|tfg|filtrado|"
                   r"aclaramiento de creatinina|"
                   r"kidneys? (?:are |is )?(?:work(?:ing|s)?|function(?:ing|s)?) (?:at )?|"
                   r"肌酐清除率|肾小球滤过率|肾功能)\)?\s*"
                   # a short report between the test and its value ("eGFR came back 19",
                   # "CrCl has dropped to 24", "eGFR on my last bloods was 28")
                   r"(?:(?:came|comes|come|coming|back|in|out|as|showed|shows|result(?:s|ed)?|"
                   r"has|have|had|been|is|was|were|'s|now|dropped|fell|fallen|gone|went|down|"
                   r"sitting|reading|measured|checked|latest|recent|recently|last|this|week|"
                   r"month|time|test|tests|bloods?|labs?|on|my|the|it|to|"
                   # Spanish: "el filtrado glomerular está en 20", "ha bajado a 25"
                   r"en|est[aá]|ha|bajado|sali[oó]|a)\s+){0,5}?"
                   r"(?:(?:is|was|has been|'s) (?:now )?(?=at|around|about|down|only|just|under|"
                   r"less))?"
                   r"(?:of|is|was|=|:|at|around|about|<|less than|under|de|es|只有|为|是)?\s*"
                   r"(?:only |just |down to |about |around |~\s*|约\s*|大约\s*|大概\s*|≈\s*)*"
                   r"(\d{1,3}(?:\.\d+)?)(?!\.?\d|\s*(?:g\b|mg|mcg|μg|kg|units?|iu|毫克|克|公斤))")
_RENAL_SEVERE = re.compile(
    r"\b(?:dialysis|haemodialysis|hemodialysis|kidney failure|renal failure|end[- ]stage (?:renal|"
    r"kidney)|esrd|esrf|ckd\s*(?:stage\s*)?(?:4|5|iv|v)\b|stage\s*(?:4|5|iv|v)\s*(?:ckd|kidney|"
    r"chronic kidney)|kidneys? (?:are |have )?(?:failing|shut down|stopped working)|"
    r"kidney transplant waiting)|\bdi[aá]lisis\b|insuficiencia renal (?:cr[oó]nica )?(?:grave|"
    r"terminal|avanzada)|透析|肾衰|尿毒症|肾功能衰竭|终末期肾"
)
_DIALYSIS = re.compile(
    r"\b(?:dialysis|haemodialysis|hemodialysis|kidney failure|renal failure|end[- ]stage (?:renal|"
    r"kidney)|esrd|esrf|ckd\s*(?:stage\s*)?(?:5|v)d?\b|stage\s*(?:5|v)\s*(?:ckd|kidney|chronic "
    r"kidney))|\bdi[aá]lisis\b|透析|血透|腹透|尿毒症|肾衰竭|肾功能衰竭|终末期肾")
_RENAL_MODERATE = re.compile(r"\bckd\s*(?:stage\s*)?(?:3a?b?|iii)\b|\bstage\s*(?:3|iii)\s*(?:ckd|"
                             r"kidney)|慢性肾病\s*3期")
_RENAL_ANY = re.compile(
    r"\b(?:kidney disease|renal disease|renal impairment|renal insufficiency|kidney problems?|"
    r"kidney issues?|bad kidneys|weak kidneys|kidney function is (?:low|poor|reduced|bad)|"
    r"poor kidney function|reduced kidney function|impaired renal|ckd|chronic kidney|"
    r"kidneys? (?:are |is )?(?:bad|weak|poor|not (?:great|good|working well))|"
    r"(?:ri[nñ]ones|ri[nñ][oó]n) (?:le |me )?funcionan? mal|insuficiencia renal|"
    r"enfermedad renal)\b|"
    r"肾功能不全|肾病|肾不好|肾功能差|肾功能下降|肾功能异常|肾功能(?:不太|不是很|很|有点)?不好|"
    r"肾功能(?:减退|受损|偏差)|肾脏不好"
)
_RENAL_NEG = re.compile(
    rf"\b{_NEG}\b[^.;!?]{{0,25}}(?:kidney|renal|ckd|dialysis)|\b(?:normal|healthy|good|fine)\s+"
    r"(?:kidney|renal)|kidneys? (?:are|is|were) (?:fine|normal|healthy|ok|okay|good)|"
    r"肾功能正常|肾没问题|没有肾"
)
_HEP_SEVERE = re.compile(
    r"\b(?:cirrhosis|cirrhotic|liver failure|hepatic failure|end[- ]stage liver|"
    r"severe (?:liver|hepatic) (?:damage|disease|impairment)|"
    r"decompensated|child[- ]pugh\s*(?:class\s*)?c|cirrosis|insuficiencia hep[aá]tica|"
    r"falla hep[aá]tica|"
    # acute and alcoholic hepatitis: "acute hepatitis or liver failure" is the labels' own
    # contraindication (naltrexone, statins' "active liver disease")
    r"acute (?:alcoholic |viral |drug[- ]induced |autoimmune )?hepatitis|alcoholic hepatitis|"
    r"hepatitis (?:aguda|alcoh[oó]lica))\b|肝硬化|肝衰竭|肝功能衰竭|急性肝炎|酒精性肝炎"
)
_CHILD_PUGH = re.compile(r"(?<![a-z])(?:child[- ]pugh\s*(?:class\s*|grade\s*)?|cp-)([abc])"
                         r"(?![a-z])")
_COMPENSATED = re.compile(r"\bcompensated\b|(?<!失)代偿期|cirrosis compensada")
_DECOMPENSATED = re.compile(r"\bdecompensat\w*|失代偿|descompensad")
_HEP_MODERATE = re.compile(r"(?<![a-z])child[- ]pugh\s*(?:class\s*)?b(?![a-z])")
_HEP_ANY = re.compile(
    r"\b(?:liver disease|hepatic impairment|liver damage|liver problems?|bad liver|"
    # "chronic hep B", "my ALT runs a little high"
    r"(?:chronic )?hep\.? ?[bc]\b|(?:alt|ast|lfts?|liver enzymes) (?:runs?|running|always|tends? "
    r"to (?:be|run)) (?:a (?:little|bit) |slightly |mildly )?(?:high|elevated|raised)|"
    r"hepatitis|fatty liver|elevated liver enzymes|liver function is (?:abnormal|bad|poor)|"
    r"hepatic dysfunction|child[- ]pugh|hepatitis b|hbsag(?: is)? positive|positive hbsag|"
    r"(?:liver enzymes|lfts|transaminases|alt|ast) (?:were |are |was |is |came back )?(?:a bit |"
    r"slightly |mildly |quite |very |a little )?(?:high|elevated|raised|up|abnormal))\b|"
    r"\b(?:enfermedad hep[aá]tica|hepatopat[ií]a|problemas? (?:de|del) h[ií]gado)\b|"
    r"乙肝|肝功能不全|肝病|肝炎|肝功能异常|肝不好|脂肪肝"
)
_ALT_ULN = re.compile(r"\b(?:alt|ast|sgpt|sgot)\s*(?:of |is |was |=|:)?\s*(\d{2,4})\s*\(?\s*"
                     r"(?:uln|upper limit(?: of normal)?|normal <|ref(?:erence)? <?)\s*(\d{2,3})")
_HEP_NEG = re.compile(
    rf"\b{_NEG}\b[^.;!?]{{0,25}}(?:liver|hepat)|\b(?:normal|healthy|good|fine)\s+liver|"
    r"\b(?:liver|hepatic) (?:enzymes|tests?|function|panel|lfts?)[^.;!?]{0,25}\bnormal\b|"
    r"\bliver problems?\W{1,4}(?:we|i|he|she) (?:haven't|have not|don't|do not)\b|"
    r"liver (?:is|was|tests? (?:are|were)) (?:fine|normal|ok|okay|good)|肝功能正常|"
    r"\bno\s+(?:signs?\s+of\s+)?cirrhosis\b|"
    r"\bliver\s+blood\s+tests?\s+(?:are|were)\s+(?:all\s+)?(?:normal|fine|ok|okay)\b|"
    r"\bsin\s+(?:hepatopat\w*|enfermedad\s+hep[aá]tica|cirrosis)\b|"
    r"\bperfil\s+hep[aá]tico\s+(?:\w+\s+){0,3}?normal\w*"
)
_ALLERGY = re.compile(
    r"\b(?:allergic|allergy|allergies|alergias?\s*(?=:)|hypersensitivity|anaphylaxis|"
    r"anaphylactic reaction)"
    r"(?:\s+(?:list|history)\s+(?:says|shows|includes|has|lists|of))?\s*"
    r"(?:to|:|-)?\s*(?P<what>[^.;!?\n]{1,60})"
    r"|(?P<before>[^.;!?\n,]{1,25}?)\s*(?:allergy|allergies|allergic reaction)\b"
    r"(?!\s*(?:(?:to|with|from|after|list|history)\b|[:\-]))"
    r"|对(?P<zh>[^。，,；]{1,20}?)过敏"
    r"|过敏史\s*(?:[:：]|写的?是|记录(?:的是|为)|为|有)\s*['‘“\"]?(?P<zh4>[^。；;]{1,40})"
    r"|(?P<zh2>[\u4e00-\u9fff]{2,8}?(?:[（(][^）)。，,]{1,12}[）)])?)(?:过敏(?!史)|皮试阳性)"
    r"|\b(?:sjs|stevens[- ]johnson(?: syndrome)?|ten|toxic epidermal necrolysis|anaphylaxis|"
    r"anaphylactic|angioedema|hives|rash|(?:had|have|got) an? (?:bad |severe |serious )?"
    r"(?:allergic )?reaction|(?:(?:had|have|got) )?(?:an? )?"
    # lay descriptions of an allergic reaction ("my throat closed up after Bactrim")
    rf"{_LAY_REACTION})"
    # "angioedema last year on lisinopril": a few words may come between
    r"(?:\s+(?:last|this|a|few|once|years?|months?|weeks?|ago|back|then|when|in|\d{4})){0,3}"
    # (not across a comma: "hives from something, took 50mg benadryl" names no cause)
    r"\s+(?:with|to|from|after|on)\s+(?!something\b|somewhere\b|who knows\b)"
    r"(?P<what2>[^.;!?\n,]{1,40})"
    r"|\b(?:al[eé]rgic[oa]s?|alergia|alergias)\s+(?:a|al|a la|a los)\s+"
    r"(?P<what3>[^.;!?\n:]{1,40})"
    r"|(?P<rx>[^.;!?\n,]{1,30}?)\s+(?:gave|give|gives) (?:me|him|her|them) (?:a |an )?"
    r"(?:(?:really |very )?(?:bad|severe|terrible|awful|horrible|serious|nasty) )?"
    r"(?:rash|hives|anaphylaxis|sjs|angioedema|swelling|(?:allergic )?reaction)\b"
    r"|(?P<rx2>[^.;!?\n,]{1,30}?)\s+(?:(?:caused|causes|triggered)(?= (?:me |him |her |them )?"
    r"(?:an? )?(?:bad |severe |serious |terrible |allergic )?(?:rash|hives|anaphylaxis|swelling|"
    r"angioedema|reaction|welts|itching|sjs|allergy|breathing problems))|(?:made|makes?) "
    r"(?:me|him|her) (?:break out|swell(?: up)?|itch all over|come out in hives))\b"
    r"|(?:吃|服|服用|用|打|注射)(?P<zh3>[^。，,；]{1,12}?)(?:后|之后)?(?:起过|出过|出现过?|引起|发生过?)"
    r"(?:了)?(?:全身)?(?:荨麻疹|皮疹|红疹|风团|过敏|药物超敏|超敏|药疹|sjs|dress|剥脱性皮炎|"
    r"喉头水肿|休克)"
    # "broke out in hives and her lips swelled up the last time she had Keflex"
    r"|\b(?:hives|a rash|welts|anaphylaxis|angioedema|"
    rf"{_LAY_REACTION})[^.;!?\n]{{0,40}}?\b(?:the last time|last time|every time|when|after)\s+"
    r"(?:she|he|i|they|we|my \w+)\s+(?:had|took|was given|were given|got|was on|used)\s+"
    r"(?P<what5>[^.;!?\n,]{1,40})"
    # "Last time I took a Z-pack I got hives and my throat felt tight"
    r"|\b(?:the last time|last time|every time)\s+(?:she|he|i|they|we)\s+(?:took|had|was given|"
    r"got|used)\s+(?:a |an |the |some |my |her |his )?(?P<what6>[^.;!?\n,]{1,30}?)\s*,?\s+"
    r"(?:she|he|i|they|we)\s+(?:got|had|broke out in|developed|came out in|went into)\s+"
    r"(?:hives|a rash|welts|anaphylaxis|angioedema|swelling|an? (?:bad |severe |allergic )*"
    r"reaction)\b"
    # Spanish: "antecedente de SJS con carbamazepina", "tuve una anafilaxia con cefuroxima"
    r"|\b(?:sjs|stevens[- ]johnson|necr[oó]lisis epid[eé]rmica t[oó]xica|anafilaxia|"
    r"shock anafil[aá]ctico|angioedema|urticaria|reacci[oó]n al[eé]rgica(?: grave)?)"
    r"(?:\s+[\wáéíóúñ]+){0,3}?\s+"
    r"(?:con|a|al|a la|por|tras|despu[eé]s de)\s+(?P<what7>[^.;!?\n,:]{1,40})"
)
_REACTION_AFTER_NAME = re.compile(
    r"(?<=\w)[\s\-—–:]+(?:anaphylaxis|anaphylactic (?:reaction|shock)|angioedema)\b")
"""A reaction named right after its cause ("PCN anaphylaxis", "lisinopril angioedema")."""
_AERD = re.compile(r"\baspirin[- ](?:exacerbated|induced|sensitive|intolerant|allergic)\b|"
                   r"\bsamter'?s\b|\baerd\b|\bn-?erd\b|阿司匹林(?:哮喘|不耐受|过敏)|"
                   # in lay words: "aspirin makes my asthma go crazy", "asthma attack after
                   # aspirin"
                   r"\b(?:aspirin|asa|nsaids?)\s+(?:makes?|made|sets? off|triggers?|triggered|"
                   r"brings? on|brought on|causes?|caused|gives? me|gave me)\s+"
                   r"(?:my |his |her |me |him |an? )?"
                   r"(?:asthma|wheez\w*|breathing (?:attack|problems?))|"
                   r"\b(?:asthma|wheez\w*)(?: attacks?| flares?)?\s+(?:from|after|with|"
                   r"whenever i take|when i take)\s+(?:an? )?(?:aspirin|asa)\b|"
                   r"阿司匹林[^。，,；]{0,8}(?:诱发|引起|导致|引发)[^。，,；]{0,4}(?:哮喘|喘)|"
                   r"\b(?:la )?aspirina\s+(?:me )?(?:provoca|desencadena|da)\s+(?:una )?"
                   r"(?:crisis de )?asma\b")


def find_facts(text: str, matcher: DrugMatcher) -> Facts:
    norm = _norm(text)
    age = months = None
    for pattern in _AGE:
        m = pattern.search(norm)
        if m:
            value = float(m.group(1))
            if 0 < value <= 110:
                age = value
                break
    if age is None:
        for pattern, per_year in _AGE_MONTHS:
            m = pattern.search(norm)
            if m:
                months = float(next(g for g in m.groups() if g)) / per_year
                break
    age_years = age if age is not None else months
    at_most: float | None = None
    child = False
    for pattern, bound in _CHILD_WORDS:
        if pattern.search(norm):
            child = True
            if bound is not None:
                at_most = bound if at_most is None else min(at_most, bound)
    weight = None
    wm = _WEIGHT.search(norm)
    if wm:
        value = float(wm.group(1).replace(",", "."))
        unit = wm.group(2)
        kg = value * 0.4536 if unit.startswith(("lb", "pound")) else (
            value * 0.5 if unit == "斤" else value)
        if 0.3 <= kg <= 300:
            weight = kg

    strong = _PREG_STRONG.search(norm)
    pregnant = bool(_PREGNANT.search(norm)) and (not _PREG_NEG.search(norm) or (
        # "I'm 20 weeks pregnant ... since before I got pregnant": the negation is elsewhere
        strong is not None and not re.search(rf"\b{_NEG}\b[^.;!?]{{0,20}}$",
                                             norm[max(0, strong.start() - 25):strong.start()])))
    if pregnant and _BREASTFEEDING.search(norm) and not _PREG_STRONG.search(norm):
        pregnant = False  # "the clot I had during pregnancy", now breastfeeding
    breastfeeding = bool(_BREASTFEEDING.search(norm)) and not _BF_NEG.search(norm)
    if (pregnant or breastfeeding) and age is None:
        # "is it safe for the baby?", "a 5 month old": the fetus or the nursling, not the
        # patient
        child, at_most, age_years = False, None, None
    week: int | None = None
    if pregnant:
        wk = _PREG_WEEK.search(norm)
        if wk:
            week = int(next(g for g in wk.groups() if g))
        else:
            tri = _TRIMESTER.search(norm)
            if tri:
                which = tri.group(1) or tri.group(2)
                week = {"first": 6, "1st": 6, "早": 6, "second": 20, "2nd": 20, "中": 20,
                        "third": 30, "3rd": 30, "晚": 30}.get(which)
    planning = bool(_PLANNING.search(norm)) and not pregnant

    egfr = None
    em = _EGFR.search(norm)
    if em:
        value = float(em.group(1))
        if 0 < value <= 150:
            egfr = value
    renal: str | None = None
    if egfr is not None:
        renal = "severe" if egfr < 30 else "moderate" if egfr < 60 else None
    if renal is None:
        renal = _grade(norm, _RENAL_NEG, _RENAL_SEVERE, _RENAL_MODERATE, _RENAL_ANY)
    dialysis = bool(_DIALYSIS.search(norm)) and not _RENAL_NEG.search(norm)
    if dialysis:
        renal = "severe"
    hepatic = _grade(norm, _HEP_NEG, _HEP_SEVERE, _HEP_MODERATE, _HEP_ANY)
    enzymes = _ALT_ULN.search(norm)
    if hepatic is None and enzymes is not None and float(enzymes.group(1)) >= 2 * float(
            enzymes.group(2)):
        hepatic = "any"  # ALT or AST at least twice the upper limit of normal
    pugh = _CHILD_PUGH.search(norm)
    if pugh is not None and hepatic is not None:
        hepatic = {"a": "any", "b": "moderate", "c": "severe"}[pugh.group(1)]
    elif hepatic == "severe" and _COMPENSATED.search(norm) and not _DECOMPENSATED.search(norm):
        hepatic = "any"  # compensated cirrhosis: Child-Pugh A unless said otherwise

    naive = bool(_OPIOID_NAIVE.search(norm))
    hla = _hla_positive(norm)
    allergy_list = list(_allergies(text, norm, matcher))
    preg_other = False
    if pregnant:
        hit = _PREGNANT.search(norm)
        # "my sister is pregnant", and "my wife is pregnant" (the match holds the owner)
        preg_other = hit is not None and not re.match(r"(?:i'?m|i am|im)\b", hit.group()) and bool(
            re.search(rf"(?:\b{_THIRD}|{_THIRD_ZH}|\bmi (?:hermana|amiga|hija|nuera|cuñada|pareja))"
                      r"[^.;!?。]{0,15}$", norm[max(0, hit.start() - 40):hit.start()])
            or re.match(rf"(?:\b{_THIRD})\s+is\b", hit.group())
            # a clinician's note ("31 yo G2P1 at 10 weeks", "pregnant patient"): the patient's
            # pregnancy, so "her med list" is the same person's
            or bool(re.match(r"g\d|pregnant (?:patient|pt|woman|lady)", hit.group())))
    return Facts(
        opioid_naive=naive,
        age_years=age_years, age_at_most=at_most, child=child, weight_kg=weight,
        pregnant=pregnant, pregnant_other=preg_other, pregnancy_week=week,
        planning_pregnancy=planning,
        breastfeeding=breastfeeding, egfr=egfr, dialysis=dialysis, renal=renal,
        hepatic=hepatic,
        allergies=frozenset(a for a, other in allergy_list if not other),
        allergies_other=frozenset(a for a, other in allergy_list if other),
        hla_positive=hla,
    )


_HLA = re.compile(r"(?<![a-z0-9])hla[- ]?(?P<locus>[abc])\s*[*-]?\s*(?P<a>\d{2}):?"
                  r"(?P<b>\d{2})(?!\d)")
"""An HLA allele named in a test result: HLA-B*1502, HLA-B*15:02, HLA-B 5801, hla-b5701."""
_HLA_RESULT = re.compile(r"(?P<neg>\bnegative\b|\bneg\b|\(-\)|阴性|\bnot detected\b|未检出|"
                         r"\bnegativo\b|\bnot (?:a )?carrier\b)|(?P<pos>\bpositive\b|\bpos\b|"
                         r"\(\+\)|\+|阳性|携带|\bcarrier\b|\bpositivo\b|\bdetected\b)")


def _hla_positive(norm: str) -> frozenset[str]:
    """The HLA alleles a test found positive: the first result word after the allele, in its
    sentence and before the next allele ("HLA-B*1502基因，结果出来是阳性" is positive;
    "HLA-B*1502 negative, B*5801 positive" is positive for B*58:01 only)."""
    found = list(_HLA.finditer(norm))
    out: set[str] = set()
    for k, m in enumerate(found):
        end = min(m.end() + 40, found[k + 1].start() if k + 1 < len(found) else len(norm))
        window = re.split(r"[.;!?。；！？\n]", norm[m.end():end], maxsplit=1)[0]
        result = _HLA_RESULT.search(window)
        if result is not None and result.group("pos"):
            out.add(f"{m.group('locus').upper()}*{m.group('a')}:{m.group('b')}")
    return frozenset(out)


_THIRD_ZH = (r"(?:老婆|妻子|爱人|姐姐|妹妹|嫂子|弟妹|女儿|儿媳|朋友|同事|闺蜜|表姐|表妹|堂姐|堂妹|"
             r"邻居|她)")
_OPIOID_NAIVE = re.compile(
    r"\bopioid[- ]na[iï]ve\b|\bna[iï]ve to opioids\b|\bnever (?:taken|had|used|been on) "
    r"(?:any )?(?:opioids|narcotics|opiates|strong painkillers)\b|"
    # "he'd never taken any opioid painkiller"
    r"\bnever (?:taken|had|used|been on|took) (?:an |any )?(?:opioid|narcotic|opiate)s? "
    r"(?:painkillers?|pain ?killers?|pain (?:meds?|medicines?|medications?|pills?))\b|"
    r"\bnunca (?:ha|he|había|habia) tomado (?:ning[uú]n )?(?:opioides?|opi[aá]ceos?)\b|"
    # "has never taken anything stronger than Tylenol"
    r"\bnever (?:taken|had|used|took) anything stronger than (?:a |an )?(?:tylenol|paracetamol|"
    r"acetaminophen|ibuprofen|advil|motrin|aspirin|aleve|panadol|nurofen)\b|"
    r"\bno (?:prior |previous )?"
    r"(?:opioids|opioid use|narcotics) (?:before|previously)\b|\bnot on (?:any )?(?:opioids|"
    r"narcotics)\b|未用过阿片|从未使用阿片|阿片类?(?:药物)?未耐受|未耐受阿片|非阿片(?:类)?耐受")


def _grade(norm: str, negation: re.Pattern[str], severe: re.Pattern[str],
           moderate: re.Pattern[str], any_: re.Pattern[str]) -> str | None:
    """'severe', 'moderate', 'any' or None (not said, or denied) for an organ."""
    if negation.search(norm):
        return None
    for level, pattern in (("severe", severe), ("moderate", moderate), ("any", any_)):
        if pattern.search(norm):
            return level
    return None


_INTOLERANCE_AFTER = re.compile(
    r"\W{0,4}(?:-|:|\(|causes?|gives?\s+me|=)?\s*(?:mild\s+)?(?:stomach\s+upset|upset\s+stomach|"
    r"gi\s+(?:upset|intolerance|side\s+effects?)|nausea|dyspepsia|heartburn|indigestion|diarrh\w*|"
    r"constipation|headaches?|drows\w*|dizz\w*|intolerance)\b|\W{0,4}(?:-|:|\()?\s*(?:胃不舒服|胃痛|"
    r"恶心|拉肚子|头晕|不耐受)")
"""An "allergy" that is a side effect (AAAAI: GI upset, nausea or headache are intolerances,
not allergies)."""
_ALLERGY_STOP = re.compile(r"\b(?:but|and (?:i|she|he|my|we|they|the|then|now|now)|take|takes|"
                           r"taking|on|which|so|prescribed|gave|sent|given|"
                           r"since|because|can|could|should|is|was)\b|但|可以|能")


_ALLERGY_OWNER_OTHER = re.compile(
    rf"(?:\b{_THIRD}|{_THIRD_ZH}|儿子|孩子|宝宝|老公|丈夫|妈妈|爸爸|母亲|父亲|他|"
    r"\bmi (?:hij[oa]|beb[eé]|marido|esposo|esposa|madre|padre|hermana|hermano))")
_ALLERGY_DISPROVED = re.compile(
    r"\b(?:thought (?:i|he|she) (?:was|were|had)|used to think)\b[^.;!?]{0,40}$")
_ALLERGY_DISPROVED_AFTER = re.compile(
    r"^[^.;!?\n]{0,80}\b(?:but|however|until)\b[^.;!?\n]{0,50}(?:\b(?:not|isn't|wasn't|"
    r"negative|ruled out|cleared|de-?labell?ed|removed)\b)|"
    r"^[^.;!?\n]{0,40}\ballerg\w*\s+(?:was |has been |is |got )?(?:ruled out|removed|"
    r"de-?labell?ed|disproven)\b|"
    r"^[^。；！？\n]{0,30}(?:但|后来)[^。；！？\n]{0,20}(?:阴性|排除|不过敏|没有过敏)|"
    r"^[^。；！？\n]{0,60}(?:都是阴性|结果阴性|去掉了?(?:青霉素)?过敏|过敏标签|撤销了?过敏|"
    r"排除了?(?:青霉素)?过敏|其实不过敏|不是(?:真的|真正的)?过敏)|"
    r"^[^.;!?\n]{0,80}\b(?:tested negative|(?:skin test|challenge|testing) (?:was |were |"
    r"came back )?negative|not (?:a )?(?:true|real) allergy|(?:removed|taken off) (?:from )?"
    r"my (?:chart|record)|de-?labell?ed)")


_OWNER_WINDOW = 200


def _allergy_owner_other(norm: str, start: int) -> bool:
    """The allergy is said of someone else ("my son is allergic to ...", "我儿子对...过敏")."""
    # the owner is named in the same sentence, close before the allergy; a bounded window
    # keeps a long unpunctuated message linear (each allergy looked back over all of it)
    lo = max(0, start - _OWNER_WINDOW)
    for m in _SENTENCE_START.finditer(norm, lo, start):
        lo = m.end()
    before = norm[lo:start]
    third = [m.end() for m in _ALLERGY_OWNER_OTHER.finditer(before)]
    me = [m.end() for m in _SELF_SUBJECT.finditer(before)]
    return bool(third) and (not me or third[-1] > me[-1])


def _allergies(text: str, norm: str, matcher: DrugMatcher) -> Iterable[tuple[str, bool]]:
    """(drug or class id, someone else's?) for each allergy stated and not disproved."""
    yield from _allergy_ids(text, norm, matcher)


def _zh_form(m: re.Match[str]) -> bool:
    """The allergy was matched by a Chinese form ending in 过敏 ("对青霉素不过敏": not)."""
    return bool(m.group("zh") or m.group("zh2"))


_NOT_AN_ALLERGEN = re.compile(
    r"allerg(?:y|ies)\s+(?:season|seasons|medicine|medicines|medication|meds|pills?|tablets?|"
    r"relief|sufferers?|symptoms?|tests?|testing|shots?|clinic|doctor|spray|drops|time)\b")
"""'Allergy' naming hay fever, not a reaction to the medicine before it ("take Claritin every
day during allergy season")."""


def _allergy_ids(text: str, norm: str, matcher: DrugMatcher) -> Iterable[tuple[str, bool]]:
    aerd = _AERD.search(norm)
    if aerd is not None and not re.search(rf"\b{_NEG}\b\W*(?:\w+\W+){{0,2}}$",
                                          norm[max(0, aerd.start() - 25):aerd.start()]):
        # aspirin-exacerbated respiratory disease: every COX-1 inhibiting NSAID can trigger it
        yield "class:nsaid", False
    for m in _ALLERGY.finditer(norm):
        if m.group("what"):
            start, what, last_only = m.start("what"), m.group("what"), False
            stop = _ALLERGY_STOP.search(what)
            if stop is not None:
                what = what[:stop.start()]
            head = re.search(r"[^.;!?\n,]{1,25}$", norm[max(0, m.start() - 25):m.start()])
            if head is not None and norm[m.start():m.start("what")].rstrip().endswith(
                    ("-", ":", "allergy", "allergies")) and not _NOT_AN_ALLERGEN.match(
                    norm, m.start()) and not re.match(
                    r"\s*(?:none|no|nil|nkda|nka|negative|denie[sd]|n/?a|unknown)\b", what
                    ) and not any(x.drug or x.klass
                                  for x in matcher.find(text[start:start + len(what)])):
                # "Penicillin allergy - my lips swelled up": the allergen is named before
                start = max(0, m.start() - 25) + head.start()
                what, last_only = norm[start:m.start()], True
        elif m.group("what3"):
            start, what, last_only = m.start("what3"), m.group("what3"), False
            stop = re.search(r"\b(?:pero|y (?:yo|tomo|me|mi|el|la m[eé]dic\w*|ahora)|tomo|toma|que|"
                             r"me (?:dieron|dio|recetaron|recet[oó]))\b", what)
            if stop is not None:
                what = what[:stop.start()]
        elif m.group("rx") or m.group("rx2"):
            key = "rx" if m.group("rx") else "rx2"
            start, what, last_only = m.start(key), m.group(key), True
        elif m.group("zh4"):
            start, what, last_only = m.start("zh4"), m.group("zh4"), False
        elif m.group("zh3"):
            start, what, last_only = m.start("zh3"), m.group("zh3"), True
        elif m.group("before"):
            start, what, last_only = m.start("before"), m.group("before"), True
            if re.search(r"\b(?:for|against|treats?|para)(?:\s+\w+){0,2}\s*$", what):
                continue  # "zyrtec for my allergies", "EpiPen for peanut allergy": a treatment
            if re.search(r"\b(?:during|in|through|all|this|every|seasonal)\s*$", what) or (
                    _NOT_AN_ALLERGEN.match(norm, m.end() - len(m.group().split()[-1]))):
                continue  # "claritin every day during allergy season": hay fever
        elif m.group("what2") or m.group("what5") or m.group("what6") or m.group("what7"):
            key = next(k for k in ("what2", "what5", "what6", "what7") if m.group(k))
            start, what, last_only = m.start(key), m.group(key), False
            stop = _ALLERGY_STOP.search(what)
            if stop is not None:
                what = what[:stop.start()]
        else:
            key = "zh" if m.group("zh") else "zh2"
            start, what, last_only = m.start(key), m.group(key), key == "zh2"
        if re.search(rf"\b{_NEG}\b|\bno known\b|\bnkda\b|没有|无", what[:12]) or (
                _zh_form(m) and re.search(r"(?:不|没有?|并不|从不|从来不|无)$", what)) or re.search(
                r"\b(?:no|nkda|no known)\s*$", norm[max(0, m.start() - 12):m.start()]):
            continue
        if (_ALLERGY_DISPROVED.search(norm[max(0, m.start() - 40):m.start()])
                or _ALLERGY_DISPROVED_AFTER.search(norm[m.start():m.end() + 80])) and re.search(
                    r"\b(?:test\w*|skin test|challenge|allergist)\b|测试|皮试|检测",
                    norm[m.start():m.end() + 80]):
            continue  # "I thought I was allergic to penicillin but testing showed I'm not"

        found = [x for x in matcher.find(text[start:start + len(what)]) if x.drug or x.klass]
        if len(found) > 1:
            # "sulfa antibiotics", "磺胺类抗生素": a class word that is a parent of another
            # allergen named with it adds nothing and must not replace it
            narrower: set[str] = set()
            for x in found:
                for c in (matcher.kb.classes_of(x.drug) if x.drug else {x.klass or ""}):
                    todo = list(matcher.kb.classes[c].parents) if c in matcher.kb.classes else []
                    while todo:
                        parent = todo.pop()
                        narrower.add(parent)
                        todo.extend(matcher.kb.classes[parent].parents)
            found = [x for x in found if not (x.klass and x.klass in narrower)]
        if last_only:
            found = found[-1:]
        for mention in found:
            if _INTOLERANCE_AFTER.match(norm, start + mention.span[1]):
                continue  # "allergy list: aspirin - stomach upset": a side effect, no allergy
            other = _allergy_owner_other(norm, start + mention.span[0])
            yield (f"class:{mention.klass}" if mention.klass else mention.drug), other
    for m in _REACTION_AFTER_NAME.finditer(norm):
        # "PCN anaphylaxis documented", "penicillin angioedema 2019": the medicine is the
        # word right before the reaction (nothing but a hyphen or spaces between them)
        window = max(0, m.start() - 40)
        named = [x for x in matcher.find(text[window:m.start()]) if x.drug or x.klass]
        if not named or text[window + named[-1].span[1]:m.start()].strip(" -") or re.search(
                rf"\b{_NEG}\b|\bno\b", norm[max(0, window + named[-1].span[0] - 12):
                                            window + named[-1].span[0]]):
            continue
        mention = named[-1]
        yield ((f"class:{mention.klass}" if mention.klass else mention.drug),
               _allergy_owner_other(norm, window + mention.span[0]))
