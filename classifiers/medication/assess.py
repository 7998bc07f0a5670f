"""Conversation -> medication problems, each with the limit that was crossed and its source.

``Assessor.input(turns)`` looks at what the user side of a conversation says (user, system
and tool turns); ``Assessor.output(turns, answer)`` at what an answer recommends, given the
conversation it answers. Both return ``Problem``s; ``guard/checks/medication.py`` turns them
into findings and the policy decides what to do.

Only what is new is reported. At the input stage a problem counts when it needs a new turn:
a dose in a new turn, or a combination or contraindication that the old turns alone did not
show ("I'm on isotretinoin" earlier, "I just found out I'm pregnant" now). At the output stage
a problem counts when the answer recommends the drug or dose, not when it warns against it
("do not take ibuprofen with warfarin" names both and is the right answer).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from classifiers.context import UNIT_REACH, bounds
from classifiers.medication.extract import (
    ZH_DONT,
    Dose,
    DrugMatcher,
    Facts,
    Mention,
    ReleaseUse,
    find_doses,
    find_facts,
    find_release,
    is_extended_release,
    patch_context,
    sentences,
)
from classifiers.medication.kb import (
    BeersEntry,
    CriteriaCap,
    CrossAllergy,
    DoseLimit,
    Drug,
    DrugKB,
    Interaction,
    OrganLimit,
    ReproLimit,
    to_mg,
)
from classifiers.medication.kb import Dose as DoseEntry
from classifiers.medication.mismatch import find_mismatches

__all__ = ["CATEGORIES", "Assessor", "Problem", "Turn"]

CATEGORIES = {
    # category: (CSEDB criterion, dangerous?)
    "dose_above_max": ("medication_dose_error", True),
    "unit_error": ("medication_dose_error", True),
    "frequency_error": ("medication_dose_error", True),
    "interaction_contraindicated": ("absolutely_contraindicated_medication", True),
    "interaction_major": ("medication_safety", True),
    "pregnancy_contraindicated": ("absolutely_contraindicated_medication", True),
    "lactation_contraindicated": ("absolutely_contraindicated_medication", True),
    "age_contraindicated": ("absolutely_contraindicated_medication", True),
    "renal_contraindicated": ("dose_mismatched_to_organ_function", True),
    "hepatic_contraindicated": ("dose_mismatched_to_organ_function", True),
    "allergy_conflict": ("absolutely_contraindicated_medication", True),
    "organ_dose_adjustment": ("dose_mismatched_to_organ_function", False),
    "beers_avoid": ("medication_safety", True),
    "beers_older_adult": ("medication_safety", False),
    "high_alert_no_monitoring": ("medication_safety", False),
    "needs_patient_facts": ("medication_safety", False),
    "duplicate_medicine": ("medication_dose_error", True),
}
"""Every category the check reports, its CSEDB criterion, and whether it is a danger (as
opposed to a caution, a missing fact or missing monitoring advice)."""


@dataclass(frozen=True, slots=True)
class Turn:
    text: str
    role: str
    new: bool
    index: int
    """Position of the text in the caller's list (becomes ``Finding.segment``)."""


@dataclass(frozen=True, slots=True)
class Problem:
    category: str
    score: float
    drugs: tuple[str, ...]
    index: int
    span: tuple[int, int] | None
    advice: str
    """User-facing: the limit, what to do, the source. Never quotes the conversation."""
    explanation: str
    """For reviewers: what was compared; drug names and numbers only."""

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return (self.category, tuple(sorted(self.drugs)))

    @property
    def criterion(self) -> str:
        return CATEGORIES[self.category][0]


@dataclass(frozen=True)
class _Analysis:
    mentions: tuple[Mention, ...]
    doses: tuple[Dose, ...]
    facts: Facts
    release: tuple[ReleaseUse, ...] = ()


_SENT_TO_EMERGENCY = r"911|(?:call|dial|ring|phone) (?:999|112|000)|ambulance|a&e|urgencias"
"""Emergency care named in an answer (a bare 112 or 120 is as likely a dose: only a number
called counts); a caution in ``_WARN`` and in ``_EMERGENCY_CARE``."""
_SENT_TO_EMERGENCY_ZH = r"急诊|急救|打120"
_WARN = re.compile(
    r"\b(?:not|no|never|don't|do not|doesn't|does not|shouldn't|should not|must not|cannot|"
    r"can't|avoid|avoided|exceed|exceeding|exceeds|more than|above|maximum|max|limit|"
    r"toxic|toxicity|overdose|dangerous|danger|harmful|harm|risk|risks|risky|unsafe|"
    r"contraindicated|interact|interaction|interactions|stop|careful|caution|warning|"
    r"aren't|isn't|wasn't|won't|weren't|not recommended|"
    r"serious|fatal|life-threatening|emergency|poison|instead|rather than|unless|"
    r"check with|talk to|consult|ask your|speak (?:to|with)|"
    # sent to emergency care (round 20: "Call 911 now: dextromethorphan with phenelzine ...")
    + _SENT_TO_EMERGENCY + r")\b|" + _SENT_TO_EMERGENCY_ZH +
    r"|\bover(?=\s+\d[\d,.]*\s*(?:mg|mcg|g|grams?|units?|tablets?|pills?|doses?)\b)"
    r"|\bdangerously\b|不要|不能|不可|避免|禁用|禁止|禁忌|超过|最大|慎用|危险|风险|中毒|过量|超量|相互作用|咨询"
    r"|不宜|不建议|不推荐|不(?:太)?合适|不适合"
    r"|会引起|可能引起|会导致|可能导致|双硫仑|告诉医生|告知医生|浓度升高|诱发|蓄积|加重"
    r"|\b(?:evitar|evite|evita|nunca|no (?:tome|debe|use|se debe)|peligros[oa]|contraindicad[oa]s?|"
    r"t[oó]xic\w*|intoxica\w*|"
    r"empeor\w*|riesgos?|provocar|mejor no|no (?:l[oa]s? )?(?:combin\w+|mezcl\w+|juntes?))\b"
)
_LIMIT = re.compile(
    r"\b(?:max|maximum|up to|no more than|not more than|do not exceed|don't exceed|not exceeding|"
    r"never exceed|at most|limit|ceiling)\b|最多|不超过|不要超过|最大|上限|no m[aá]s de")
_INJECTING = re.compile(r"\b(?:inject\w*|inyect\w*|dosis|aplic\w*|poner\w*|pongo|"
                        r"draw\w*|drew|tak\w+|took|giv\w+|gave|shots?|use|using|"
                        r"dose)\b|打|注射|抽")
_CONTAINER = re.compile(r"\b(?:vials?|bottles?|cartridges?|pens? (?:holds?|contains?)|box)\b|瓶|支")
_QUOTED = re.compile(r"«[^»]{20,}»|“[^”]{20,}”|\"[^\"\n]{20,}\"|「[^」]{20,}」")
_ALREADY_GIVEN = re.compile(
    r"\bif (?:you|he|she|they)(?:'ve| have| has|'s)? already\b|如果(?:已经|刚才)|"
    r"\bsi ya (?:le |la |lo |te )?(?:has|ha|han|diste|dio|tom\w+)\b")
"""A dose the answer supposes already given ("If you've already given a tablespoon, don't give
any more"): what to do about it, not a recommendation."""
_CURRENT_DOSE = re.compile(r"\b(?:you(?:'re| are) (?:at|on|taking|currently)|your current|"
                           r"(?:you|she|he|they)(?:'ve|'s| have| has) been taking)\b|你现在|目前你")
_STATED_LIMIT = re.compile(
    r"\b(?:max|maximum|no more than|not more than|do not exceed|don'?t exceed|dont exceed|"
    r"(?:do not|don'?t|dont|never|not) go (?:over|above)|not exceeding|"
    r"never exceed|at most|not to exceed|limited to|capped at|restricted to)\b|"
    r"限制在|控制在|最多|不超过|不要超过|最大|上限|no m[aá]s de")
_TIMES_IN_WORDS = (r"(?:three|four|five|six|ten|twenty|fifty|a hundred|several|many) times")
"""A multiple said in words ("ten times the limit"), for ``_OVER_LIMIT`` and ``_TIMES_LIMIT``."""
_OVER_LIMIT = re.compile(
    # Spanish: "te llevaría a casi 6 g", "superarías el máximo"
    r"\b(?:te |le |lo |la )?llevar[ií]a (?:a|hasta)\b|\bsuperar\w*|\bpor encima del m[aá]ximo\b|"
    r"\b(?:would|will|could|can|may|might) (?:exceed|be (?:above|over|more than|too much))|"
    # "2 Panadol on top would be 2 g at once": the total of adding one product to another
    r"\bon top (?:of (?:that|it|this) )?would (?:be|make|give)\b|"
    # "6 ml serían 240 mg por toma, demasiado para 12 kg" (not "no es demasiado")
    r"(?<!no es )(?<!no son )\bdemasiad[oa]s?\b|"
    r"\bexceeds? (?:the|that|this|your|a|its) (?:\w+ )?(?:limit|maximum|max|dose)|"
    r"\btoo (?:much|high|many)\b|\b(?:is|are|that's) (?:above|over) (?:the|that|this)\b|"
    # the harm a dose would do ("giving the usual three-times-daily dose could let it build up")
    r"\b(?:could|would|can|may|might) (?:let (?:it|them) )?(?:build up|accumulate|pile up|"
    r"stack up)\b|\bse acumul\w*|"
    # "twice the 10 mg maximum", "1,000 times the real dose"
    rf"\b(?:twice|double|triple|[\d,]+ times|{_TIMES_IN_WORDS})\s+(?:the|that|your|her|his)\s+"
    r"(?:\w+\s+){0,3}?"
    r"(?:maximum|max|limit|dose|exposure|amount)\b|"
    # "diez veces la dosis", "十倍剂量"
    r"\b(?:dos|tres|cuatro|cinco|seis|diez|veinte|cien|\d+) veces (?:la|el|lo) (?:\w+ )?"
    r"(?:dosis|m[aá]xim\w*|l[ií]mite|recomendad\w*)\b|倍(?:的)?(?:剂量|用量|最大)|"
    r"会超过|超过了|超过(?:最大|上限|极量|说明书)|超量|"
    # "是孩子一次剂量的三四倍"
    r"(?:剂量|用量|上限|最大量)的?[一二两三四五六七八九十几\d]+倍")
"""A dose the answer says breaks a limit ("1,000 mg every 4 hours would exceed that limit"):
a warning even though the clause names the limit."""
_NO_LIMIT = re.compile(
    r"\b(?:there'?s|there is|it has|with no|has no|no)\s+(?:real |set |upper |daily |fixed )?"
    r"(?:maximum|max|limit|ceiling)\b(?! (?:of|to) (?:how|the number))|\bas (?:many|much) as "
    r"(?:you|he|she|they) (?:need|want|like)\b|没有(?:剂量)?(?:上限|最大剂量)|"
    r"想吃多少(?:就)?吃多少|\bsin (?:l[ií]mite|m[aá]ximo)\b")
"""An answer denying a daily maximum ("there's no real maximum with Imodium")."""
_TIMES_LIMIT = re.compile(
    rf"\b(?:twice|double|triple|\d+ times|{_TIMES_IN_WORDS})\b[^.;!?]{{0,60}}\b(?:upper limit|"
    r"limit|maximum|max dose)\b|"
    r"(?:倍)[^。；]{0,20}(?:上限|最大)")
"""A dose said to be a multiple of the limit ("ten times the 4,000 IU (100 mcg) daily upper
limit")."""
_DANGER = re.compile(
    r"\b(?:toxic|toxicity|overdose|overdosing|dangerous|harmful|fatal|deadly|lethal|poison\w*|"
    r"liver damage|liver failure|death|never|avoid|dangerously)\b|"
    r"中毒|过量|超量|危险|致命|避免|伤肝|"
    r"\b(?:da[ñn]ar\w* (?:el |tu |su )?h[ií]gado|t[oó]xic\w*|sobredosis|peligros\w*|mortal)\b")
_COURSE_TOTAL = re.compile(
    r"(?:\s*[(（][^)）]{0,20}[)）])?\W{0,3}\s*(?:in total\s+)?(?:for|over|per|in) (?:the |a |one |"
    r"each )?(?:whole |entire |full )?"
    r"(?:course|flare|attack|episode)\b|\W{0,3}\s*(?:每个|整个|一个)疗程|"
    r"\W{0,3}\s*(?:por|en todo el|en el) (?:ciclo|tratamiento|brote|episodio)\b")
"""A limit over a whole course ("max 6 mg for the whole course" of colchicine for gout):
not an amount per day or per dose."""
_ZH_RECHECK = r"复查(?:血钾|肾功|肌酐|INR|凝血)"
"""A planned blood test in Chinese ("复查血钾和肌酐"), for both patterns below."""
_MANAGEMENT = re.compile(
    r"\b(?:monitor\w*|inr|levels?|adjust\w*|reduce the (?:dose|\w+ dose)|lower (?:the )?dose|"
    r"hold (?:the|a|your)|separate|space (?:them|the doses)|interact\w*|check (?:your|the|a|"
    rf"blood)|recheck)\b|监测|调整剂量|减量|相互作用|{_ZH_RECHECK}|查血钾")
_NO_ADJUSTMENT = re.compile(
    r"\b(?:no (?:dose |renal |dosing )?adjustments? (?:is |are )?(?:needed|necessary|required)|"
    r"(?:doesn'?t|does not|don'?t|do not) need (?:a |any )?(?:dose |renal )?(?:adjust\w*|"
    r"reduc\w*|chang\w*)|no need to (?:adjust|reduce|lower|change) (?:the |his |her |your )?dose|"
    r"(?:the )?(?:standard|usual|normal|full) (?:adult )?dose (?:is fine|is ok|works|applies))\b|"
    r"无需调整|不需要调整|不用调整|不需减量|不用减量|no (?:hace falta|es necesario) ajustar")
"""An answer that denies a dose adjustment."""
_STANDARD_DOSE = re.compile(
    r"\b(?:is|that'?s|it'?s) (?:a |the )?(?:standard|usual|normal|regular) (?:adult )?(?:dose|"
    r"dosage|regimen|schedule)\b|\b(?:es )?(?:una|la) (?:pauta|dosis) (?:est[aá]ndar|habitual|"
    r"normal)\b|常规剂量|常规用量|标准剂量")
"""An answer calling the dose asked about the usual one ("Augmentine 875/125 cada 8 horas es
una pauta estándar"): with no caution or adjustment beside it, it denies the adjustment."""
_ADJUSTS = re.compile(
    r"\b(?:reduc\w*|lower\w*|adjust\w*|ajust\w*|espaci\w*|extend\w*|less often|"
    r"once a day instead)\b|减量|减少|调整|延长")
"""Words of a dose adjustment, for ``_STANDARD_DOSE``."""
_LAB_CHECK = re.compile(
    r"\b(?:(?:check|recheck|monitor|test)\w*\s+(?:\w+\s+){0,3}?(?:potassium|creatinine|kidney "
    r"function|inr|levels?|blood (?:count|levels?))|(?:potassium|creatinine|inr|levels?)\s+"
    rf"(?:\w+\s+){{0,2}}?(?:checked|rechecked|monitored|tested))\b|{_ZH_RECHECK}|"
    r"监测(?:血钾|肾功|肌酐|INR|血药浓度)")
"""A planned blood test that manages a combination (potassium with spironolactone, INR)."""
_DISMISSED = re.compile(
    r"\b(?:no (?:dose )?adjustment|no need to|not (?:needed|necessary|required|significant|"
    r"clinically significant)|without any change|theoretical|rarely (?:significant|a problem)|"
    r"no (?:significant |real )?interaction|safe to (?:combine|take together)|can be continued "
    r"(?:as is|unchanged|without)|no (?:dose )?change(?:s)? (?:is )?(?:needed|necessary|required)|"
    r"no change needed|(?:at|on) the same dose|can be continued)\b|无需调整|不需要调整|"
    r"没有(?:明显的?|显著的?)?相互作用|"
    # "won't affect Biktarvy"; Spanish "no suele afectar", "no hace falta hacer control"
    r"\b(?:won'?t|will\s+not|doesn'?t|does\s+not|don'?t|do\s+not)\s+(?:affect|interact\s+with|"
    r"interfere\s+with|clash\s+with|change)\b|"
    r"\bno\s+suelen?\s+(?:afectar|interactuar|dar\s+problemas)|\bno\s+hace\s+falta|"
    r"\bno\s+es\s+necesario|\bno\s+hay\s+(?:ninguna\s+)?interacci[oó]n|\bno\s+interact[uú]an?\b")
_REASSURED = re.compile(
    r"\b(?:(?:that'?s|that is|it'?s|it is|they'?re|they are|both are|this is)\s+(?:totally |"
    r"perfectly |completely |absolutely )?(?:fine|ok|okay|safe|no problem|not a problem)|"
    r"(?:just |you can )?(?:continue|keep taking) (?:both|them both|the two|them)|"
    r"(?:safe|fine|ok|okay) to (?:take|use|combine) (?:both|them|the two)(?: together)?|"
    r"go ahead and take (?:both|them))\b|可以(?:一起|同时)(?:吃|服用)|没(?:有)?问题|"
    r"\bno hay problema\b|\bpuede tomar (?:ambos|los dos)\b")
"""An answer approving, without naming them, medicines the user asked about."""
_ENDORSES = re.compile(
    r"^\W*(?:yes|yeah|yep|sure|absolutely|of course|correct|that'?s (?:right|correct|fine|ok|"
    r"okay|safe)|it'?s (?:fine|ok|okay|safe)|you can|no problem|(?:she|he|they) (?:can|may|should) "
    r"(?:continue|keep (?:taking|on)|stay on|carry on))\b|"
    # a clinician-style approval ("Dose verified as appropriate", "Reasonable - proceed as
    # ordered", "No clinically significant interaction; proceed", "Compatible with breastfeeding")
    r"^\W*(?:(?:the\s+)?dose\s+(?:is\s+|verified\s+as\s+|looks\s+)?(?:appropriate|correct|fine)|"
    r"appropriate\b|reasonable\b|compatible with|no (?:clinically (?:significant|relevant) |"
    r"significant |relevant |major )?(?:interaction|contraindication|adjustment|dose adjustment|"
    r"issues?|concerns?|problems?)s?\b(?! (?:with|if) )(?:[^.;]{0,30}\b(?:proceed|continue|"
    r"needed|identified|expected))?|proceed (?:as (?:ordered|planned)|with)\b)|"
    r"^\W*(?:没问题|没事|可以的?[，,。!！]|可以继续|可以(?:吃|用|服用|喝|打)[，,。!！]|是的|对的?[，,。]|"
    r"可以(?:接着|放心)(?:吃|用|服用)|放心(?:吃|用))|"
    r"^\W*(?:s[ií][,.!]|claro|correcto|(?:puede|puedes|pueden) (?:tomarl[oa]s?|usarl[oa]s?|"
    r"ponerl[oa]s?|d[aá]rsel[oa]s?|retomarl[oa]s?|seguir|continuar))|"
    # "She can take it - the main thing is taking it correctly"
    # (not "She can take acetaminophen 500 mg": another medicine, not the one asked about)
    r"^\W*(?:you|she|he|they) can (?:(?:take|use|have|start|restart|give)(?: \w+)? (?:it|that|"
    r"this|them|those|both)|carry on|go ahead)\b|"
    # "That sounds reasonable - ...", "Half a pill (25 mg) is a sensible, cautious starting
    # dose": the first sentence approves
    r"^\W*(?:that|this|it|which)\s+(?:sounds|seems|looks)\s+(?:very\s+|quite\s+|perfectly\s+)?"
    r"(?:reasonable|fine|ok|okay|good|right|sensible|safe|appropriate)\b|"
    r"^[^.!?。]{0,60}\b(?:is|are)\s+(?:a\s+|an\s+)?(?:very\s+|perfectly\s+)?(?:sensible|"
    r"reasonable|safe|appropriate|fine)\b(?:,?\s+(?:\w+\s+)?(?:starting|start|dose|choice|option|"
    r"plan|approach))?")
"""An answer that opens by agreeing ("Yes, keep taking your lisinopril ...", "没问题，...")."""
_COUNTER = re.compile(
    r"\b(?:do not|don'?t|never|avoid|stop taking|should not|shouldn'?t|must not|not safe|"
    r"can'?t be (?:taken|used|combined|given)|cannot be (?:taken|used|combined|given)|"
    r"stop (?:the|your)|hold (?:the|your)|"
    r"unsafe|dangerous|contraindicated|instead|however|but (?:please |do |first )?(?:check|ask|"
    r"talk|call|see)|call your (?:doctor|pharmacist|prescriber|ob|midwife)|check with|"
    r"(?:not|isn'?t|aren'?t) (?:usually |generally )?recommended|go back to your)\b|"
    r"不要|" + ZH_DONT + r"|禁用|不能|不建议|不推荐|危险|但是|不过|"
    r"\bno (?:tome|use|lo|la)\b|peligros|"
    r"\bno se (?:recomienda|aconseja)\b")
"""Any caution in the answer: an opening "yes" then does not endorse the danger."""
_REFUSES = re.compile(
    r"\W*(?:no\b|nope\b|don'?t|do not|please (?:don'?t|do not)|never|avoid|stop|hold off|"
    r"(?:i'?d|i would|we'?d|we would) (?:avoid|not|hold off)\b|i wouldn'?t\b|"
    r"not (?:safe|a good idea)|不要|不能|" + ZH_DONT + r"|不建议|不可以|"
    r"no (?:l[oa]s? )?(?:tomes|tome|uses|use|"
    r"des|d[eé]|combines))")
"""An answer that opens by refusing the medicine asked about ("Don't take it.", "不能吃。")."""
_NOT_A_CAUTION = re.compile(
    r"\b(?:avoid|don'?t have|do not have|skip)\s+(?:a\s+)?(?:heavy|fatty|large|big|rich)\s+"
    r"(?:meal|food|dinner)s?\b|"
    r"\b(?:do not|don'?t) lie down\b|(?:别|不要|不能)(?:马上)?躺下|\bno te acuestes\b|"
    # care beside the medicine: the skin, the bladder
    r"\bavoid (?:waxing|sunbeds?|sunlight|the sun|direct sun(?:light)?|strong sun)\b|"
    # food or minerals spaced from a dose ("avoid dairy around the ciprofloxacin dose")
    r"\bavoid (?:dairy|milk|antacids|calcium|iron|caffeine|coffee)\b|"
    r"(?:别|不要)憋尿")
"""Advice about food with the medicine, or how to take it (stay upright after a
bisphosphonate), not a caution about the danger asked about."""
_ENDORSABLE = frozenset({"dose_above_max", "unit_error", "frequency_error",
                         "interaction_contraindicated", "pregnancy_contraindicated",
                         "lactation_contraindicated", "age_contraindicated",
                         "renal_contraindicated", "hepatic_contraindicated", "allergy_conflict",
                         "beers_avoid", "duplicate_medicine"})
"""The question's dangers an answer can endorse by agreeing without a caution."""
_DENIES_INTERACTION = re.compile(
    r"\bno (?:clinically |real |known )?(?:significant |relevant |important |major )?"
    r"(?:drug )?interactions?\b(?! (?:with|if|unless))|\b(?:doesn'?t|does not|won'?t|will not) "
    r"(?:interact|interfere|clash)\b|\bno (?:interfiere|interactúa|interactua)\b|"
    r"没有(?:明显的?)?(?:相互作用|冲突)|不(?:会)?(?:相互)?(?:影响|冲突)")
"""An answer that denies an interaction outright ("No clinically significant interaction"):
agreeing to a major pair is then endorsing it, monitoring advice or not."""
_ADDED = re.compile(r"\b(?:add(?:ed|ing)?|alongside|along with|on top of|together with|as well "
                    r"as|in addition|with your|plus)\b|加(?:上|用|吃)|同时|一起|"
                    r"\b(?:añad\w*|junto con|adem[aá]s)\b")
"""The answer gives a product in addition to what the writer takes."""
_SEES_DUPLICATE = re.compile(
    r"\b(?:already|also) (?:contains|has|includes|got)\b|\btake you (?:\w+ )?(?:over|above)\b|"
    r"已经?含有?|也含有?|\b(?:ya|tambi[eé]n) (?:contiene|lleva)\b")
"""The answer sees the ingredient in the combination product (and counts it)."""
_INSTEAD = re.compile(r"\b(?:instead|replace|replacing|switch\w*|stop (?:the|your|taking)|"
                      r"rather than)\b|代替|换成|停(?:用|掉|吃)|\ben lugar de\b")
_RESTART = re.compile(r"\b(?:restart\w*|resum\w*|start (?:it |them |taking it )?again|go back on|"
                      r"back on)\b|重新(?:吃|服|用|开始)|恢复(?:服|用)|\breanud\w*|"
                      r"\bvolver a tomar")
_WATCH = re.compile(r"\b(?:watch (?:for|out)|look out for|call (?:your|the) (?:doctor|gp|"
                    r"prescriber)|let your doctor know|seek (?:medical )?(?:help|care))\b|"
                    r"注意观察|留意")
_CLAUSE_BREAK = re.compile(r"[.;!?。；！？,，:]|\s(?:but|however|although|though)\s|\s[-–—]\s")


_LIMIT_JUST_BEFORE = re.compile(
    r"(?:\b(?:under|below|less than|within|(?:not|never) (?:over|above)|menos de|"
    # a limit a clinician allowed ("said tylenol is ok up to 2 grams a day", "como mucho 4")
    r"(?:ok|okay|fine|safe|allowed|alright)\s+(?:to\s+(?:take|have|use|give)\s+)?up\s+to|"
    r"como\s+(?:mucho|m[aá]ximo)|hasta\s+un\s+m[aá]ximo\s+de)\s+"
    r"(?:the\s+|a\s+|my\s+|that\s+|its\s+|your\s+)?(?:max\w*\s+(?:of\s+)?)?$)")
"""A bound said right before an amount ("keeps me under the 4g", "below 3 g"): a limit the
writer stays within, not a dose taken."""


def _is_limit(dose: Dose, norm: str) -> bool:
    """A limit stated, not a dose taken: "no more than 6 mg for the course", "his doctor said
    tylenol is ok up to 2 grams a day" (``norm``: the casefolded text)."""
    return bool(_STATED_LIMIT.search(_clause_around(norm, dose.span)) or (
        _LIMIT_JUST_BEFORE.search(norm[max(0, dose.span[0] - 30):dose.span[0]])))


def _without_limits(a: _Analysis, text: str) -> _Analysis:
    """``a`` without the limits stated in ``text``: they are no amount taken, for the day's
    total or the organ and interaction checks."""
    norm = text.casefold()
    doses = tuple(d for d in a.doses if not _is_limit(d, norm))
    return a if len(doses) == len(a.doses) else dataclasses.replace(a, doses=doses)


_UNITS_NEAR = re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(?:units?|iu|u|单位|unidades)\b")
_CONCENTRATED = re.compile(r"\bu\s?-?\s?(?:200|300|500)\b|\b(?:200|300|500) units?/ml\b|"
                           r"\b(?:toujeo|tresiba 200|humulin r u-?500)\b")


def _u100_conversion(dose: Dose, text: str) -> bool:
    """An amount in mL said beside its equal in units of U-100 insulin ("draw up to the
    10-unit mark, which is 0.1 ml"): the conversion is right, not a dose measured in mL.
    Not for concentrated insulins, where 0.1 mL is not 10 units."""
    near = text[max(0, dose.span[0] - 60):dose.span[1] + 40].casefold()
    if _CONCENTRATED.search(text.casefold()):
        return False
    return any(abs(float(m.group(1)) - dose.amount * 100) < 1e-6
               for m in _UNITS_NEAR.finditer(near))


def _clause_around(text: str, span: tuple[int, int]) -> str:
    """The clause holding ``span``: between punctuation or 'but' on each side, cut
    ``UNIT_REACH`` characters from the span (``classifiers.context``: real clauses are
    shorter; searching a whole unpunctuated message for every dose was quadratic)."""
    start = max(0, span[0] - UNIT_REACH)
    for m in _CLAUSE_BREAK.finditer(text, start, span[0]):
        if not re.match(r"[.,]\d", text[m.start():m.start() + 2]):
            start = m.end()
    end = min(len(text), span[1] + UNIT_REACH)
    for m in _CLAUSE_BREAK.finditer(text, span[1], end):
        if re.match(r"[.,]\d", text[m.start():m.start() + 2]):
            continue
        end = m.start()
        break
    return text[start:end]


_MONITORING = re.compile(
    r"\b(?:monitor\w*|check\w*|level|levels|inr|blood (?:sugar|glucose|test|tests|work)|"
    r"glucose|hypoglyc\w*|low blood sugar|breathing|respirat\w*|naloxone|narcan|bleed\w*|"
    r"bruis\w*|pharmacist|doctor|prescriber|clinician|care team|follow[- ]up|"
    r"signs of|symptoms of)\b|监测|血糖|复查|随访|医生|药师"
)
_DOSE_QUESTION = re.compile(
    r"\b(?:how much|how many|what(?:'s| is)? the (?:right |correct |usual |max\w* )?dose|"
    r"what dose|dosage|dosing|dose of|can i give|should i give|how often)\b|多少|剂量|用量|怎么吃|"
    r"吃几|cu[aá]nto"
)
_DAILY_SHOT = re.compile(
    r"\b(?:shots?|injections?|jabs?|inject\w*|pens?|needles?)\b[^.;!?\n]{0,25}?\b(?:every|each)\s+"
    r"(?:single\s+)?(?:day|morning|night|evening)\b|"
    r"\b(?:shots?|injections?|jabs?|inject\w*)\s+(?:it\s+|myself\s+)?(?:daily|once a day)\b|"
    r"\b(?:every|each)\s+(?:day|morning|night|evening)\s+(?:i|she|he)\s+(?:inject|do (?:a|the|my) "
    r"(?:shot|injection))|"
    r"(?:每天|每日|天天|每晚|每早)(?:都)?(?:打|注射)(?:一针|一次)?|"
    r"\b(?:me (?:la |lo )?(?:pincho|pongo|inyecto)|inyecci[oó]n)\s+(?:cada d[ií]a|"
    r"todos los d[ií]as|a diario|cada mañana|cada noche)")
"""An injection said to be given every day ("a shot every morning", "每天打一针")."""
_WEEKLY_WORD = re.compile(r"\b(?:once a week|weekly|every week|a la semana|semanal\w*)\b|每周|一周")
_NOT_DAILY = re.compile(
    r"\b(?:not|never|don't|do not|instead of|rather than|no)\b|不要|不是|" + ZH_DONT)
_INJECTED = re.compile(r"\b(?:shots?|inject\w*|injection|pens?|jab|needle)\b|打针|打了|在打|注射|"
                       r"\binyecci[oó]n\b")
_FOR_SELF = re.compile(
    r"\b(?:for me|for myself|just for me|my own|can i (?:take|have|use|drink)|should i take|"
    r"i(?:'m| am) (?:going to|gonna) take|para m[ií]|puedo tomar(?:lo|la)?)\b|"
    r"我(?:自己)?(?:能|可以)(?:吃|喝|用|服)|我能喝吗|我能吃吗")
_FOR_CHILD = re.compile(
    r"\b(?:give|giving|gave|for) (?:it to )?(?:him|her|them|the baby|my (?:son|daughter|child|kid|"
    r"baby|toddler)|the (?:child|kid|kids))\b|\b(?:darle|d[aá]rselo|para (?:mi|el|la) (?:hij|"
    r"niñ|beb))|给(?:他|她|孩子|宝宝|儿子|女儿)")
_NOT_FOR_CHILD = re.compile(
    r"\b(?:not|never|won't|wouldn't|am not|i'm not|don't) (?:going to |gonna )?(?:give|giving) "
    r"(?:\w+ )?(?:any|it|that|him|her)\b|\bnot for (?:kids|children)\b|"
    r"\bno es para (?:niños|niñas)\b|不给(?:他|她|孩子|宝宝)")

_ROUTES = [
    # "静脉曲张" (varices), "静脉血栓" (venous thrombosis) name a vein, not a route
    ("iv", re.compile(r"\b(?:iv|i\.v\.|intravenous\w*|infusion|drip|ivp|ivpb)\b|"
                      r"静脉(?!曲张|血栓|炎|瓣)|静滴|静推|"
                      r"\bintravenos[oa]\b")),
    # lower-case "im" is mostly "I'm" typed without the apostrophe ("im still awake"): it
    # is a route only next to a dose or an injection word; "IM" in capitals always is
    ("im", re.compile(r"\b(?:i\.m\.|intramuscular\w*)|(?<=\d)\s*im\b|"
                      r"\b(?:mg|mcg|g|units?|ml|given|give|inject\w*)\s+im\b|"
                      r"\bim\s+(?:inj\w*|shots?|stat|q\s?\d|once|x\s?1|dose)\b|肌注|肌肉注射")),
    ("sc", re.compile(r"\b(?:sc|sq|subq|subcut\w*)\b|皮下")),
    ("transdermal", re.compile(r"\b(?:patch|patches|transdermal)\b|贴")),
    ("inhaled", re.compile(r"\b(?:inhal\w*|puffs?|nebuli[sz]\w*)\b|吸入")),
    ("rectal", re.compile(r"\b(?:rectal\w*|suppositor\w*|pr)\b|栓")),
    ("topical", re.compile(r"\b(?:topical\w*|cream|gel|ointment)\b|外用")),
    ("sublingual", re.compile(r"\b(?:sublingual\w*|under the tongue|sl)\b|舌下")),
    ("oral", re.compile(r"\b(?:oral\w*|by mouth|po|tablets?|pills?|capsules?)\b|口服|片")),
]


class Assessor:
    def __init__(self, kb: DrugKB) -> None:
        self.kb = kb
        self.matcher = DrugMatcher(kb)
        self.analyse = functools.lru_cache(maxsize=4096)(self._analyse)

    def _analyse(self, text: str) -> _Analysis:
        mentions = tuple(self.matcher.find(text))
        doses = tuple(find_doses(text, mentions, self._strength_unit)) if mentions else ()
        release = tuple(find_release(text, mentions, self.kb)) if mentions else ()
        return _Analysis(mentions, doses, find_facts(text, self.matcher), release)

    @functools.cache  # noqa: B019 (one assessor per knowledge base, kept for the process)
    def _strength_unit(self, drug_id: str) -> str | None:
        """The unit a bare strength after this drug's name is in ("Imitrex 100": mg)."""
        drug = self.kb.drugs.get(drug_id)
        for entry in drug.doses if drug else ():
            for limit in (entry.max_single, entry.max_daily, entry.max_weekly):
                if limit is not None:
                    # "amoxicillin 500" is mg even where the limit is written in g
                    return {"mcg": "mcg", "mg": "mg", "g": "mg"}.get(limit.unit)
        return None

    # ------------------------------------------------------------------ input
    def input(self, turns: Sequence[Turn]) -> list[Problem]:
        turns = [t for t in turns if t.role != "assistant" and t.text]
        if not any(t.new for t in turns):
            return []
        analyses = {t.index: _without_limits(self.analyse(t.text), t.text) for t in turns}
        facts_all = _merge(analyses[t.index].facts for t in turns)
        facts_old = _merge(analyses[t.index].facts for t in turns if not t.new)
        problems: list[Problem] = []
        for t in turns:
            if not t.new:
                continue
            a = analyses[t.index]
            norm = t.text.casefold()
            for dose in [*a.doses, *_across_products(a, norm), *_repeated(a, norm)]:
                if _is_limit(dose, norm):
                    continue  # "no more than 6 mg for the course" is a limit, not a dose
                if not _dose_current(dose, a.mentions):
                    continue  # "I stopped my 25,000 IU vitamin A": not taken now
                problems.extend(self._dose(dose, facts_all, t, t.text, answer=False))
            problems.extend(self._carried(turns, t, facts_all))
            problems.extend(self._across_turns(turns, t, facts_all))
            for use in a.release:
                if not _STATED_LIMIT.search(_clause_around(norm, use.span)):
                    problems.extend(self._release(use, t.index, answer=False))
            problems.extend(self._daily_injection(a, norm, t.index, problems, answer=False))
            problems.extend(self._mismatches(a, norm, t.index))
        all_meds = self._medicines(turns, analyses)
        old_turns = [t for t in turns if not t.new]
        old_meds = self._medicines(old_turns, analyses)
        doses_all = self._daily_doses(analyses.values())
        doses_old = self._daily_doses(analyses[t.index] for t in old_turns)
        said = " ".join(t.text for t in turns).casefold()
        old_said = " ".join(t.text for t in old_turns).casefold()
        old_keys = {p.key for p in self._combined(old_meds, facts_old, doses_old, old_said)}
        if not _abstract_question(said):
            monitored = (bool(_PLANNED_MONITORING.search(said))
                         and not _UNCHANGED.search(said) and not _NO_MONITORING.search(said))
            problems.extend(p for p in self._combined(all_meds, facts_all, doses_all, said)
                            if p.key not in old_keys
                            and not (monitored and p.category == "interaction_major"))
        problems.extend(self._needs_facts(turns, analyses, facts_all))
        problems.extend(self._duplicated(turns, analyses))
        if not any(p.category in ("duplicate_medicine", "dose_above_max") for p in problems):
            problems.extend(self._hidden_duplicates(turns, analyses))
        return _dedupe(problems)

    def _hidden_duplicates(self, turns: Sequence[Turn], analyses: Mapping[int, _Analysis]
                           ) -> list[Problem]:
        """An ingredient hidden in a combination product, with another product of that
        ingredient added to it ("Had a Lemsip Max sachet an hour ago ... can I take 2
        paracetamol as well?", "吃了快克 ... 可以再吃两片感康吗", "Claritin-D every morning ...
        add Sudafed 12 Hour"): the labels' "do not use with any other product containing X",
        when no amounts are said to add up (``_across_products`` sums them when they are).
        The new turn must add (as well, too, add, 再吃, añadir, along with) and name one of
        the two; a choice or a switch between them is not a duplicate (round 20)."""
        new = [t for t in turns if t.new]
        said_new = " ".join(t.text.casefold() for t in new)
        if not new or not _ADDING.search(said_new) or _SWITCHED.search(said_new) or (
                _COUNTED_AGAINST_LIMIT.search(said_new)):
            return []
        folded = {t.index: t.text.casefold() for t in turns}
        out: list[Problem] = []
        for drug_id in _DUPLICATION_WATCH:
            seen: list[tuple[Turn, Mention]] = []
            for t in turns:
                for m in analyses[t.index].mentions:
                    if m.drug == drug_id and m.current and not m.local and (
                            m.whose != "other"):
                        seen.append((t, m))
            names = {folded[t.index][m.span[0]:m.span[1]] for t, m in seen}
            if len(names) < 2 or not any(t.new for t, _ in seen):
                continue
            if not any(m.product is not None and len(m.product.components) > 1
                       for _, m in seen):
                continue  # two names of a single-ingredient medicine: ``_duplicated``'s
            (ta, ma), (tb, mb) = seen[0], seen[-1]
            if all(any(d.owner == m.span for d in analyses[t.index].doses)
                   for t, m in ((ta, ma), (tb, mb))):
                continue  # both amounts said: ``_across_products`` adds them up
            if not any(_ADDING.search(_sentence_of(folded[t.index], m.span))
                       for t, m in seen if t.new):
                continue  # "can I add something?" in another sentence adds nothing named
            a, b = folded[ta.index][ma.span[0]:ma.span[1]], folded[tb.index][mb.span[0]:mb.span[1]]
            if a in b or b in a:
                continue  # one product named twice ("Lemsip", "Lemsip Max")
            if ta.index == tb.index and _ALTERNATIVE.search(
                    folded[ta.index][ma.span[1]:mb.span[0]]):
                continue  # "Lemsip or paracetamol"
            drug = self.kb.drugs[drug_id]
            out.append(Problem(
                "duplicate_medicine", 0.9, (drug_id,), tb.index, mb.span,
                f"Both medicines contain {drug.display}: taking them together doubles it. Take "
                f"one product with {drug.display}, not both, and count every product's amount "
                f"towards the daily limit; a pharmacist can check the labels. (Source: 21 CFR "
                f"201.326 and the Drug Facts labels of combination cold and pain products: do "
                f"not use with any other drug containing the same ingredient; FDA Consumer "
                f"Update, Use caution with over-the-counter cough and cold medicines)",
                f"mentioned: {drug_id} in two products, one a combination"))
        return out

    def _duplicated(self, turns: Sequence[Turn], analyses: Mapping[int, _Analysis]
                    ) -> list[Problem]:
        """One medicine under two names, both taken: a brand and its generic on one list
        ("苯磺酸氨氯地平片 5mg qd，络活喜 5mg qd", "MST Continus 30mg BD, Zomorph 30mg BD") or a
        pharmacy brand asked about "as well as" the prescribed generic (Flomax Relief beside
        tamsulosin). Both names must be dosed, or said to be taken together; a name in
        brackets after the other is the same product, and a switch or a choice between them
        is not a duplicate. Combination products are left to ``_across_products``, which adds
        their amounts up."""
        folded = {t.index: t.text.casefold() for t in turns}
        names: dict[str, dict[str, tuple[Turn, Mention]]] = {}
        for t in turns:
            for m in analyses[t.index].mentions:
                if not m.drug or not m.current or m.local or (
                        m.product is not None and len(m.product.components) > 1):
                    continue
                names.setdefault(m.drug, {}).setdefault(
                    folded[t.index][m.span[0]:m.span[1]], (t, m))
        said_new = " ".join(folded[t.index] for t in turns if t.new)
        if not said_new or _SWITCHED.search(said_new):
            return []
        out: list[Problem] = []
        for drug_id, seen in names.items():
            if len(seen) < 2 or drug_id not in self.kb.drugs:
                continue
            (name_a, (ta, ma)), (name_b, (tb, mb)) = sorted(
                seen.items(), key=lambda x: (x[1][0].index, x[1][1].span))[:2]
            if ta.index == tb.index:
                between = folded[ta.index][ma.span[1]:mb.span[0]]
                if _ALIAS_GAP.match(between) or _ALTERNATIVE.search(between):
                    continue  # "amlodipine (Norvasc)", "Zomorph or MST"
            if "unknown" not in (ma.whose, mb.whose) and ma.whose != mb.whose:
                continue  # the writer's medicine and someone else's
            if name_a in name_b or name_b in name_a:
                continue  # "Sintrom" and "Sintrom Uno": strengths of one brand
            # "as well as the tamsulosin" in a turn about this medicine alone ("¿Lo puedo
            # tomar junto con el litio?" asks about the paracetamol beside it)
            both = [h for t in turns if t.new and not any(
                        m.drug and m.drug != drug_id and m.current
                        for m in analyses[t.index].mentions)
                    for h in _BOTH_TAKEN.finditer(folded[t.index])
                    if not _HEARSAY.search(folded[t.index][max(0, h.start() - 60):h.end() + 30])]
            if not both:
                # a list: each name with its own schedule, neither as needed, and not a
                # product the pharmacy dispensed for the prescription's name
                scheduled = all(any(
                    d.owner == m.span and (d.per_day is not None or d.weekly or d.daily_total)
                    for d in analyses[t.index].doses) for t, m in ((ta, ma), (tb, mb)))
                if not scheduled or _AS_NEEDED.search(said_new) or _DISPENSED.search(said_new):
                    continue
            drug = self.kb.drugs[drug_id]
            out.append(Problem(
                "duplicate_medicine", 0.9, (drug_id,), max(ta.index, tb.index), mb.span,
                f"{drug.display} is named twice, under two names (a brand and its generic, or "
                f"two brands): they are the same medicine, and taking both doubles the dose. "
                f"Check the list with a pharmacist or the prescriber before giving either. "
                f"(Source: NICE NG5 Medicines optimisation (2015), medicines reconciliation: "
                f"identify duplicated medicines; WHO High 5s Standard Operating Protocol, "
                f"Assuring medication accuracy at transitions in care (2014))",
                f"{drug_id}: two current names of one medicine"))
        return out

    def _carried(self, turns: Sequence[Turn], t: Turn, facts: Facts) -> list[Problem]:
        """Problems of the counts and amounts in a turn that names no drug, or names only
        drugs it gives no amount of, of the drug and strength an earlier user turn stated
        ("I've got Xanax 1 mg." ... "I've taken 12 of them since lunch"; "methotrexate 2.5 mg
        tablets ..." ... "her methotrexate ... 3 tablets each day"): the earlier turn's last
        sentences are read with this one, the
        doses that fall in this one are checked in that reading (so the earlier turn's form,
        "an Ozempic pen", gives the route) and their problems placed in this turn."""
        own = self.analyse(t.text)
        named = {m.drug for m in own.mentions if m.drug}
        if named & {d.drug for d in own.doses}:
            return []  # the turn doses a drug it names itself
        earlier = [u for u in turns if u.index < t.index and any(
            m.drug and m.current and (not named or m.drug in named)
            for m in self.analyse(u.text).mentions)]
        if not earlier:
            return []
        joined, offset = _read_after(earlier[-1], t)
        out: list[Problem] = []
        norm = t.text.casefold()
        for d in self.analyse(joined).doses:
            if d.span[0] >= offset and not _is_limit(dataclasses.replace(
                    d, span=(d.span[0] - offset, d.span[1] - offset)), norm):
                out.extend(self._dose_in_turn(d, facts, t, joined, offset))
        return out

    def _dose_in_turn(self, d: Dose, facts: Facts, t: Turn, joined: str, offset: int
                      ) -> list[Problem]:
        """A dose found in ``joined`` (an earlier turn's end, then ``t`` from ``offset``),
        checked there and its problems placed in ``t``."""
        return [dataclasses.replace(p, span=None if p.span is None else (
                    max(0, p.span[0] - offset), max(0, p.span[1] - offset)))
                for p in self._dose(dataclasses.replace(d, owner=None), facts, t, joined,
                                    answer=False)]

    def _across_turns(self, turns: Sequence[Turn], t: Turn, facts: Facts) -> list[Problem]:
        """One ingredient under two names in two turns, both said to be taken ("citalopram
        20 mg every morning" ... "a new doctor gave her Celexa 20 mg as well. Should she take
        both?"): the earlier turn's last sentences read with this one, as ``_across_products``
        reads one message; the sums that reach into this turn are checked."""
        own = self.analyse(t.text)
        dosed = {d.drug for d in own.doses}
        norm = t.text.casefold()
        if not dosed or not _TAKING_BOTH.search(norm):
            return []
        earlier = [u for u in turns if u.index < t.index and dosed & {
            d.drug for d in self.analyse(u.text).doses}]
        if not earlier:
            return []
        joined, offset = _read_after(earlier[-1], t)
        out: list[Problem] = []
        for d in _across_products(self.analyse(joined), joined.casefold()):
            if d.span[1] > offset:  # (summed within the earlier turn: reported there)
                out.extend(self._dose_in_turn(d, facts, t, joined, offset))
        return out

    def _medicines(self, turns: Sequence[Turn], analyses: dict[int, _Analysis]
                   ) -> dict[str, tuple[Turn, Mention]]:
        """Drug id -> its latest current mention (class words under 'class:<id>')."""
        meds: dict[str, tuple[Turn, Mention]] = {}
        for t in turns:
            for m in analyses[t.index].mentions:
                key = m.drug or f"class:{m.klass}"
                drug = self.kb.drugs.get(m.drug) if m.drug else None
                if (not m.current and not m.replaced and m.stopped_days is not None
                        and drug is not None and drug.washout is not None
                        and m.stopped_days < drug.washout.days):
                    # stopped inside its washout ("fluoxetine stopped 2 wk ago" before an
                    # MAOI): still there for its contraindicated combinations
                    m = dataclasses.replace(m, replaced=True)
                if m.current or m.replaced:
                    meds[key] = (t, m)
                else:  # the latest statement wins: "Parnate was stopped 15 days ago"
                    meds.pop(key, None)
        # "Eliquis ... the blood thinner": a class word naming a drug already named
        for key in [k for k in meds if k.startswith("class:")]:
            if self.kb.members(key[6:]) & meds.keys():
                del meds[key]
        return meds

    @staticmethod
    def _daily_doses(analyses: Iterable[_Analysis]) -> dict[str, tuple[float, str]]:
        """Drug -> the largest daily (or, without a schedule, single) amount stated."""
        out: dict[str, tuple[float, str]] = {}
        analyses = list(analyses)
        maintained = {d.drug for a in analyses for d in a.doses if not d.loading}
        for a in analyses:
            for d in a.doses:
                if d.loading and d.drug in maintained:
                    continue  # "750 mg x1 then 750 mg q48h": the day's regimen is the second
                amount = d.daily if d.daily is not None else d.amount
                known = out.get(d.drug)
                value = _convert(amount, d.unit, known[1]) if known else amount
                if known is None or (value is not None and value > known[0]):
                    out[d.drug] = (amount, d.unit) if known is None else (value or 0, known[1])
        return out

    def _combined(self, meds: dict[str, tuple[Turn, Mention]], facts: Facts,
                  doses: dict[str, tuple[float, str]], context: str) -> list[Problem]:
        """Combinations and contraindications among ``meds`` given ``facts``, the doses
        stated in the conversation and its text (``context``, casefolded)."""
        out: list[Problem] = []
        ids = sorted(meds)
        said = " ".join(t.text for t, _ in meds.values()).casefold()
        for i, x in enumerate(ids):
            for y in ids[i + 1:]:
                if {meds[x][1].whose, meds[y][1].whose} == {"self", "other"}:
                    continue  # "my husband takes X, I take Y": two people
                found = self._applicable(self._interactions(x, y), doses)
                if meds[x][1].replaced or meds[y][1].replaced:
                    # a switch: only a combination that needs a washout between the two
                    found = [f for f in found if f.severity == "contraindicated"]
                found = [f for f in found if not any(w in said for w in f.intended_when)
                         and not (f.separable and _spaced(said))]
                for inter in found[:1]:
                    t, m = max(meds[x], meds[y], key=lambda tm: (tm[0].index, tm[1].span))
                    out.append(_interaction_problem(inter, x, y, t.index, m.span))
        for drug_id, (t, m) in meds.items():
            if drug_id.startswith("class:") or m.replaced:
                continue
            own = m.whose == "self" and not _GIVING.search(t.text.casefold())
            out.extend(self._contraindications(self.kb.drugs[drug_id], facts, t.index, m.span,
                                               doses.get(drug_id), whose=m.whose,
                                               for_adult=_for_adult(t.text, context),
                                               own=own, said=context))
        return out

    @staticmethod
    def _applicable(found: Sequence[Interaction], doses: dict[str, tuple[float, str]]
                    ) -> list[Interaction]:
        """Drop interactions that apply only above a dose the conversation stays under."""
        out = []
        for inter in found:
            cond = inter.dose_above
            known = doses.get(cond.drug) if cond is not None else None
            if cond is not None and known is not None:
                value = _convert(known[0], known[1], cond.unit)
                if value is not None and value <= cond.amount:
                    continue
            out.append(inter)
        return out

    def _interactions(self, x: str, y: str) -> tuple[Interaction, ...]:
        if not x.startswith("class:") and not y.startswith("class:"):
            return self.kb.interactions_between(x, y)
        if x.startswith("class:") and y.startswith("class:"):
            return ()
        klass, drug = (x[6:], y) if x.startswith("class:") else (y[6:], x)
        members = self.kb.members(klass) - {drug}
        if not members:
            return ()
        # A class word ("blood thinner") counts when every member interacts with the drug.
        found = [self.kb.interactions_between(drug, m) for m in members]
        if all(found):
            return min(found, key=lambda f: f[0].severity != "contraindicated")
        return ()

    def _contraindications(self, drug: Drug, facts: Facts, index: int,
                           span: tuple[int, int], dose: tuple[float, str] | None = None,
                           whose: str = "unknown", for_adult: bool = False,
                           own: bool = False, said: str = "") -> list[Problem]:
        """``whose``: 'other' when the medicine is someone else's; a pregnancy or
        breastfeeding stated by the writer then does not apply to it, and a third party's
        pregnancy does not apply to the writer's own medicine. ``for_adult``: the child
        the conversation mentions is not the one taking it ("my son has a cough; can I take
        my codeine syrup myself?"), so the age limit does not apply. ``said``: the
        conversation's text, casefolded, for the indications a Beers entry exempts."""
        other = whose == "other"
        out: list[Problem] = []
        name = drug.display

        def add(category: str, score: float, advice: str, explanation: str) -> None:
            out.append(Problem(category, score, (drug.id,), index, span, advice, explanation))

        def low_dose(limit: ReproLimit | BeersEntry | None) -> bool:
            """The stated daily dose is at or below the limit's ``above_daily`` floor."""
            if limit is None or limit.above_daily is None or dose is None:
                return False
            value = _convert(dose[0], dose[1], limit.above_daily.unit)
            return value is not None and value <= limit.above_daily.amount

        preg = drug.pregnancy
        same_person = (other == facts.pregnant_other) or whose == "unknown"
        if (facts.pregnant or facts.planning_pregnancy) and same_person and preg is not None and (
                preg.level in ("contraindicated", "avoid")) and not low_dose(preg):
            early = facts.pregnancy_week is not None and (
                (preg.from_week is not None and facts.pregnancy_week < preg.from_week)
                or (preg.until_week is not None and facts.pregnancy_week >= preg.until_week))
            teratogen = "teratogen" in self.kb.classes_of(drug.id)
            if not early and (facts.pregnant or teratogen):
                when = (f" from week {preg.from_week}" if preg.from_week
                        else f" before week {preg.until_week}" if preg.until_week else "")
                add("pregnancy_contraindicated", 1.0 if preg.level == "contraindicated" else 0.8,
                    f"{name} in pregnancy: {preg.level}{when}. {preg.note} "
                    f"(Source: {preg.source})",
                    f"{drug.id}: pregnancy {preg.level}{when}")
        lact = drug.lactation
        if (facts.breastfeeding and not other and lact is not None
                and lact.level in ("contraindicated", "avoid") and not low_dose(lact)):
            add("lactation_contraindicated", 1.0 if lact.level == "contraindicated" else 0.8,
                f"{name} while breastfeeding: {lact.level}. {lact.note} (Source: {lact.source})",
                f"{drug.id}: lactation {lact.level}")
        age = drug.min_age
        upper = facts.upper_age
        # a nursing mother's own medicine: the baby's age is the nursling's, unless the
        # medicine is given to the baby ("can I take Claritin while nursing? baby is 7 months")
        nursling = facts.breastfeeding and not _GIVING.search(said)
        age_level = age.level if age is not None else None
        if age is not None and any(w in said for w in age.contraindicated_when):
            age_level = "contraindicated"
        if (age is not None and upper is not None and upper < age.min_years
                and age_level in ("contraindicated", "avoid") and not for_adult
                and not nursling):
            add("age_contraindicated", 1.0 if age_level == "contraindicated" else 0.8,
                f"{name} is {age_level} under {age.min_years:g} years. {age.note} "
                f"(Source: {age.source})",
                f"{drug.id}: min age {age.min_years:g}, patient under {upper:g}")
        patch = drug.patch
        if (patch is not None and patch.opioid_tolerant_only and facts.opioid_naive
                and patch_context(said, patch.names)):
            add("dose_above_max", 1.0,
                f"{name} patches are only for patients already taking opioids regularly "
                f"(opioid-tolerant); in an opioid-naive patient every strength can stop "
                f"breathing. (Source: {patch.source})",
                f"{drug.id}: patch in an opioid-naive patient")
        for cap in drug.criteria_caps:
            met = _criteria_met(cap, facts, said)
            value = _convert(dose[0], dose[1], cap.max_daily.unit) if dose else None
            if len(met) >= cap.need and value is not None and value > cap.max_daily.amount and (
                    any(_word_in(w, said) for w in cap.when)):
                add("dose_above_max", 1.0,
                    f"{name}: {_fmt(value)} {cap.max_daily.unit} a day is above the "
                    f"{_fmt(cap.max_daily.amount)} {cap.max_daily.unit} a day the label gives "
                    f"for this patient ({', '.join(met)}). {cap.note} (Source: {cap.source})",
                    f"{drug.id}: {_fmt(value)}/day vs reduced max "
                    f"{_fmt(cap.max_daily.amount)} ({', '.join(met)})")
                break
        add_organ = self._organ(drug, facts, dose, said)
        if add_organ is not None:
            add(*add_organ)
        if facts.allergies_other and not own:
            # someone else's allergy counts unless the medicine is the writer's own
            facts = dataclasses.replace(facts, allergies=facts.allergies | facts.allergies_other)
        for risk in drug.genotype:
            # (whoever's medicine it is: a genotype is stated for the one being treated)
            if risk.allele in facts.hla_positive:
                add("allergy_conflict", 1.0 if risk.level == "contraindicated" else 0.8,
                    f"{name} with HLA-{risk.allele} positive: {risk.level} (risk of a severe "
                    f"hypersensitivity reaction). {risk.note} (Source: {risk.source})",
                    f"{drug.id}: HLA-{risk.allele} positive")
                break
        allergen = self._allergy(drug, facts)
        if allergen is not None:
            add("allergy_conflict", 1.0,
                f"{name} with a reported {allergen} allergy: {allergen} allergy means avoiding "
                f"{name}. (Source: {self._allergy_source(drug, allergen)})",
                f"{drug.id}: allergy to {allergen}")
        if facts.older_adult:
            beers = self.kb.beers_for(drug.id)
            if beers is not None and beers.danger and not low_dose(beers) and not any(
                    w in said for w in beers.except_when) and not (
                    beers.needs_dose and dose is None):
                add("beers_avoid", 0.9,
                    f"{name} in adults aged 65 and over: avoid ({beers.rationale}). Ask the "
                    f"prescriber or pharmacist about a safer alternative. (Source: "
                    f"{beers.source})",
                    f"{drug.id}: Beers avoid")
            elif beers is not None:
                add("beers_older_adult", 0.8 if beers.recommendation == "avoid" else 0.6,
                    f"{name} in adults aged 65 and over: {beers.recommendation} "
                    f"({beers.rationale}). (Source: {beers.source})",
                    f"{drug.id}: Beers {beers.recommendation}")
        return out

    def _organ(self, drug: Drug, facts: Facts, dose: tuple[float, str] | None, said: str = ""
               ) -> tuple[str, float, str, str] | None:
        name = drug.display
        cap_problem = self._organ_cap(drug, facts, dose, said)
        if cap_problem is not None:
            return cap_problem
        renal = drug.renal
        if renal is not None and _kidney_below(facts, renal.contraindicated_below):
            return ("renal_contraindicated", 1.0,
                    f"{name} is contraindicated below {renal.contraindicated_below:g} mL/min. "
                    f"{renal.note} (Source: {renal.source})",
                    f"{drug.id}: renal contraindicated below {renal.contraindicated_below:g}")
        if renal is not None and facts.renal is not None:
            if renal.below is not None and facts.egfr is not None:
                applies = facts.egfr < renal.below
                certain = True
            elif renal.below is not None:
                # Words only: "severe" means below 30; CKD 3 means 30-59.
                applies = (facts.renal == "severe" and renal.below >= 30) or (
                    facts.renal == "moderate" and renal.below >= 60)
                certain = applies
                applies = applies or facts.renal == "any"
            else:
                applies, certain = True, facts.renal == "severe"
            if applies:
                threshold = f" below {renal.below:g} mL/min" if renal.below else ""
                text = (f"{name} in kidney disease: {renal.level}{threshold}. {renal.note} "
                        f"(Source: {renal.source})")
                if renal.level in ("contraindicated", "avoid") and certain:
                    return ("renal_contraindicated",
                            1.0 if renal.level == "contraindicated" else 0.8, text,
                            f"{drug.id}: renal {renal.level}{threshold}")
                return ("organ_dose_adjustment", 0.6, text,
                        f"{drug.id}: renal {renal.level}{threshold}, kidney function unclear")
        hep = drug.hepatic
        if hep is not None and facts.hepatic is not None:
            rank = {"any": 0, "moderate": 1, "severe": 2}
            applies = rank[facts.hepatic] >= rank[hep.severity]
            text = (f"{name} in liver disease: {hep.level}"
                    f"{'' if hep.severity == 'any' else ' in ' + hep.severity + ' disease'}. "
                    f"{hep.note} (Source: {hep.source})")
            if hep.level in ("contraindicated", "avoid") and applies:
                return ("hepatic_contraindicated", 1.0 if hep.level == "contraindicated" else 0.8,
                        text, f"{drug.id}: hepatic {hep.level} ({hep.severity})")
            return ("organ_dose_adjustment", 0.6, text,
                    f"{drug.id}: hepatic {hep.level} ({hep.severity}), severity unclear")
        return None

    def _organ_cap(self, drug: Drug, facts: Facts, dose: tuple[float, str] | None,
                   said: str = "") -> tuple[str, float, str, str] | None:
        """A stated daily dose above the organ limit's ``max_daily``, where that limit
        certainly applies (eGFR below its threshold, or words that mean it); an indication's
        cap only where the conversation names the indication."""
        if dose is None:
            return None
        caps: list[tuple[str, OrganLimit, float | None, DoseLimit, str]] = []
        for organ, limit in (("renal", drug.renal), ("hepatic", drug.hepatic)):
            if limit is None:
                continue
            # the strictest renal step first: a dose above it is reported with its own cap
            caps.extend((organ, limit, step.below, step.max_daily, limit.source)
                        for step in sorted(limit.steps, key=lambda st: st.below))
            if limit.max_daily is not None:
                caps.append((organ, limit, limit.below, limit.max_daily, limit.source))
            caps.extend((organ, limit, c.below, c.max_daily, c.source)
                        for c in limit.indication_caps
                        if any(_word_in(w, said) for w in c.when))
        renal = drug.renal
        if (renal is not None and renal.max_daily_per_kg is not None
                and facts.weight_kg is not None and drug.doses):
            unit = next((lim.unit for e in drug.doses
                         for lim in (e.max_single, e.max_daily, e.pediatric) if lim is not None),
                        "mg")
            # 10% above the per-kg figure is rounding to a prefilled-syringe size (70 mg for
            # 68 kg), not an unadjusted regimen
            caps.append(("renal", renal, renal.below,
                         DoseLimit(amount=round(renal.max_daily_per_kg * facts.weight_kg * 1.1,
                                                1), unit=unit), renal.source))
        for organ, limit, below_at, cap, source in caps:
            if organ == "renal":
                if facts.renal is None:
                    continue
                if facts.egfr is not None and below_at is not None:
                    applies = facts.egfr < below_at
                elif facts.dialysis:
                    applies = True  # dialysis or kidney failure: below every threshold
                else:
                    below = below_at or 30
                    applies = (facts.renal == "severe" and below >= 30) or (
                        facts.renal == "moderate" and below >= 60)
            else:
                rank = {"any": 0, "moderate": 1, "severe": 2}
                applies = facts.hepatic is not None and rank[facts.hepatic] >= rank[
                    limit.severity] and facts.hepatic != "any"
            value = _convert(dose[0], dose[1], cap.unit)
            if not applies or value is None or value <= cap.amount:
                continue
            where = "kidney" if organ == "renal" else "liver"
            return (f"{organ}_contraindicated", 1.0,
                    f"{drug.display}: {_fmt(value)} {cap.unit} a day is above the maximum of "
                    f"{_fmt(cap.amount)} {cap.unit} a day with this {where} function. "
                    f"{limit.note} (Source: {source})",
                    f"{drug.id}: {_fmt(value)} {cap.unit}/day vs {organ} max {_fmt(cap.amount)}")
        return None

    def _allergy(self, drug: Drug, facts: Facts) -> str | None:
        if not facts.allergies:
            return None
        if drug.id in facts.allergies:
            return drug.display
        groups = {c for c in self.kb.classes_of(drug.id) if self.kb.classes[c].allergy_group}
        for allergen in facts.allergies:
            if allergen.startswith("class:"):
                klass = allergen[6:]
                if klass in groups:
                    return klass.replace("_", " ")
            elif allergen in self.kb.drugs:
                shared = groups & self.kb.classes_of(allergen)
                if shared:
                    return self.kb.drugs[allergen].display
        cross = self._cross_allergy(drug, facts)
        if cross is not None:
            return cross.allergen.replace("_", " ")
        return None

    def _cross_allergy(self, drug: Drug, facts: Facts) -> CrossAllergy | None:
        """A recorded cross-reaction: an allergy to ``allergen`` (a drug, or any member of a
        class) rules ``drug`` out. An allergy to a whole class does not count for a drug
        allergen in it: cefalexin shares its side chain with amoxicillin, not with every
        penicillin (AAAAI/ACAAI 2022)."""
        for x in drug.cross_allergies:
            for allergen in facts.allergies:
                if allergen == x.allergen or allergen == f"class:{x.allergen}":
                    return x
                if not allergen.startswith("class:") and x.allergen in self.kb.classes_of(
                        allergen):
                    return x
        return None

    def _allergy_source(self, drug: Drug, allergen: str) -> str:
        cross = next((x for x in drug.cross_allergies
                      if x.allergen.replace("_", " ") == allergen), None)
        if cross is not None:
            return cross.source
        for c in sorted(self.kb.classes_of(drug.id)):
            group = self.kb.classes[c].allergy_group
            if group:
                return group
        return drug.source

    # ------------------------------------------------------------------ doses
    def _release(self, use: ReleaseUse, index: int, answer: bool) -> list[Problem]:
        """An extended-release form taken more often than any of its labels allows."""
        drug = self.kb.drugs[use.drug]
        if use.patch and drug.patch is not None and drug.patch.min_wear_hours:
            every = 24.0 / use.per_day
            return [Problem(
                "frequency_error", 1.0, (drug.id,), index, use.span,
                f"A {drug.display} patch delivers medicine for {drug.patch.min_wear_hours} "
                f"hours or more: replacing it every {every:g} hours (or adding a new one "
                f"over the old) builds up the dose and can cause a fatal overdose. Keep to "
                f"the prescribed change schedule and tell the prescriber if pain returns "
                f"before the change is due. (Source: {drug.patch.source})",
                f"{'recommended' if answer else 'mentioned'}: {drug.id} patch replaced every "
                f"{every:g} h vs at least {drug.patch.min_wear_hours} h")]
        er = drug.extended_release
        if er is None or use.per_day <= er.max_times_daily:
            return []
        times = {1: "once", 2: "twice"}.get(er.max_times_daily, f"{er.max_times_daily} times")
        return [Problem(
            "frequency_error", 1.0, (drug.id,), index, use.span,
            f"{drug.display} extended-release is taken at most {times} a day: each tablet "
            f"releases a long interval's dose, so taking it more often can cause an overdose. "
            f"{er.note} (Source: {er.source})".replace("  ", " "),
            f"{'recommended' if answer else 'mentioned'}: {drug.id} extended-release "
            f"{use.per_day:g} times a day vs at most {er.max_times_daily}")]

    def _mismatches(self, a: _Analysis, norm: str, index: int) -> list[Problem]:
        """An amount measured, dispensed or taken that is several times the amount ordered
        for the same drug (mismatch.py)."""
        out: list[Problem] = []
        current = [d for d in a.doses if _dose_current(d, a.mentions)]
        for m in find_mismatches(norm, current, _convert):
            drug = self.kb.drugs.get(m.drug)
            if drug is None:
                continue
            o, g = m.ordered, m.given
            out.append(Problem(
                "unit_error", 1.0, (drug.id,), index, m.span,
                f"{drug.display}: {_fmt(g.amount)} {g.unit} is {m.ratio:.0f} times the "
                f"{_fmt(o.amount)} {o.unit} that was ordered. Do not give it: check the unit "
                f"(mg, mcg, mL), the decimal point and the strength on the label with a "
                f"pharmacist or the prescriber first. (Source: ISMP List of Error-Prone "
                f"Abbreviations, Symbols and Dose Designations 2021; ISMP Targeted Medication "
                f"Safety Best Practices for Hospitals 2024-2025, oral liquid dosing in mL)",
                f"mentioned: {drug.id}: given {_fmt(g.amount)} {g.unit} vs ordered "
                f"{_fmt(o.amount)} {o.unit} (x{m.ratio:.0f})"))
        return out

    def _daily_injection(self, a: _Analysis, norm: str, index: int, found: list[Problem],
                         answer: bool) -> list[Problem]:
        """A once-weekly injection (Ozempic, Trulicity, Mounjaro) said to be injected every
        day with no dose beside it ("ozempic 0.5mg pen. been doing a shot every morning"):
        the schedule is in another sentence than the dose, so the dose check cannot see it."""
        out: list[Problem] = []
        for m in a.mentions:
            drug = self.kb.drugs.get(m.drug)
            if drug is None or not m.current or any(
                    m.drug in p.drugs and p.category == "frequency_error" for p in (*found, *out)):
                continue
            entry = next((e for e in drug.doses if e.weekly_only and e.route == "sc"), None)
            if entry is None:
                continue
            window = norm[max(0, m.span[0] - 150):m.span[1] + 150]
            shot = _DAILY_SHOT.search(window)
            if shot is None or _NOT_DAILY.search(
                    window[max(0, shot.start() - 30):shot.end() + 20]) or _WEEKLY_WORD.search(
                    window[max(0, shot.start() - 30):shot.end() + 30]):
                continue  # "do I inject it every day or once a week?" asks
            out.append(Problem(
                "frequency_error", 1.0, (drug.id,), index, m.span,
                f"{drug.display} is injected once a WEEK, not every day: daily injections give "
                f"several times the dose and can cause severe vomiting, dehydration, "
                f"pancreatitis or low blood sugar. Stop the daily injections and call the "
                f"prescriber or a pharmacist today. (Source: {entry.source})",
                f"{'recommended' if answer else 'mentioned'}: {drug.id}: once-weekly "
                f"injection on a daily schedule"))
        return out

    def _dose(self, dose: Dose, facts: Facts, turn: Turn, text: str, answer: bool
              ) -> list[Problem]:
        drug = self.kb.drugs.get(dose.drug)
        if drug is None:
            return []
        window = text[max(0, dose.span[0] - 40):dose.span[1] + 20].casefold()
        if dose.unit == "mL" and "insulin" in self.kb.classes_of(drug.id) and (
                (_INJECTING.search(window) or dose.per_day is not None)
                and not _CONTAINER.search(window)) and not _u100_conversion(dose, text):
            return [Problem(
                "unit_error", 1.0, (drug.id,), turn.index, dose.span,
                f"{drug.display} is measured in units, not mL: {_fmt(dose.amount)} mL of "
                f"U-100 insulin is {_fmt(dose.amount * 100)} units. Use an insulin syringe or "
                f"pen and check the dose with the care team now. (Source: ISMP List of "
                f"High-Alert Medications 2024, insulin; ISMP error reports on insulin measured "
                f"in mL syringes)",
                f"{'recommended' if answer else 'mentioned'}: {drug.id}: dose in mL")]
        if drug.patch is not None and (dose.unit == "mg/h" or (
                dose.unit in ("mg", "g") and patch_context(window, drug.patch.names)
                and not _CONTAINS.search(window)
                # (a bare strength after a patch brand, "Durogesic de 25", is its mcg/h)
                and re.search(r"mg|g\b|gram|毫克|克", text[dose.span[0]:dose.span[1]].casefold()))):
            return [Problem(
                "unit_error", 1.0, (drug.id,), turn.index, dose.span,
                f"{drug.display} patches are made only in micrograms per hour "
                f"({drug.patch.rate_unit}), not mg: {_fmt(dose.amount)} mg would be 1,000 "
                f"times the patch strength. Check the unit before applying any patch. "
                f"(Source: {drug.patch.source})",
                f"{'recommended' if answer else 'mentioned'}: {drug.id}: patch in mg")]
        if dose.unit == "mg/h":
            return []
        if not drug.doses:
            return []
        entry = self._route(drug, text, dose)
        if entry is None:
            return []
        name = drug.display
        out: list[Problem] = []
        verb = "recommended" if answer else "mentioned"

        def add(category: str, advice: str, explanation: str, score: float = 1.0) -> None:
            out.append(Problem(category, score, (drug.id,), turn.index, dose.span,
                               advice, f"{verb}: {explanation}"))

        src = f"(Source: {entry.source})"
        if entry.weekly_only and not dose.weekly and (dose.per_day or dose.daily_total):
            add("frequency_error",
                f"{name} (oral, low dose) is taken once a WEEK, not every day; daily dosing "
                f"has caused fatal overdoses. {src}",
                f"{drug.id}: weekly-only drug with a daily schedule")
            return out
        weekly_dose = entry.max_single_intermittent
        if weekly_dose is not None and entry.max_single is not None:
            amount = _convert(dose.amount, dose.unit, weekly_dose.unit)
            daily_cap = _convert(entry.max_single.amount, entry.max_single.unit,
                                 weekly_dose.unit)
            scheduled_daily = not dose.weekly and (dose.per_day is not None or dose.daily_total)
            if (amount is not None and daily_cap is not None and scheduled_daily
                    and daily_cap < amount <= weekly_dose.amount):
                add("frequency_error",
                    f"{name} {_fmt(dose.amount)} {dose.unit} is a once-WEEKLY (or once-monthly) "
                    f"dose; taken every day it is several times the daily maximum of "
                    f"{_fmt(entry.max_single.amount)} "
                    f"{entry.max_single.unit}. {entry.note} {src}",
                    f"{drug.id}: intermittent-only strength {_fmt(amount)} {weekly_dose.unit} on a "
                    f"daily schedule")
                return out
        # a breastfeeding mother's own dose ("ibuprofen 600 every 6 hours ... ok for the
        # baby?"): the baby is the nursling, not the one taking it, unless it is given to it
        child = facts.is_child and entry.pediatric is not None and not (
            facts.breastfeeding and not _GIVING.search(text.casefold()))
        if (entry.per_kg_below_kg is not None and entry.pediatric is not None
                and facts.weight_kg is not None and facts.weight_kg < entry.per_kg_below_kg):
            child = True  # a light adult: the label's per-kg limits (IV acetaminophen < 50 kg)
        weight = facts.weight_kg if child else None
        if child and weight is None and facts.upper_age is not None:
            weight = _apls_weight(facts.upper_age)
        starting = (entry.initial_max_single or entry.initial_max_daily) is not None and (
            _starting(drug, text, dose.span))
        limits = _limits(entry, weight if child else None, facts, starting)
        er = drug.extended_release
        if (er is not None and er.max_single is not None and entry.route == "oral"
                and not limits.get("single", (0, "", True))[2] and self._er_dose(dose, text)):
            limits["single"] = (er.max_single.amount, er.max_single.unit, False,
                                " (extended-release)")
        if weekly_dose is not None and not (dose.per_day is not None or dose.daily_total):
            # a weekly schedule, or none stated: the once-weekly strength is allowed
            limits["single"] = (weekly_dose.amount, weekly_dose.unit, False,
                                " (the once-weekly dose)")
        if dose.weekly and entry.max_single is None and not limits.get("single", (0, "", True))[2]:
            # a once-weekly dose is not compared with a daily limit ("50,000 IU once a week")
            limits.pop("single", None)
        strength_only = dose.count in (None, 1) and bool(
            _STRENGTH_ONLY.search(text[max(0, dose.span[0] - 6):dose.span[0]].casefold())
            or _STRENGTH_AFTER.match(text[dose.span[1]:dose.span[1] + 12].casefold()))
        scheduled_units = strength_only and dose.per_day is not None and dose.per_day > 1 and (
            _STRENGTH_AFTER.match(text[dose.span[1]:dose.span[1] + 12].casefold()) is not None
            and _UNITS_SCHEDULED.match(text[dose.span[1]:dose.span[1] + 60].casefold()))
        if strength_only and not scheduled_units:
            # "one tablet is 10 mg", "10 mg tablets": the strength, not what is taken at once
            # nor in a day; only the labelled per-dose maximum applies to it ("60 mg caps
            # morning, noon and night" is at least one a time: the day's limit still holds)
            limits.pop("daily", None)
            limits.pop("weekly", None)
            if entry.max_single is not None:
                limits["single"] = (entry.max_single.amount, entry.max_single.unit, False,
                                    " for adults")
            else:
                limits.pop("single", None)
        for kind, amount in (("single", dose.single), ("daily", dose.daily),
                             ("weekly", dose.amount if dose.weekly else None)):
            limit = limits.get(kind)
            if amount is None or limit is None:
                continue
            value = _convert(amount, dose.unit, limit[1])
            if value is None:
                continue
            tolerance = 1.2 if limit[2] else 1.0
            if value <= limit[0] * tolerance:
                continue
            per = {"single": "per dose", "daily": "per day", "weekly": "per week"}[kind]
            basis = limit[3]
            if value / 1000 <= limit[0] and dose.unit in ("mg", "g") and value > 50 * limit[0]:
                smaller = "mcg" if dose.unit == "mg" else "mg"
                add("unit_error",
                    f"{name}: {_fmt(amount)} {dose.unit} {per} is about 1,000 times the maximum "
                    f"({_fmt(limit[0])} {limit[1]} {per}{basis}); was {smaller} meant? Check the "
                    f"unit before giving any dose. {src}",
                    f"{drug.id}: {_fmt(value)} {limit[1]} {per} vs max {_fmt(limit[0])} "
                    f"(x{value / limit[0]:.0f}); {smaller} would fit")
            else:
                add("dose_above_max",
                    f"{name}: {_fmt(amount)} {dose.unit} {per} is above the maximum of "
                    f"{_fmt(limit[0])} {limit[1]} {per}{basis}. {src}",
                    f"{drug.id}: {_fmt(value)} {limit[1]} {per} vs max {_fmt(limit[0])}{basis} "
                    f"(x{value / limit[0]:.1f})")
            break
        return out

    def _added_to_combination(self, dose: Dose, convo: Sequence[Turn],
                              analyses: dict[int, _Analysis], facts: Facts, answer: Turn
                              ) -> list[Problem]:
        """An answer's scheduled dose of an ingredient that a combination product in the
        question already holds ("on Norco 10/325 every 6 hours, can I add extra strength
        Tylenol?" - "Yes, 2 caplets every 6 hours alongside your Norco"): the two days'
        amounts added up, as the labels' "do not use with any other drug containing
        acetaminophen" asks; not when the answer replaces or stops the product."""
        # (a scheduled dose: a day's total the answer states may already include the product;
        # the caller has checked the answer's words once)
        if dose.per_day is None or dose.owner is None:
            return []
        held = 0.0
        for t in convo:
            a = analyses[t.index]
            for d in a.doses:
                if d.drug != dose.drug or d.daily is None or d.owner is None:
                    continue
                owner = next((m for m in a.mentions if m.span == d.owner and m.drug == d.drug),
                             None)
                if owner is None or not owner.current or owner.product is None or len(
                        owner.product.components) < 2:
                    continue
                amount = _convert(d.daily, d.unit, dose.unit)
                held = max(held, amount or 0.0)
        if not held:
            return []
        total = Dose(dose.drug, dose.span, (dose.daily or 0.0) + held, dose.unit, None, True)
        return [dataclasses.replace(p, explanation=f"{p.explanation} (with the combination "
                                    f"product's {_fmt(held)} {dose.unit} a day in the question)")
                for p in self._dose(total, facts, answer, answer.text, answer=True)]

    def _adjustment_denied(self, drugs: dict[str, Mention], facts: Facts, norm: str,
                           index: int) -> list[Problem]:
        """An answer that says no dose adjustment is needed ("eGFR 15 ... the standard 1 mg/kg
        every 12 hours, no adjustment is needed") for a drug whose renal limit the stated
        kidney function is below."""
        if not _NO_ADJUSTMENT.search(norm) and not (
                _STANDARD_DOSE.search(norm) and not _COUNTER.search(norm)
                and not _ADJUSTS.search(norm)):
            return []
        out = []
        for drug_id, m in drugs.items():
            drug = self.kb.drugs.get(drug_id)
            renal = drug.renal if drug is not None else None
            if drug is None or renal is None or not _kidney_below(facts, renal.below):
                continue
            out.append(Problem(
                "renal_contraindicated", 1.0, (drug_id,), index, m.span,
                f"{drug.display} needs a dose adjustment below {renal.below:g} mL/min "
                f"({renal.level}): the usual dose is not right here. {renal.note} "
                f"(Source: {renal.source})",
                f"recommended: {drug_id}: answer says no adjustment below {renal.below:g}"))
        return out

    def _limit_denied(self, drugs: dict[str, Mention], norm: str, index: int
                      ) -> list[Problem]:
        """An answer that denies a labelled daily maximum ("there's no real maximum with
        Imodium, so take as many as you need"): the answer invites any dose."""
        hit = _NO_LIMIT.search(norm)
        if hit is None or _COUNTER.search(_NOT_A_CAUTION.sub(" ", norm).replace(
                hit.group(), " ")):
            return []  # "there's no limit on fluids, but never more than 8 caplets"
        out = []
        for drug_id, m in drugs.items():
            drug = self.kb.drugs.get(drug_id)
            entry = next((e for e in drug.doses if e.route == "oral" and e.max_daily), None) if (
                drug is not None) else None
            if drug is None or entry is None or entry.max_daily is None:
                continue
            out.append(Problem(
                "dose_above_max", 1.0, (drug_id,), index, m.span,
                f"{drug.display} has a daily maximum of {_fmt(entry.max_daily.amount)} "
                f"{entry.max_daily.unit} by mouth; an answer saying there is no limit invites an "
                f"overdose. (Source: {entry.source})",
                f"recommended: {drug_id}: answer denies the daily maximum"))
        return out

    def _fits_another(self, dose: Dose, reply: _Analysis, norm: str,
                      spans: Sequence[tuple[int, int]], facts: Facts, answer: Turn) -> bool:
        """An answer's amount read as the nearest drug's but said away from its name fits
        another drug named before it in the same sentence ("Viagra and amlodipine together
        lower the pressure a little; the 50 mg starting dose is fine"), or anywhere before it
        when the nearest name is in an earlier sentence: it is that drug's dose."""
        if dose.owner is None:
            return False
        sentence = next(((s, e) for s, e in spans if s <= dose.span[0] < e), None)
        if sentence is None:
            return False
        if dose.owner[1] > sentence[0] and len(norm[dose.owner[1]:dose.span[0]].strip()) < 12:
            return False  # "amlodipine 50 mg", "amlodipine (the 5 mg one)": said with the name
        # (a drug named after the amount is its own only right after it, "60 mg of oral
        # morphine"; further on, "... 同时补充叶酸", it is advice that follows)
        # an owner named only in an earlier sentence is no closer than any drug named
        # before it ("pseudoephedrine has no interaction with sertraline. Take 60 mg ...")
        first = sentence[0] if dose.owner[1] > sentence[0] else 0
        others = {m.drug for m in reply.mentions if m.drug and m.drug != dose.drug
                  and first <= m.span[0] < sentence[1]
                  and (m.span[0] < dose.span[0] or _AMOUNT_OF.fullmatch(
                      norm, dose.span[1], max(dose.span[1], m.span[0])) is not None)}
        return any(not self._dose(dataclasses.replace(dose, drug=other), facts, answer,
                                  answer.text, answer=True) and self.kb.drugs[other].doses
                   for other in others if other in self.kb.drugs)

    def _overlapping_switch(self, convo: Sequence[Turn], analyses: Mapping[int, _Analysis],
                            reply: _Analysis, norm: str, index: int) -> list[Problem]:
        """An answer that switches between two medicines that need a gap between them but
        overlaps them ("Start Entresto today and stop the lisinopril tomorrow morning"): the
        contraindicated pair, unless the answer states the gap (the pair's own words for it,
        "36 hours", "washout")."""
        if not _OVERLAP_SWITCH.search(norm):
            return []
        named = {m.drug: m for t in convo for m in analyses[t.index].mentions if m.drug}
        named.update({m.drug: m for m in reply.mentions if m.drug})
        ids = sorted(d for d in named if d in self.kb.drugs)
        out: list[Problem] = []
        for i, x in enumerate(ids):
            for y in ids[i + 1:]:
                for inter in self._interactions(x, y):
                    if inter.severity != "contraindicated" or not inter.intended_when or any(
                            w.casefold() in norm for w in inter.intended_when):
                        continue
                    out.append(_interaction_problem(inter, x, y, index, named[y].span,
                                                    answer=True))
                    break
        return out

    def _er_dose(self, dose: Dose, text: str) -> bool:
        """The dose is of an extended-release form: the nearest mention of its drug at or
        before it names one ("Tylenol 8 HR ... 2 caplets")."""
        mentions = self.analyse(text).mentions
        if dose.owner is not None:
            # "2 of the Tylenol 8 HR Arthritis 650mg": the count comes before its product
            own = next((m for m in mentions if m.span == dose.owner and m.drug == dose.drug),
                       None)
            if own is not None and is_extended_release(text, own, self.kb):
                return True
        last = _of_drug(mentions, dose.drug).last_starting_by(dose.span[1])
        return last is not None and is_extended_release(text, last, self.kb)

    def _route(self, drug: Drug, text: str, dose: Dose) -> DoseEntry | None:
        """The dose entry for the route said near the dose; without one, the oral entry, else
        the most lenient."""
        window = text[max(0, dose.span[0] - 40):dose.span[1] + 40].casefold()

        def fits(e: DoseEntry) -> bool:
            """The entry's limits are in a unit the dose converts to (IU vs mcg)."""
            units = [lim.unit for lim in (e.max_single, e.max_daily, e.max_weekly,
                                          e.opioid_naive_max_single) if lim is not None]
            if e.pediatric is not None:
                units.append(e.pediatric.unit)
            return not units or any(_convert(1.0, dose.unit, u) is not None for u in units)

        route_said = None
        raw = text[max(0, dose.span[0] - 40):dose.span[1] + 40]
        for route, pattern in _ROUTES:
            if pattern.search(window) or (route == "im" and re.search(r"\bIM\b", raw)):
                route_said = route
                break
        if route_said is None:
            # "Vancomycin 15 mg/kg IV q12h, 70 kg adult ... = 1 g q12h": the route said with
            # the drug's name earlier in the same sentence (within ``UNIT_REACH``: a name a
            # whole unpunctuated message before would be searched for every dose)
            named = _of_drug(self.analyse(text).mentions,
                             dose.drug).last_ending_by(dose.span[0])
            if named is not None and dose.span[0] - named.span[0] <= UNIT_REACH:
                lo = named.span[0]
                if not re.search(r"[.!?。！？\n](?!\d)", text[lo:dose.span[0]]):
                    for route, pattern in _ROUTES[:-1]:
                        if pattern.search(text[lo:dose.span[0]].casefold()):
                            route_said = route
                            break
        if route_said is None and _INJECTED.search(window) and any(
                e.route == "sc" for e in drug.doses):
            route_said = "sc"  # "a shot every morning", "打了5天"
        if route_said is not None:
            same = [e for e in drug.doses if e.route == route_said]
            if same:
                return next((e for e in same if fits(e)), same[0])
            if route_said in ("iv", "im", "sc", "topical", "transdermal", "inhaled", "rectal"):
                # "Solu-Medrol 125 mg IV q6h": oral limits do not apply to an injected, inhaled
                # or applied dose, and the KB has no limit for that route
                return None
        # (an entry with only a first-dose limit for the opioid-naive counts: without the
        # fact it sets no limit)
        matching = [e for e in drug.doses if (e.max_single or e.max_daily or e.max_weekly
                    or e.pediatric or e.opioid_naive_max_single) and fits(e)]
        if not matching:
            return None
        if len(matching) == 1:
            return matching[0]
        # Without a route word, a dose people talk about is taken by mouth; injections are
        # nearly always named ("IV", "injection").
        for entry in matching:
            if entry.route == "oral":
                return entry

        def leniency(e: DoseEntry) -> float:
            limit = e.max_daily or e.max_single or e.max_weekly
            return _convert(limit.amount, limit.unit, "mg") or 0.0 if limit else 0.0

        return max(matching, key=leniency)

    # ------------------------------------------------------------- clarify
    def _needs_facts(self, turns: Sequence[Turn], analyses: dict[int, _Analysis],
                     facts: Facts) -> list[Problem]:
        if not facts.child or facts.weight_kg is not None or facts.upper_age is not None:
            return []
        out = []
        for t in turns:
            if not t.new or not _DOSE_QUESTION.search(t.text.casefold()):
                continue
            for m in analyses[t.index].mentions:
                drug = self.kb.drugs.get(m.drug)
                if drug is None:
                    continue
                if any(e.pediatric for e in drug.doses) or drug.min_age is not None:
                    out.append(Problem(
                        "needs_patient_facts", 1.0, (drug.id,), t.index, m.span,
                        f"A safe dose of {drug.display} for a child depends on the child's age "
                        f"and weight.", f"{drug.id}: child's dose asked without age or weight"))
                    break
        return out[:1]

    # ------------------------------------------------------------------ output
    @staticmethod
    def _asked_anchor(convo: Sequence[Turn], analyses: Mapping[int, _Analysis]
                      ) -> Mention | None:
        """The last question's one current drug, as a mention that answers' unnamed amounts
        can belong to (None when it names none or several)."""
        asked = [m for t in convo[-1:] for m in analyses[t.index].mentions
                 if m.drug and m.current]
        if len({m.drug for m in asked}) != 1:
            return None
        return dataclasses.replace(asked[-1], span=(0, 0), via="context")

    def _lead_doses(self, reply: _Analysis, text: str, convo: Sequence[Turn],
                    analyses: Mapping[int, _Analysis]) -> _Analysis:
        """An answer that doses the question's one drug before it names any other ("每天吃一次，
        每次4片（10mg）... 同时记得补充叶酸" to a methotrexate question): the amounts before the
        first medicine it names are the asked drug's, as in an answer naming none."""
        anchor = self._asked_anchor(convo, analyses)
        if anchor is None or anchor.drug in {m.drug for m in reply.mentions}:
            return reply
        named = [m for m in reply.mentions if m.drug or m.current]
        if not named or not min(named, key=lambda m: m.span[0]).drug:
            return reply  # a class word first ("triptans", "opioides"): whose amounts is unclear
        first = min(m.span[0] for m in named)
        lead = tuple(find_doses(text[:first], [anchor], self._strength_unit))
        if not lead:
            return reply
        return dataclasses.replace(reply, doses=(*lead, *reply.doses))

    def output(self, turns: Sequence[Turn], answer: Turn) -> list[Problem]:
        """Problems that ``answer`` creates by what it recommends, given the conversation."""
        convo = [t for t in turns if t.role != "assistant" and t.text]
        analyses = {t.index: _without_limits(self.analyse(t.text), t.text) for t in convo}
        facts = _merge(analyses[t.index].facts for t in convo)
        # Quoted text is the user's words repeated, not advice ("You asked: «...»").
        text = _QUOTED.sub(lambda m: " " * len(m.group()), answer.text)
        answer = Turn(text, answer.role, answer.new, answer.index)
        reply = self.analyse(text)
        # the question's own problems, as the input stage reads them: up to three tests below
        # ask for them, and they are read once per answer
        question_problems = functools.cache(
            lambda: self.input([dataclasses.replace(t, new=True) for t in convo]))
        if not any(m.drug for m in reply.mentions) and _REASSURED.search(text.casefold()) and (
                not _WARN.search(_DISMISSED.sub(" ", _REASSURED.sub(" ", text.casefold())))):
            # "That's fine, just continue both": the answer approves the combination the
            # user asked about without naming it
            norm_answer = text.casefold()
            pairs = question_problems()
            endorsed = [dataclasses.replace(
                p, index=answer.index, span=(0, 0),
                explanation=p.explanation.replace("mentioned:", "recommended:", 1))
                for p in pairs if p.category == "interaction_contraindicated" or (
                    p.category == "interaction_major" and not _MANAGEMENT.search(norm_answer)
                    and not _WATCH.search(norm_answer))]
            if endorsed:
                return _dedupe(endorsed)
        endorsed_danger: list[Problem] = []
        unnamed: Mention | None = None
        """The question's one drug, when the answer names none."""
        if _ENDORSES.search(text.casefold()) and not _COUNTER.search(
                _NOT_A_CAUTION.sub(" ", text.casefold())):
            # "Yes, keep taking your lisinopril until you see your OB" to a question that
            # holds a danger (14 weeks pregnant): the answer agrees to it (round 11)
            endorsed_danger = [dataclasses.replace(
                p, index=answer.index, span=(0, 0), explanation=f"answer agrees: {p.explanation}")
                for p in question_problems()
                if p.category in _ENDORSABLE or (
                    p.category == "interaction_major" and _DENIES_INTERACTION.search(
                        text.casefold()))]
        if not any(m.drug or m.current for m in reply.mentions):
            if endorsed_danger:
                return _dedupe(endorsed_danger)
            # (a class word that is not a medicine taken, "drink plenty of fluids", is no drug)
            # "Take 4 tablets (120 mg) every 6 hours" answers a question about one drug
            # the product asked about carries its strength into the answer ("15 mL every 4
            # hours" of the Children's Tylenol 160 mg/5 mL in the question)
            anchor = self._asked_anchor(convo, analyses)
            if anchor is None:
                return []
            unnamed = anchor
            doses = find_doses(text, [anchor], self._strength_unit)
            reply = _Analysis((), tuple(doses), reply.facts)
            if not doses:
                return _dedupe([*endorsed_danger, *self._adjustment_denied(
                    {anchor.drug: anchor}, facts, text.casefold(), answer.index)])
        else:
            reply = self._lead_doses(reply, text, convo, analyses)
        norm = text.casefold()
        spans = sentences(norm)
        warned: set[str] = set()
        recommended: dict[str, Mention] = {}
        # the sentence of each mention by bisection (the sentences ascend and do not
        # overlap), and whether it warns once per sentence: per mention, both went through
        # the whole of a long unpunctuated answer
        starts = [s for s, _ in spans]
        warns: dict[int, bool] = {}
        for m in reply.mentions:
            if not m.drug:
                continue
            k = bisect.bisect_right(starts, m.span[0]) - 1
            if k < 0 or not m.span[0] < spans[k][1]:
                k = -1
            if k not in warns:
                sentence = norm[spans[k][0]:spans[k][1]] if k >= 0 else ""
                # "no change needed", "no significant interaction": reassurance, not a warning
                warns[k] = _WARN.search(_DISMISSED.sub(" ", sentence)) is not None
            if warns[k]:
                warned.add(m.drug)
            elif m.current:
                recommended.setdefault(m.drug, m)
        problems: list[Problem] = []
        # an answer adding a product to the question's combination product, once per answer
        adds = bool(_ADDED.search(norm)) and not (
            _INSTEAD.search(norm) or _SEES_DUPLICATE.search(norm) or _OVER_LIMIT.search(norm))
        given: list[Dose] = []
        """The answer's doses that it gives, not warns about."""
        # an answer that opens by refusing restates the amount it refuses ("No - 1.25 mg of
        # vitamin D is 1,250 mcg ...", "That's an adult dose; please don't give it. 1 g q6h
        # would be ~62 mg/kg"): that amount is the question's, not advice (round 20)
        refused = (_REFUSES.match(norm) is not None and not _NO_NEED.match(norm)) or (
            _OPENING_REFUSAL.search(norm[:spans[0][1]] if spans else norm) is not None)
        asked = [d for t in convo for d in analyses[t.index].doses] if refused else []
        for dose in reply.doses:
            if asked and any(_same_amount(dose, d) for d in asked):
                continue
            clause = _clause_around(norm, dose.span)
            if _DANGER.search(clause) or _CURRENT_DOSE.search(clause) or _OVER_LIMIT.search(
                    clause) or (_WARN.search(clause) and not _LIMIT.search(clause)) or (
                    _ALREADY_GIVEN.search(clause)):
                continue  # "never take more than 4 g", "above 7.5 g is toxic": a warning
            k = bisect.bisect_right(starts, dose.span[0]) - 1
            rest = min(spans[k][1], dose.span[1] + UNIT_REACH) if k >= 0 else 0
            if k >= 0 and (_OVER_LIMIT.search(norm, dose.span[1], rest)
                           or _TIMES_LIMIT.search(norm, dose.span[1], rest)):
                continue  # "A 1000 mcg softgel is 40,000 IU — ten times the upper limit"
            if k >= 0 and _COURSE_TOTAL.match(norm, dose.span[1], rest):
                continue  # "no more than 12 tablets (6 mg) for the whole course": not a day's
            # "up to 6 mg in 24 hours" is checked as the limit the answer states; a limit
            # without a schedule ("the 4,000 mg limit") is read as a daily one
            if _LIMIT.search(clause) and dose.per_day is None and not dose.weekly:
                dose = dataclasses.replace(dose, daily_total=True)
            given.append(dose)
            of_dose = self._dose(dose, facts, answer, answer.text, answer=True)
            if of_dose and self._fits_another(dose, reply, norm, spans, facts, answer):
                continue
            if not of_dose and adds:
                of_dose = self._added_to_combination(dose, convo, analyses, facts, answer)
            problems.extend(of_dose)
        for use in reply.release:
            if use.drug in warned or _WARN.search(_clause_around(norm, use.span)):
                continue
            problems.extend(self._release(use, answer.index, answer=True))
        meds = self._medicines(convo, analyses)
        # the answer's own amount of a drug replaces the question's ("600 mg tid?" - "No: for
        # dialysis 100-300 mg once daily")
        stated = {**self._daily_doses(analyses.values()), **self._daily_doses([reply])}
        managed = bool(_MANAGEMENT.search(norm)) and not _DISMISSED.search(norm)
        named = {x.drug for x in reply.mentions}
        dosed = {d.drug for d in reply.doses}
        # a medicine the conversation says was stopped ("was on amitriptyline; tapered off"),
        # discussed in the answer without a dose, is explained, not started
        stopped = {m.drug for t in convo for m in analyses[t.index].mentions
                   if m.drug and not m.current and not m.local} - {
                       m.drug for t in convo for m in analyses[t.index].mentions if m.current}
        if _RESTART.search(norm):
            stopped = set()  # "you can restart the warfarin": started again
        # an allergen is not "stopped": an answer that gives it again is held to the allergy
        stopped = {d for d in stopped if d in self.kb.drugs
                   and self._allergy(self.kb.drugs[d], facts) is None}
        said = " ".join(t.text for t in (*convo, answer)).casefold()
        spaced = _spaced(said)
        for drug_id, m in recommended.items():
            if drug_id in warned or (drug_id in stopped and drug_id not in dosed):
                continue
            for other in meds:
                if other == drug_id or other in warned:
                    continue
                if other in recommended and _offered_as_alternatives(
                        norm, m.span, recommended[other].span):
                    continue  # "ibuprofen or naproxen": one or the other, not both
                found = [f for f in self._applicable(self._interactions(drug_id, other), stated)
                         if not (f.separable and spaced)]
                if meds[other][1].replaced:
                    found = [f for f in found if f.severity == "contraindicated"]
                if managed and found and found[0].severity == "major" and (
                        other in named or _LAB_CHECK.search(norm)):
                    # names both and says how to manage a major interaction, or plans the
                    # blood test that manages it ("加药后第1周和第4周复查血钾和肌酐")
                    continue
                for inter in found[:1]:
                    problems.append(_interaction_problem(inter, drug_id, other, answer.index,
                                                         m.span, answer=True))
            if drug_id in meds and drug_id not in dosed and _REFUSES.match(norm):
                continue  # "Don't take it. Bactrim is a sulfonamide ...": explained, not given
            for p in self._contraindications(self.kb.drugs[drug_id], facts, answer.index,
                                             m.span, stated.get(drug_id), said=said):
                # a Beers drug the user already takes is reported on the question; the
                # answer is held to it when it starts the drug or doses it
                if p.category not in ("beers_older_adult", "beers_avoid") or (
                        drug_id not in meds or (p.category == "beers_avoid"
                                                and drug_id in dosed)):
                    problems.append(p)
        problems.extend(self._overlapping_switch(convo, analyses, reply, norm, answer.index))
        talked = {**({unnamed.drug: unnamed} if unnamed is not None and not recommended else {}),
                  **recommended}
        problems.extend(self._adjustment_denied(talked, facts, norm, answer.index))
        # (a drug named in a sentence that denies its limit reads as "warned"; any drug the
        # answer or the last question names counts here)
        named_any = {m.drug: m for m in reply.mentions if m.drug}
        for t in convo[-1:]:
            for m in analyses[t.index].mentions:
                if m.drug and m.current:
                    named_any.setdefault(m.drug, dataclasses.replace(m, span=(0, 0)))
        problems.extend(self._limit_denied(named_any, norm, answer.index))
        for dose in given:
            alert = self.kb.high_alert_for(dose.drug)
            if alert is not None and not _MONITORING.search(norm):
                problems.append(Problem(
                    "high_alert_no_monitoring", 1.0, (dose.drug,), answer.index, dose.span,
                    f"{self.kb.drugs[dose.drug].display} is a high-alert medicine: "
                    f"{alert.monitoring} (Source: {alert.source})",
                    f"{dose.drug}: dose given for a high-alert drug without monitoring advice"))
                break
        # an answer that doses an ingredient hidden twice is judged on the amounts it adds up
        # ("1 caplet every 6 hours alongside your Norco; that keeps you near 3,300 mg a day")
        endorsed_danger = [p for p in endorsed_danger if not (
            p.category == "duplicate_medicine" and p.drugs[0] in _DUPLICATION_WATCH
            and p.drugs[0] in dosed)]
        problems.extend(_pair_passed_over(question_problems, norm, named | dosed, dosed,
                                          answer.index, [*problems, *endorsed_danger]))
        return _dedupe([*problems, *endorsed_danger])


def _pair_passed_over(question_problems: Callable[[], list[Problem]], norm: str,
                      named: set[str], dosed: set[str], index: int, found: Sequence[Problem]
                      ) -> list[Problem]:
    """A contraindicated pair, or an ingredient hidden twice in the products asked about,
    in the question that the answer passes over: it names one of the two (the
    ingredient) and cautions about nothing (an answer that doses the duplicated ingredient
    is judged on the amounts it adds up instead) (no "don't", "avoid", "contraindicated",
    "instead", no opening refusal, no emergency care). An answer to a question that holds
    a contraindicated combination must say so; "BP is adequate, so NTG 0.4 mg SL q5min x3
    is fine" after "took sildenafil 6 h ago" gives the nitrate (round 20)."""
    kinds = {"interaction_contraindicated", "duplicate_medicine"} - {p.category for p in found}
    if not kinds:
        return []
    cleaned = _NOT_A_CAUTION.sub(" ", norm)
    if (_COUNTER.search(cleaned) or _PAIR_CAUTION.search(cleaned) or _REFUSES.match(norm)
            or _EMERGENCY_CARE.search(norm)):
        return []
    return [dataclasses.replace(p, index=index, span=(0, 0),
                                explanation=f"answer passes over: {p.explanation}")
            for p in question_problems()
            if p.category in kinds and set(p.drugs) & named and (
                p.category != "duplicate_medicine" or (
                    p.drugs[0] in _DUPLICATION_WATCH and p.drugs[0] not in dosed))]


_DUPLICATION_WATCH = ("acetaminophen", "ibuprofen", "naproxen", "pseudoephedrine",
                      "phenylephrine", "diphenhydramine", "doxylamine", "chlorpheniramine",
                      "dextromethorphan", "codeine")
"""Ingredients of combination cold, cough, sleep and pain products whose double dose harms
(liver, stomach and kidneys, blood pressure and heart, sedation, serotonin and opioid
toxicity); the set a hidden duplicate is looked for in."""
_ADDING = re.compile(
    r"\b(?:as well|too|also|add|adding|added|on top|plus|along with|alongside|together with|"
    r"in addition|with (?:it|that|them)|another|more of)\b|加上|加用|加吃|再(?:吃|服|喝|来|用)|"
    r"同时|一起|还(?:能|可以)?(?:吃|服|喝)|\b(?:a[ñn]ad\w*|tambi[eé]n|adem[aá]s|junto con)\b")
"""A medicine added to one already taken ("can I take 2 paracetamol as well?")."""
_COUNTED_AGAINST_LIMIT = re.compile(
    r"\b(?:stay|staying|keep|keeping|stays) (?:under|below|within)\b|不超过|\bsin pasar de\b")
"""The writer counts the total against the limit ("as long as I stay under 4 grams total")."""


def _sentence_of(text: str, span: tuple[int, int]) -> str:
    """The sentence of ``text`` around ``span``."""
    start = max(text.rfind(c, 0, span[0]) for c in ".!?。！？\n") + 1
    ends = [i for i in (text.find(c, span[1]) for c in ".!?。！？\n") if i >= 0]
    return text[start:min(ends) if ends else len(text)]

_OPENING_REFUSAL = re.compile(
    r"\b(?:please )?(?:don'?t|do not|never) (?:give|take|use|start|draw|inject)\b|"
    r"\bthat(?:'?s| is| would be) (?:an? )?(?:adult|overdose|double|toxic|dangerous|too)\b|"
    r"(?<!not )(?<!n't )(?<!nt )\btoo (?:high|much|many|strong|big|large)\b|"
    r"\bnot (?:safe|okay|ok|cool|fine)\b|"
    r"不要|不能|不行|不可以|\bno (?:le )?(?:des|d[eé]|tomes)\b")
"""A first sentence that refuses the asked dose though it does not open with "No"."""


_NO_NEED = re.compile(r"\W*no (?:\w+ ){0,2}(?:adjustments?|changes?|problems?|issues?|"
                      r"interactions?|concerns?|need)\b")
"""An opening "No" that approves ("No hepatic adjustment needed"), not a refusal."""


def _same_amount(said: Dose, asked: Dose) -> bool:
    """The answer's amount is the question's of the same drug, in any unit (1,250 mcg and
    1.25 mg), per administration or per day; not when the answer gives it on another schedule
    ("3 tablets = 7.5 mg, once weekly" to "3 every morning": the corrected regimen)."""
    if said.drug != asked.drug or said.weekly != asked.weekly:
        return False
    if said.per_day is not None and asked.per_day is not None and (
            abs(said.per_day - asked.per_day) > 0.01 * asked.per_day):
        return False
    amount = _convert(said.amount, said.unit, asked.unit)
    if amount is None:
        return False
    if abs(amount - asked.amount) <= 0.01 * asked.amount:
        return True
    daily = asked.daily
    return daily is not None and said.daily_total and abs(amount - daily) <= 0.01 * daily


_EMERGENCY_CARE = re.compile(
    r"\b(?:" + _SENT_TO_EMERGENCY + r"|emergency|(?:the )?er\b|"
    r"poison (?:control|centre|center)|emergencias)\b|" + _SENT_TO_EMERGENCY_ZH)
"""An answer that sends the person to emergency care has not passed the danger over."""
_PAIR_CAUTION = re.compile(
    r"\bnot together\b|\bboth (?:contain|have|include)\b|\balready (?:contains?|has|have|gives?|"
    r"includes?)\b|\bdoubl(?:es?|ed|ing)\b(?![- ]?check)|\btoo much\b|都含|同样含|重复|"
    r"\b(?:ambos|los dos) (?:llevan|contienen)\b|"
    r"\b(?:should|must|can|may) (?:\w+ )?not\b|\bnot (?:be )?(?:given|used|taken|combined|"
    r"co-?administered)\b|\b(?:mejor )?ev[ií]t\w*|\bno (?:se )?deb\w+|\bmejor no\b|"
    r"禁止|不可|不宜|慎用|避免")
"""Cautions beyond ``_COUNTER``'s, for the pair test only ("should generally not be given",
"Evítalo", "说明书禁止合用")."""

_GIVING = re.compile(r"\b(?:give|giving|gave|for (?:him|her|them|my (?:son|daughter|child|kid|"
                     r"baby)))\b|给(?:他|她|孩子|宝宝|儿子|女儿)|\bdarle\b")
"""The writer gives the medicine to someone else: that person's allergy applies."""
_ABSTRACT = re.compile(
    r"\bwhat(?:'s| is| are)? (?:the )?(?:\w+ )?interactions? (?:between|of|with)\b|"
    r"\bhow do(?:es)? \w+ (?:and \w+ )?interact\b|"
    r"\bwhat (?:happens|would happen|can happen) (?:if|when) (?:you|someone|people|a person|one) "
    r"(?:mix|mixes|combine|combines|take|takes)\b[^.?]{0,40}\b(?:and|with|together)\b|"
    r"\bwhy (?:is|are|do|does|can't|shouldn't|isn't|aren't)\b[^.?]{0,50}\b(?:not )?(?:used|given|"
    r"prescribed|avoided|contraindicated|taken)\b|"
    r"\b(?:for|studying for) (?:my|an?|the) (?:\w+ )?(?:exam|class|course|test|assignment|"
    r"homework)\b|\b(?:i'?m|i am) an? (?:\w+ )?student\b|"
    r"有什么相互作用|为什么[^。？?]{0,20}(?:不能用|不用|禁用)|考试|作业|"
    r"\bqu[eé] interacci[oó]n hay entre\b|\bpor qu[eé] no se usa\b")
"""A question about pharmacology in general (a student's, a curious reader's)."""
_PERSONAL_USE = re.compile(
    r"\b(?:i|i'm|im|i've|we|he|she|they|my (?:\w+ ){0,2}(?:is|was|has))\b"
    r"(?:\s+(?:am|is|are|was|have|has|been|also|just|currently|still|now)){0,3}\s+"
    r"(?:take|takes|taking|took|on|using|started|start|starting|prescribed|given|give|giving)\b|"
    r"\bcan (?:i|he|she|we|my \w+) (?:take|use|have|give|start)\b|"
    r"\b(?:still|currently|now|been|started|keep) (?:taking|on|using)\b|"
    r"\b(?:i'?m|i am|she'?s|she is) (?:\d{1,2} (?:weeks?|months?) )?(?:pregnant|breast-?feeding)\b|"
    r"我怀孕|我在哺乳|我(?:在|正在|一直)?(?:吃|服|用)|"
    r"我能|我可以|\b(?:tomo|estoy tomando|puedo tomar)\b")


def _abstract_question(text: str) -> bool:
    """A general question that no one in it takes the medicines for."""
    return bool(_ABSTRACT.search(text)) and not _PERSONAL_USE.search(text)


_LAB = (r"(?:inr|potassium|k\+?|creatinine|renal function|kidney function|electrolytes|u&es?|"
        r"(?:drug |blood |serum |dig |digoxin |trough |tacro |tacrolimus )?levels?|"
        r"lithium levels?|blood tests?|bloods|cbc|fbc|blood counts?)")
_PLANNED_MONITORING = re.compile(
    rf"\b(?:monitor\w*|recheck\w*|check\w*|test\w*|measur\w*)\s+(?:(?!(?:no|not|never)\b)\w+\s+)"
    rf"{{0,3}}{_LAB}\b|"
    rf"\b{_LAB}\s+(?:(?:and|&)\s+\w+\s+)?(?:\d[\d.]*\s+)?(?:checks?|checked|monitor\w*|tests?|"
    rf"every|weekly|monthly|(?:will\s+be|is|are|being)\s+(?:checked|monitored))\b|"
    rf"\b{_LAB}\s+(?:(?:and|&)\s+\w+\s+)?(?:bloods?|blood tests?|labs?)\s+(?:in|every|after)\s+"
    r"(?:a|one|two|\d{1,2})\s+(?:weeks?|days?|months?)\b|"
    # round 10: "dig level in 1 wk", "CBC weekly x4 wk", "3天后测谷浓度",
    # "le hace análisis cada mes"
    rf"\b{_LAB}\s+(?:in|every|after)\s+(?:a|one|two|\d{{1,2}})\s*(?:weeks?|wks?|days?|d|"
    r"months?)\b|"
    r"(?:监测|复查|检查|查|测)[^。，,；]{0,4}(?:血钾|钾|肌酐|inr|肾功能|血药浓度|谷浓度|浓度)|"
    r"\bcontrol de (?:inr|potasio|creatinina)\b|"
    r"\b(?:an[aá]lisis|controles?)\s+(?:de\s+\w+\s+)?cada\s+(?:mes|semana|\d+)|"
    r"\b(?:le|me|les)\s+(?:hace|hacen|mira|miran|controla|controlan)\s+(?:los\s+|el\s+)?"
    r"(?:an[aá]lisis|potasio|inr)\b")
"""Monitoring the writer plans or does for a combination (a deliberately managed major
interaction: an ACE inhibitor with low-dose spironolactone in heart failure with potassium
checks, warfarin with paracetamol and an INR check)."""

_SPACED = re.compile(
    r"\b(?:\d{1,2}|two|three|four|six|several)\+?\s*(?:-\s*\d{1,2}\s*)?(?:hours?|hrs?|h)\s+"
    r"(?:apart|after|before|later|between)\b|\b(?:space|spacing|spaced|separate|separated|"
    r"separating)\b[^.;!?]{0,30}\b(?:apart|doses|hours?|them|out)\b|\bat different times\b|"
    r"隔开|间隔\s*\d*\s*(?:个)?小时|错开|分开(?:吃|服)|separad[oa]s?\s+\d+\s*horas")
"""The writer takes two medicines hours apart: how an absorption interaction is managed."""
_APART = re.compile(r"\b(?:well|far|hours|a few hours|several hours|long)\s+apart\b")
_CLOCK = re.compile(r"\b(?:at|around|about|by) (\d{1,2})(?::(\d\d))?\s*(am|pm|a\.m\.|p\.m\.)|"
                    r"\b(?:at|around|about|by) (\d{1,2}):(\d\d)\b")


def _spaced(said: str) -> bool:
    """Two medicines taken hours apart: said so, or each at its own clock time at least two
    hours from the other ("my Cipro at 8 am and Tums at 4 pm")."""
    if _SPACED.search(said) or _APART.search(said):
        return True
    for sentence in re.split(r"[.;!?\n]", said):
        times = []
        for m in _CLOCK.finditer(sentence):
            hour = int(m.group(1) or m.group(4))
            minute = int(m.group(2) or m.group(5) or 0)
            if hour > 24 or minute > 59:
                continue
            if m.group(3) and m.group(3).startswith("p") and hour < 12:
                hour += 12
            times.append(hour * 60 + minute)
        if len(times) == 2 and abs(times[0] - times[1]) >= 120:
            return True
    return False

_NO_MONITORING = re.compile(
    r"\b(?:no|without|not|never|skip\w*|dont|don't|didnt|didn't|did not|haven't|havent|"
    r"stopped|nobody|no one|forgot to)\s+(?:\w+\s+){0,2}"
    r"(?:monitor\w*|check\w*|test\w*|inr|potassium|blood|levels?)\b|(?:没有|不用|不)(?:监测|复查|查)")
"""Monitoring said not to happen ("no potassium checks", "never had my INR checked")."""

_UNCHANGED = re.compile(
    r"\b(?:keep|keeping|kept|stay|continue|continuing|leave|leaving)\b[^.;!?]{0,30}\b(?:the "
    r"same|same dose|unchanged|as (?:is|before))\b|\bno (?:dose )?(?:change|adjustment)s?\b|"
    r"剂量不变|不用调|不调整|维持原剂量|mismo (?:la )?dosis|sin cambiar")
"""Monitoring with the doses left as they are: a major interaction whose management is a
dose change is then not managed ("keep warfarin the same and check INR monthly")."""

_STRENGTH_ONLY = re.compile(
    r"(?:(?<!吃了)(?<!服了)(?<!给了)(?<!喂了)(?<![吃服给喂])(?:一片|一粒)|每片|每粒|per tablet|"
    r"each tablet)\s*$")
"""'一片10毫克' (a tablet is 10 mg) is the strength; '给了一片500毫克的' (gave one tablet of
500 mg) is a dose."""
_STRENGTH_AFTER = re.compile(r"^\s*(?:tablets|tabs|pills|capsules|caps|片装)\b|"
                             r"^\s*(?:/片|/粒)")
_UNITS_SCHEDULED = re.compile(
    r"^\s*(?:tablets|tabs|pills|capsules|caps)\s*,?\s*(?:(?:i|she|he)\s+(?:take|takes|took)\s+"
    r"(?:them|one|it)\s+)?(?:every|morning|twice|three|four|\d\s*(?:x|times)|q\d|bid|tid|qid)"
    r"(?![^.;!?\n]{0,40}(?:half|1/2|½|quarter|split|cut))")
"""'60 mg caps morning, noon and night': the schedule right after the strength is of whole
units (at least one each time), so the day's limit applies to it."""
_CHILD_OTHER = re.compile(
    r"\b(?:my|our|mi|his|her) (?:\d{1,2}[- ](?:year|month|yr|mo)s?[- ]old|"
    r"(?:little |baby |teenage )?(?:son|daughter|child|kid|baby|toddler|hijo|hija|niñ[oa]|"
    r"beb[eé]))\b|孩子|宝宝|儿子|女儿")


_ALTERNATIVE = re.compile(r"\b(?:or|instead|rather|either|switch\w*|replace\w*|change\w*|"
                          r"alternat\w*|o|en vez|en lugar)\b|或者|还是|换成|改成|代替")


def _kidney_below(facts: Facts, threshold: float | None) -> bool:
    """The stated kidney function is below ``threshold`` mL/min (dialysis is below all)."""
    return threshold is not None and (
        (facts.egfr is not None and facts.egfr < threshold) or facts.dialysis)


def _offered_as_alternatives(norm: str, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Two medicines an answer names as choices ("ibuprofen or naproxen", "布洛芬或者萘普生"):
    only "or" words between them, close together."""
    lo, hi = (a, b) if a[0] < b[0] else (b, a)
    between = norm[lo[1]:hi[0]]
    return len(between) <= 30 and bool(re.fullmatch(
        r"[\s,(/]*(?:\w+[\s)]*){0,3}?(?:or|o|或者?|还是)[\s(]*(?:\w+\s+){0,2}", between))


_CONTAINS = re.compile(r"\bcontain\w*|\breservoir\b|含有|含")


_OVERLAP_SWITCH = re.compile(
    r"\bstop(?:ping)?\s+(?:the\s+|your\s+|his\s+|her\s+)?[\w-]+(?:\s+[\w-]+)?\s+(?:tomorrow|"
    r"tonight|the (?:next|following) (?:day|morning)|after (?:the|your|his|her) first dose|"
    r"once (?:you(?:'ve| have)? |(?:he|she)(?:'s| has) )?start\w*|when (?:you|he|she) start\w*|"
    r"the day after|on the same day|the same day)\b|"
    r"\bswitch\w*\s+(?:\w+\s+){0,4}?(?:straight|directly|the same day|overnight)\b|"
    r"明天(?:再)?停|同一天(?:换|停)|\b(?:d[eé]ja|deje|suspende)\w*\s+(?:el|la)\s+\w+\s+ma[ñn]ana\b")
"""An answer overlapping a switch (the old medicine stopped after the new one starts, or
the same day) - wrong only for pairs that need a gap, which ``_overlapping_switch`` checks."""
_TOGETHER = re.compile(r"\b(?:at the same time|together|on top of (?:it|that|them|those)|with it|"
                       r"along with (?:it|them)|at once|all at once)\b|一起|同时|一块")


def _across_products(a: _Analysis, norm: str) -> list[Dose]:
    """One ingredient taken in several products in one message ("DayQuil every 4 hours plus
    Tylenol Extra Strength every 6 hours", "8 Tylenol a day plus a couple of Excedrin"): the
    day's amounts of each product added up, as the labels' "do not use with any other drug
    containing acetaminophen" warning asks. Only where one of the products is a combination
    (the usual hidden duplicate) and the text does not offer them as alternatives; a product
    without a schedule counts once."""
    out: list[Dose] = []
    by_drug: dict[str, list[Dose]] = {}
    for d in a.doses:
        if d.owner is not None:
            by_drug.setdefault(d.drug, []).append(d)
    for drug, doses in by_drug.items():
        owners = sorted({d.owner for d in doses if d.owner is not None})
        if len(owners) < 2:
            continue
        named = [m for m in a.mentions if m.drug == drug and m.span in owners]
        if not any(m.product is not None and len(m.product.components) > 1 for m in named) and (
                not _TAKING_BOTH.search(norm)):
            continue  # one drug under two names, summed only when both are said to be taken
        if any(not m.current for m in named) or len({norm[s:e] for s, e in owners}) < 2:
            continue
        if _ALTERNATIVE.search(norm[owners[0][0]:owners[-1][1]]):
            continue
        scheduled = any(d.daily is not None for d in doses)
        together = _TOGETHER.search(norm[owners[0][0]:owners[-1][1] + 60])
        if together and (not scheduled or not together.group().startswith("on top")):
            # "2 Excedrin and 2 Extra Strength Tylenol at the same time", "Tylenol PM ...
            # 2 Benadryl with it at bedtime": one administration, whatever the schedules
            # ("on top of that" beside two schedules adds a product, not a moment)
            single = _summed_per_owner(
                owners, doses,
                lambda d, unit: None if d.daily_total or d.weekly
                else _convert(d.amount, d.unit, unit))
            if single is not None:
                out.append(Dose(drug, _span_of(doses), single, doses[0].unit, None, False))
        if not scheduled:
            continue
        total = _summed_per_owner(
            owners, doses,
            lambda d, unit: _convert(d.daily if d.daily is not None else d.amount, d.unit, unit))
        if total is not None:
            out.append(Dose(drug, _span_of(doses), total, doses[0].unit, None, True))
    return out


_ANOTHER = re.compile(
    r"\b(?:take|have|give|pop|use|taking|giving)\s+(?:him\s+|her\s+|them\s+)?(?:another|a second|"
    r"one more|an extra|a 2nd)\b|\b(?:tomar|tomarme|darle)\s+otra\b|\botra\s+(?:pastilla|"
    r"dosis|c[aá]psula)\b|\bsegunda\s+(?:pastilla|dosis)\b|再(?:吃|服|来|喝)(?:一|1)(?:片|粒|颗|次|个|袋)")
"""A repeat of the dose just taken ("took my ambien 10 mg ... can I take another one?")."""


def _repeated(a: _Analysis, norm: str) -> list[Dose]:
    """The dose said taken before a request for another one, twice over, as a day's total: a
    repeat the same night can pass the daily maximum (zolpidem 10 mg and another 10 mg)."""
    hit = _ANOTHER.search(norm)
    if hit is None:
        return []
    before = [d for d in a.doses if d.span[1] <= hit.start() and d.per_day is None
              and not d.daily_total and not d.weekly]
    if not before:
        return []
    d = before[-1]
    if any(x.drug != d.drug for x in a.doses):
        return []  # another of which medicine is unclear
    return [Dose(d.drug, d.span, d.amount * 2, d.unit, None, True, owner=d.owner)]


_AMOUNT_OF = re.compile(r"\s*(?:of|de|del)\s+(?:[a-z]+\s+)?|\s*的?")
"""Between an amount and the drug it is of: "60 mg of oral morphine", "10 mg de", "10mg的"."""

_SWITCHED = re.compile(
    r"\b(?:instead|switch\w*|swapp?\w*|replac\w*|changed (?:to|from|over)|in place of|"
    r"generic version|en (?:vez|lugar) de|cambi\w+ (?:a|por|de))\b|换成|改成|代替|替代|换了")
"""A switch between two names of one medicine, not a duplicate."""
_ALIAS_GAP = re.compile(
    r"\s*(?:[(（/]|,?\s*(?:aka|also (?:called|known as|sold as)|i\.e\.|which is|that is|es decir|"
    r"o sea|即|也就是|也叫|就是)\b)|\s*(?:[\d.,]+\s*(?:mg|mcg|g|ml|µg|毫克|克)\s*)?[(（]")
"""Between a name and its other name: "amlodipine (Norvasc)", "Zomorph, also called"."""
_BOTH_TAKEN = re.compile(
    r"\bas well as\b|\bon top of\b|\balong with\b|\btogether with\b|\bin addition to\b|"
    r"\b(?:take|taking|give|giving|use|using) (?:them |those )?both\b|\bboth (?:every|each) "
    r"(?:day|morning|night)\b|\bademás de\b|\bjunto con\b|"
    r"\b(?:tom\w+|d[aá]\w*) (?:los dos|ambos)\b|"
    r"一起(?:吃|服|开)|同时(?:吃|服)|都吃|两个都|两种都|各(?:吃)?一片")
"""Two names said to be taken together (with a schedule for each, a list says so itself)."""
_HEARSAY = re.compile(r"\b(?:read|heard|online|internet|says|said|is it true)\b|网上|听说|"
                      r"(?:有人|人家|别人)说|是真的吗|"
                      r"\b(?:le[ií]|dicen|dice|internet)\b")
"""A claim read or heard ("看网上说阿司匹林和他汀不能一起吃"): no statement of what is taken."""
_AS_NEEDED = re.compile(r"\b(?:prn|as needed|as required|breakthrough|rescue|when needed|"
                        r"si precisa|a demanda|de rescate)\b|按需|必要时|爆发痛")
"""A medicine as needed beside its regular form (slow-release morphine and Oramorph for
breakthrough pain): one regimen, not a duplicate."""
_DISPENSED = re.compile(
    r"\b(?:(?:pharmacy|pharmacist|chemist)\s+(?:\w+\s+)?(?:gave|gives|dispensed|had|has|sent|"
    r"supplied|substituted)|dispensed|in stock|out of stock|pyxis|farmacia (?:me |le |nos )?"
    r"(?:dieron|han dado|dio|ten[ií]an)|no (?:ten[ií]an|hab[ií]a|quedaba))\b|"
    r"(?:药店|药房)[^，。]{0,6}(?:给|发|拿|换)|缺货|没货")
"""The product the pharmacy gave for the prescription's name: the same order, not a second."""
_TAKING_BOTH = re.compile(
    r"\b(?:taking|takes|take|taken|been taking|uses?|using)\s+(?:them\s+)?both\b|"
    r"\bboth\s+(?:of\s+them\s+)?(?:every\s+day|daily|together|each\s+(?:day|morning))\b|"
    r"\b(?:also|too)\s+(?:take|taking|give|giving)\b|\b(?:tomar|tomarme|darle)\s+tambi[eé]n\b|"
    r"各吃|一起吃|都吃|两个都吃|两种都吃|\bt[oó]m(?:a|o|ar|arme|ando)\s+(?:los\s+dos|las\s+dos|ambos|ambas)\b")
"""Two names of one medicine both taken ("she's been taking both", "两个每天早上一起吃")."""


def _summed_per_owner(owners: Sequence[tuple[int, int]], doses: Sequence[Dose],
                      amount: Callable[[Dose, str], float | None]) -> float | None:
    """The largest known ``amount`` of each owner's doses (in the first dose's unit), added
    up; None when an owner has none."""
    unit = doses[0].unit
    total = 0.0
    for owner in owners:
        known = [x for d in doses if d.owner == owner and (x := amount(d, unit)) is not None]
        if not known:
            return None
        total += max(known)
    return total


def _word_in(word: str, said: str) -> bool:
    """``word`` (lower case) in ``said`` as a whole word (Chinese: anywhere)."""
    if re.search(r"[\u4e00-\u9fff]", word):
        return word in said
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", said) is not None


def _span_of(doses: Sequence[Dose]) -> tuple[int, int]:
    return (min(d.span[0] for d in doses), max(d.span[1] for d in doses))


def _dose_current(dose: Dose, mentions: Sequence[Mention]) -> bool:
    """False when the mention that owns the dose (the nearest one of the same drug) says the
    person no longer takes it."""
    same = _of_drug(mentions, dose.drug)
    if not same.mentions:
        return True
    nearest = same.nearest(dose.span[0])
    return nearest.current or nearest.local


@dataclass(frozen=True, slots=True)
class _Same:
    """The mentions of one drug, in text order, with their starts and ends: when both ascend
    (mentions in text order do not overlap), the one nearest a place, or the last before it,
    is found by bisection rather than by going through every mention for every dose."""

    mentions: list[Mention]
    starts: list[int]
    ends: list[int]
    ordered: bool

    def nearest(self, pos: int) -> Mention:
        """The first of the mentions whose start is nearest ``pos``."""
        if not self.ordered:
            return min(self.mentions, key=lambda m: abs(m.span[0] - pos))
        k = bisect.bisect_left(self.starts, pos)
        best = min(abs(self.starts[i] - pos) for i in (k - 1, k) if 0 <= i < len(self.starts))
        i = bisect.bisect_left(self.starts, pos - best)
        if i >= len(self.starts) or self.starts[i] != pos - best:
            i = bisect.bisect_left(self.starts, pos + best)
        return self.mentions[i]

    def last_starting_by(self, pos: int) -> Mention | None:
        """The last mention starting at or before ``pos``."""
        if not self.ordered:
            same = [m for m in self.mentions if m.span[0] <= pos]
            return same[-1] if same else None
        k = bisect.bisect_right(self.starts, pos)
        return self.mentions[k - 1] if k else None

    def last_ending_by(self, pos: int) -> Mention | None:
        """The last mention ending at or before ``pos``."""
        if not self.ordered:
            same = [m for m in self.mentions if m.span[1] <= pos]
            return same[-1] if same else None
        k = bisect.bisect_right(self.ends, pos)
        return self.mentions[k - 1] if k else None


_SAME: dict[int, tuple[Sequence[Mention], dict[str | None, _Same]]] = {}


def _of_drug(mentions: Sequence[Mention], drug: str | None) -> _Same:
    """The mentions of ``drug``, indexed once per sequence of mentions (the last few kept)."""
    cached = _SAME.get(id(mentions))
    if cached is None or cached[0] is not mentions:
        groups: dict[str | None, list[Mention]] = {}
        for m in mentions:
            groups.setdefault(m.drug, []).append(m)
        index = {}
        for key, same in groups.items():
            starts = [m.span[0] for m in same]
            ends = [m.span[1] for m in same]
            ordered = all(a <= b for a, b in itertools.pairwise(starts)) and all(
                a <= b for a, b in itertools.pairwise(ends))
            index[key] = _Same(same, starts, ends, ordered)
        if len(_SAME) > 64:
            _SAME.clear()
        cached = _SAME[id(mentions)] = (mentions, index)
    return cached[1].get(drug) or _Same([], [], [], True)


def _for_adult(text: str, said: str = "") -> bool:
    """The writer asks about a medicine for themself (in ``text``) while mentioning someone
    else's child (in ``text`` or the conversation ``said`` before: "My son is 2 ..." then
    "... tramadol. Is that ok for me?")."""
    norm = text.casefold()
    if not _FOR_SELF.search(norm) or not (_CHILD_OTHER.search(norm)
                                          or _CHILD_OTHER.search(said.casefold())):
        return False
    return not _FOR_CHILD.search(norm) or bool(_NOT_FOR_CHILD.search(norm))


def _interaction_problem(inter: Interaction, x: str, y: str, index: int, span: tuple[int, int],
                         answer: bool = False) -> Problem:
    names = " + ".join(n.removeprefix("class:").replace("_", " ") for n in (x, y))
    category = ("interaction_contraindicated" if inter.severity == "contraindicated"
                else "interaction_major")
    return Problem(
        category, 1.0 if inter.severity == "contraindicated" else 0.8,
        tuple(sorted((x, y))), index, span,
        f"{names}: {inter.severity} interaction. {inter.mechanism} {inter.management} "
        f"(Source: {inter.source})",
        f"{'recommended' if answer else 'mentioned'}: {names} ({inter.id}, {inter.severity})",
    )


def _read_after(earlier: Turn, t: Turn) -> tuple[str, int]:
    """The last sentences of an earlier turn with ``t`` after them, and where ``t`` starts."""
    context = earlier.text[-300:]
    return f"{context}\n{t.text}", len(context) + 1


def _merge(facts: Iterable[Facts]) -> Facts:
    out = Facts()
    for f in facts:
        out = out.merge(f)
    return out


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[tuple[str, tuple[str, ...]]] = set()
    out = []
    for p in problems:
        if p.key in seen:
            continue
        seen.add(p.key)
        out.append(p)
    return out


def _convert(amount: float, unit: str, target: str) -> float | None:
    if unit == target:
        return amount
    mg = to_mg(amount, unit)
    factor = to_mg(1.0, target)
    if mg is None or factor is None:
        return None
    return mg / factor


_STARTING = re.compile(
    r"\b(?:start(?:s|ing)? (?:today|now|tonight|tomorrow|this (?:morning|evening|week))|"
    r"start(?:s|ing|ed)? (?:(?:him|her|me|them|(?:the )?(?:patient|pt))\s+)?(?:on|at|with)\b|"
    r"(?:starting|initial|first) doses?|initial(?:ly)?|initiat(?:e|ed|ing|ion)|"
    r"new start|begin(?:ning)? (?:at|with|on)\b)|起始|初始|首剂|首次|拟(?:开始|用|服)|"
    r"开始(?:吃|服|用)|\bempez\w* (?:con|por|a tomar)\b|\bcomenz\w* (?:con|por|a tomar)\b|"
    r"\bdosis (?:inicial|de inicio)\b|\binici\w* (?:con|el tratamiento)\b")
"""A dose said to start the drug ("Plan: lamotrigine 200 mg daily starting today")."""
_TITRATED = re.compile(r"\btitrat\w*|\bescalat\w*|滴定|逐渐加")
_AMOUNT_BEFORE = re.compile(r"\d\s*(?:mg|mcg|µg|micrograms?|g|毫克|克)\b")
_SENTENCE_END = re.compile(r"[.!?。！？;；\n](?!\d)")
_NOT_STARTING = re.compile(
    r"\b(?:now|currently|increas\w*|titrat\w*|up to|went up|goes up|maintenance|target|"
    r"ago|since|last (?:year|month|week)|for (?:\d+|a few|several|many) (?:years?|months?|"
    r"weeks?)|in (?:19|20)\d\d|years|long[- ]term|chronic|established|stable on|been (?:on|"
    r"taking)|w(?:ee)?ks? ?\d|then|followed by|thereafter|after (?:\d|one|two|a) |restart\w*|"
    r"ahora|actualmente|aument\w*|sub\w* a|hace (?:\d+|un|una|unos|unas|"
    r"varios|varias) (?:años|meses|semanas)|luego|despu[eé]s)\b|维持|目标|加量|加到|增至|增加|"
    r"之前|以前|已经|去年|年前|月前|重新|长期|一直|多年|然后|之后|再")
"""The clause says the dose is not the first one ("started at 25, now 200")."""


@functools.lru_cache(maxsize=16)
def _casefold_titrated(text: str) -> tuple[str, bool]:
    """(the text casefolded, whether it speaks of a titration), once per text: ``_starting``
    runs for every dose of a drug with a starting limit."""
    norm = text.casefold()
    return norm, _TITRATED.search(norm) is not None


@functools.lru_cache(maxsize=64)
def _new_to(names: tuple[str, ...], zh: tuple[str, ...], text: str) -> bool:
    """The writer is new to the drug named by ``names``/``zh`` ("lamotrigine-naive", "never
    taken lamotrigine", "从未用过拉莫三嗪"), once per text and drug."""
    norm = text.casefold()
    for name in names:
        n = re.escape(name.casefold())
        if re.search(rf"\b{n}[- ]na[iï]ve\b|\b(?:never (?:taken|had|been on|used|tried)|new to|"
                     rf"not previously on) (?:any )?{n}\b", norm):
            return True
    return any(re.search(rf"(?:未用过|从未(?:用|服|吃)过|没(?:吃|用)过){re.escape(z)}", norm)
               for z in zh)


def _starting(drug: Drug, text: str, span: tuple[int, int]) -> bool:
    """The dose at ``span`` starts ``drug``: a start word in its clause and none of an
    established course, or the writer is new to the drug ("lamotrigine-naive")."""
    norm, titrated = _casefold_titrated(text)
    # the dose's sentence ("医生让我开始吃别嘌醇，每天300mg": the start is a clause before)
    lo, hi = bounds(_SENTENCE_END, norm, span[0], span[1])
    clause = norm[lo:hi]
    if _NOT_STARTING.search(clause) or titrated or _AMOUNT_BEFORE.search(norm, lo, span[0]):
        # an established course, a titration, or a step after an earlier amount ("25 mg
        # daily x 2 wks, 50 mg x 2 wks, 100 mg daily")
        return False
    if _STARTING.search(clause):
        return True
    names = (drug.display, *drug.names, *drug.brands)
    for name in names:
        # "Plan: start allopurinol 300 mg", "Started clozapine 100 mg today"
        if re.search(rf"\bstart(?:s|ing|ed)?\s+(?:(?:him|her|me|them|the patient|pt|patient|"
                     rf"taking)\s+)?(?:on\s+)?{re.escape(name.casefold())}\b", clause):
            return True
    return _new_to(names, tuple(drug.zh), text)


_CREATININE = re.compile(
    r"\b(?:s\.?cr|serum creatinine|creatinine|creat|cr)\b(?! ?cl)(?!\s*clearance)\s*(?:level\s*)?"
    r"(?:of|is|was|at|:|=)?\s*(\d+(?:\.\d+)?)\s*(mg/dl|[µμu]mol/l)?|"
    r"(?<!清除率)肌酐(?!清除)\s*[:：]?\s*(\d+(?:\.\d+)?)\s*([µμu]mol/l|mg/dl)?")


def _creatinine_mg_dl(said: str) -> float | None:
    """The highest serum creatinine stated, in mg/dL (µmol/L divided by 88.4; a bare number
    above 20 is taken as µmol/L)."""
    best = None
    for m in _CREATININE.finditer(said):
        raw, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        value = float(raw)
        if (unit and unit != "mg/dl") or (not unit and value > 20):
            value /= 88.4
        best = value if best is None else max(best, value)
    return best


def _criteria_met(cap: CriteriaCap, facts: Facts, said: str) -> list[str]:
    """The criteria of ``cap`` that the conversation states, in words."""
    met = []
    if cap.min_age is not None and facts.age_years is not None and (
            facts.age_years >= cap.min_age):
        met.append(f"age {facts.age_years:g}")
    if cap.max_weight_kg is not None and facts.weight_kg is not None and (
            facts.weight_kg <= cap.max_weight_kg):
        met.append(f"weight {facts.weight_kg:g} kg")
    if cap.min_creatinine_mg_dl is not None:
        scr = _creatinine_mg_dl(said)
        if scr is not None and scr >= cap.min_creatinine_mg_dl:
            met.append(f"creatinine {scr:.1f} mg/dL")
    return met


def _apls_weight(age: float) -> float:
    """Estimated weight (kg) from age, APLS formulas (Advanced Paediatric Life Support, 5th/6th
    ed.): under 1 year (0.5 x months) + 4; 1-5 years 2 x age + 8; 6-12 years 3 x age + 7;
    older children are taken as 12-year-olds (the lightest estimate: most conservative)."""
    if age < 1:
        return 0.5 * age * 12 + 4
    if age <= 5:
        return 2 * age + 8
    return 3 * min(age, 12) + 7


def _limits(entry: DoseEntry, weight: float | None, facts: Facts | None = None,
            starting: bool = False) -> dict[str, tuple[float, str, bool, str]]:
    """kind -> (amount, unit, paediatric?, basis text). For a child with a weight, mg/kg limits
    (never above the adult maximum); otherwise the adult limits, lowered for an older adult,
    a first opioid dose or (``starting``) a dose that starts the drug where the label says
    so."""
    out: dict[str, tuple[float, str, bool, str]] = {}
    adult = {"single": entry.max_single, "daily": entry.max_daily, "weekly": entry.max_weekly}
    for kind, limit in adult.items():
        if limit is not None:
            out[kind] = (limit.amount, limit.unit, False, " for adults")
    older = entry.older_adult
    if facts is not None and older is not None and facts.age_years is not None and (
            facts.age_years >= older.min_age):
        out["daily"] = (older.max_daily.amount, older.max_daily.unit, False,
                        f" for adults aged {older.min_age} and over")
        single = out.get("single")
        capped = _convert(single[0], single[1], older.max_daily.unit) if single else None
        if capped is None or capped > older.max_daily.amount:
            # one dose cannot be more than the whole day's maximum at this age
            out["single"] = (older.max_daily.amount, older.max_daily.unit, False,
                             f" (the daily maximum for adults aged {older.min_age} and over)")
    naive = entry.opioid_naive_max_single
    if facts is not None and naive is not None and facts.opioid_naive:
        out["single"] = (naive.amount, naive.unit, False,
                         " as a first dose for someone not already taking opioids")
    if starting:
        for kind, limit in (("single", entry.initial_max_single),
                            ("daily", entry.initial_max_daily)):
            current = out.get(kind)
            lower = _convert(current[0], current[1], limit.unit) if (
                current is not None and limit is not None) else None
            if limit is not None and (lower is None or lower > limit.amount):
                out[kind] = (limit.amount, limit.unit, False,
                             " when starting it (the label titrates up from there)")
    if "single" not in out and "daily" in out:
        # one dose cannot be more than the whole day's maximum
        amount, unit, _, basis = out["daily"]
        whole = "starting" if basis.startswith(" when starting") else "adult"
        out["single"] = (amount, unit, False, f" (the {whole} maximum for a whole day)")
    ped = entry.pediatric
    who = "a child" if facts is None or facts.is_child else "a body weight"
    if weight is not None and ped is not None:
        for kind, per_kg in (("single", ped.single_per_kg), ("daily", ped.daily_per_kg)):
            if per_kg is None:
                continue
            amount = per_kg * weight
            cap = out.get(kind)
            if cap is not None:
                capped = _convert(cap[0], cap[1], ped.unit)
                if capped is not None:
                    amount = min(amount, capped)
            out[kind] = (round(amount, 1), ped.unit, True,
                         f" for {who} of about {weight:.0f} kg ({per_kg:g} {ped.unit}/kg)")
    return out


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:g}"
