"""Extraction of drug mentions, doses and patient facts, on a small test knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.medication.extract import DrugMatcher, find_doses, find_facts
from classifiers.medication.kb import DrugKB

MINI = Path(__file__).resolve().parents[1] / "data" / "medkb"


@pytest.fixture(scope="module")
def matcher() -> DrugMatcher:
    return DrugMatcher(DrugKB.load(MINI))


def drugs(matcher: DrugMatcher, text: str) -> list[str]:
    return [m.drug or f"class:{m.klass}" for m in matcher.find(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Can I take Tylenol with my warfarin?", ["acetaminophen", "warfarin"]),
    ("paracetamol and ADVIL", ["acetaminophen", "ibuprofen"]),
    ("acetominophen 500", ["acetaminophen"]),                  # listed misspelling
    ("I take ibuprofin daily", ["ibuprofen"]),                  # listed misspelling
    ("amoxicilinn for my ear", ["amoxicillin"]),                # one-edit typo of a long name
    ("我在吃华法林，可以吃布洛芬吗", ["warfarin", "ibuprofen"]),
    ("two Extra Strength Tylenol", ["acetaminophen"]),          # product
    ("I'm on a blood thinner", ["class:anticoagulant"]),
    ("MTX weekly", ["methotrexate"]),
    ("mtx is a typo here", []),               # short abbreviations match in capitals only
    ("I am aspiring to be a nurse", []),
    ("What is a gene?", []),
])
def test_drug_mentions(matcher: DrugMatcher, text: str, expected: list[str]) -> None:
    assert drugs(matcher, text) == expected


@pytest.mark.parametrize("text", [
    "I stopped warfarin last year",
    "I used to take warfarin",
    "I'm allergic to amoxicillin",
    "Amoxicillin allergy",
    "Can I take Tylenol instead of ibuprofen",
])
def test_not_current(matcher: DrugMatcher, text: str) -> None:
    mentions = matcher.find(text)
    not_current = [m for m in mentions if not m.current]
    assert not_current, text


def one_dose(matcher: DrugMatcher, text: str):  # type: ignore[no-untyped-def]
    doses = find_doses(text, matcher.find(text))
    assert len(doses) == 1, doses
    return doses[0]


@pytest.mark.parametrize(("text", "amount", "unit", "daily"), [
    ("Tylenol 1000 mg every 4 hours", 1000, "mg", 6000),
    ("1,000mg of tylenol q6h", 1000, "mg", 4000),
    ("two 500 mg tylenol three times a day", 1000, "mg", 3000),
    ("ibuprofen 800mg tid", 800, "mg", 2400),
    ("4000 mg of Tylenol a day", 4000, "mg", 4000),
    ("6 extra strength tylenol every 4 hours", 3000, "mg", 18000),
    ("levothyroxine 100 mcg daily", 100, "mcg", 100),
    ("levothyroxine 0.1 mg once a day", 0.1, "mg", 0.1),
    ("对乙酰氨基酚 每次 2 克 每天 4 次", 2, "g", 8),
    ("布洛芬 400毫克 每6小时", 400, "mg", 1600),
    ("ibuprofen 400-800 mg", 800, "mg", None),
])
def test_doses(matcher: DrugMatcher, text: str, amount: float, unit: str,
               daily: float | None) -> None:
    dose = one_dose(matcher, text)
    assert dose.amount == pytest.approx(amount)
    assert dose.unit == unit
    assert dose.daily == (pytest.approx(daily) if daily is not None else None)


def test_weekly_and_daily_schedules(matcher: DrugMatcher) -> None:
    assert one_dose(matcher, "methotrexate 15 mg once a week").weekly
    daily = one_dose(matcher, "methotrexate 10 mg daily")
    assert not daily.weekly and daily.daily_total


def test_dose_goes_to_nearest_drug(matcher: DrugMatcher) -> None:
    text = "I take warfarin 5 mg and ibuprofen 800 mg"
    doses = find_doses(text, matcher.find(text))
    assert [(d.drug, d.amount) for d in doses] == [("warfarin", 5), ("ibuprofen", 800)]


@pytest.mark.parametrize(("text", "field", "value"), [
    ("my 3 year old son", "age_years", 3),
    ("pt 78F with AF", "age_years", 78),
    ("my 6 month old", "age_years", 0.5),
    ("我女儿5岁", "age_years", 5),
    ("she weighs 14 kg", "weight_kg", 14),
    ("he is 30 lbs", "weight_kg", pytest.approx(13.6, abs=0.1)),
    ("I'm 22 weeks pregnant", "pregnancy_week", 22),
    ("eGFR 25", "egfr", 25),
    ("CrCl of 40 mL/min", "egfr", 40),
])
def test_facts_values(matcher: DrugMatcher, text: str, field: str, value: object) -> None:
    assert getattr(find_facts(text, matcher), field) == value


@pytest.mark.parametrize(("text", "field", "value"), [
    ("I'm pregnant", "pregnant", True),
    ("I'm not pregnant", "pregnant", False),
    ("我怀孕了", "pregnant", True),
    ("we are trying to conceive", "planning_pregnancy", True),
    ("I'm breastfeeding my newborn", "breastfeeding", True),
    ("I am on dialysis", "renal", "severe"),
    ("CKD stage 3", "renal", "moderate"),
    ("I have kidney disease", "renal", "any"),
    ("no kidney problems", "renal", None),
    ("my kidneys are fine", "renal", None),
    ("cirrhosis", "hepatic", "severe"),
    ("no liver disease", "hepatic", None),
    ("a baby with fever", "age_at_most", 1.0),
])
def test_facts_flags(matcher: DrugMatcher, text: str, field: str, value: object) -> None:
    assert getattr(find_facts(text, matcher), field) == value


@pytest.mark.parametrize(("text", "expected"), [
    ("I'm allergic to penicillin", {"class:penicillin"}),
    ("penicillin allergy, on warfarin", {"class:penicillin"}),
    ("I take warfarin and have a sulfa allergy", {"class:sulfonamide_antibiotic"}),
    ("allergies: amoxicillin", {"amoxicillin"}),
    ("No known drug allergies", set()),
    ("我对青霉素过敏", {"class:penicillin"}),
])
def test_allergies(matcher: DrugMatcher, text: str, expected: set[str]) -> None:
    assert set(find_facts(text, matcher).allergies) == expected
