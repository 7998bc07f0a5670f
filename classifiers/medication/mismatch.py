"""An amount given that is a multiple of the amount ordered, in one message.

The ten- and twenty-fold errors ISMP reports most often are not doses above a label maximum:
"the nurse said give 5 mg of the 20 mg/mL morphine, so I'm drawing up 5 mL" (100 mg), "the
doctor said 25 mcg of levothyroxine but the bottle says 0.25 mg", "医生说每天1.25毫克，她以为是
12.5毫克". Each message names the ordered amount and, for the same medicine, the amount
measured, dispensed or taken; when the second is several times the first, the unit, the
decimal point or the volume was confused, whatever the drug's maximum.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from classifiers.medication.extract import Dose

RATIO = 4.0
"""Given / ordered at or above this is flagged: the decimal, unit (mg/mL, mg/mcg) and volume
confusions are 5- to 1,000-fold; a double dose is left to the maximum-dose check."""

_ORDERED_BEFORE = re.compile(
    r"\b(?:said|says|told|tells|ordered|orders?|prescribed|prescription|wrote|written|"
    r"directions?|instructions?|supposed to|meant to|should (?:take|give|get))\b[^.;!?]{0,30}$|"
    # "her dose is 5 mg"
    r"\b(?:(?:her|his|my|the|their|your) )?(?:usual |prescribed |ordered )?dose (?:is|was|"
    r"should be)\s*$|"
    r"(?:医嘱|医生说|大夫说|说|开了|处方|嘱咐)[^。；！？]{0,12}$|"
    r"\b(?:mand[oó]|recet[oó]|dijo|indic[oó]|pauta)\b[^.;!?]{0,30}$")
_GIVEN_BEFORE = re.compile(
    r"\b(?:giving|gave|given|drawing(?: up)?|draw(?: up)?|drew(?: up)?|drawn|taking|took|taken|"
    r"injected|injecting|pushed|pushing|measured|measuring|pour(?:ed|ing)?|fill(?:ed|ing)?)\b"
    r"[^.;!?]{0,25}$|"
    r"(?:抽了|抽取了?|吃了|给了|喂了|打了|推了|以为是|当成)[^。；！？，,]{0,6}$|"
    r"\b(?:me tomo|tom[eé]|le doy|le di|le estoy dando|estoy tomando|le puse|medí)\b"
    r"[^.;!?]{0,20}$")
_DISPENSED_BEFORE = re.compile(r"\b(?:bottle|label|box|packet|package|vial|syringe)\s+"
                               r"(?:says|said|reads|read|shows)\s*$|(?:瓶子|药盒|标签)上?写着?\s*$")
"""'the pharmacy bottle says 0.25 mg': what was dispensed, read before any 'says' ordered."""
_DILUTION_BEFORE = re.compile(
    r"(?:稀释到|稀释至|加到|配成|\bdilut\w* (?:it )?(?:to|with|in|into)|\bmade up to|\bmix\w* "
    r"(?:with|in|into)|\bdiluir\w* (?:en|a|hasta))\s*$")
"""'稀释到10mL', 'diluted to 10 mL': a volume of diluent, not of the medicine."""
_STRENGTH_AFTER = re.compile(r"^\s*(?:tablets?|tabs?|pills?|capsules?|caps?|strength|"
                             r"comprimidos?|pastillas?)\b|^\s*(?:的)?(?:片|粒|规格)")


@dataclass(frozen=True, slots=True)
class Mismatch:
    drug: str
    span: tuple[int, int]
    """Of the amount given."""
    ordered: Dose
    given: Dose
    ratio: float


_PER_KG = re.compile(r"(?:每公斤|每千克|每kg|per kg|/kg)\s*$")
_PER_KG_AFTER = re.compile(r"\s*(?:/\s*kg|per\s+kg|每公斤|/公斤)")


def find_mismatches(norm: str, doses: Sequence[Dose],
                    convert: Callable[[float, str, str], float | None]) -> list[Mismatch]:
    """The amounts given in ``norm`` (casefolded text) that are at least ``RATIO`` times the
    amount ordered for the same drug. ``convert(amount, unit, target)`` changes units."""
    ordered: list[Dose] = []
    given: list[Dose] = []
    for d in doses:
        before = norm[max(0, d.span[0] - 45):d.span[0]]
        if _DILUTION_BEFORE.search(before) or _PER_KG.search(before[-8:]) or _PER_KG_AFTER.match(
                norm, d.span[1]):
            continue  # "按每公斤15毫克换算", "15 mg/kg": a rate per kg, not an amount
        if _DISPENSED_BEFORE.search(before):
            given.append(d)
        elif _ORDERED_BEFORE.search(before):
            ordered.append(d)
        elif _GIVEN_BEFORE.search(before) and (
                d.count is not None or not _STRENGTH_AFTER.match(norm[d.span[1]:d.span[1] + 12])):
            given.append(d)
    out: list[Mismatch] = []
    for g in given:
        for o in ordered:
            if o.drug != g.drug or o.span[0] > g.span[0]:
                continue
            # like with like: a day's total with a day's total, one dose with one dose
            if o.weekly or g.weekly or o.daily_total != g.daily_total or o.amount <= 0:
                continue
            value = convert(g.amount, g.unit, o.unit)
            if value is None:
                continue
            ratio = value / o.amount
            if ratio >= RATIO:
                out.append(Mismatch(g.drug, g.span, o, g, ratio))
                break
    return out
