"""spaCy for the ``phi`` check, gated: NER only on the sentences that could hold a name.

Why
---
spaCy was ~90% of the phi check's time, and it grows with the text: the whole check took
~7.5 ms on a 23-word patient message, ~15 ms on a 70-word answer and ~60 ms on a 300-word
one (medians, 2-core machine). Of spaCy's share, NER (which has its own tok2vec) is ~55%,
the shared tok2vec + tagger + attribute_ruler + lemmatizer, which only produce lemmas,
~40%, and the tokeniser the rest (~1.7 ms for 300 words). Yet most texts need none:

* NER matters only through ``MedicalAwareSpacyRecognizer``, which keeps a PERSON only if
  ``person_score`` does, and ``person_score`` needs a common given name or capitalised
  words (``sentence_may_hold_name`` spells out the necessary condition). A sentence
  without such a word cannot yield a kept PERSON, whatever the model says about it, so
  NER does not run on it. A sentence that passes runs through NER together with
  ``CONTEXT_SENTENCES`` (1) neighbouring sentence on each side, overlapping regions
  merged; when the regions cover the text, NER runs on the whole text as before.
* Lemmas matter only to presidio's context enhancer, and only around results of
  recognizers that have context words: phone, e-mail, SSN, credit card and IP (an SSN
  pattern scores 0.5 and needs "SSN" or "social security" nearby; a phone number goes
  from 0.6 to 0.95 after "phone"). The cue and name recognizers have no context words.
  ``LazyLemmaContextAwareEnhancer`` has the lemmas computed, over the whole text with the
  model's own tok2vec, tagger, attribute ruler and lemmatizer, only when such a result
  exists. They are then exactly the lemmas the full pipeline gave, so context-enhanced
  scores are unchanged.
* The text is tokenised only when NER or the lemmas need it.

The cheap recognizers (patterns, cues, the given-name lexicon) still see the whole text.
Measured speed-ups and the equivalence checks are in ``guard.checks.phi``'s docstring.

How exact
---------
en_core_web_sm's NER has its own tok2vec (``spacy.Tok2Vec.v2``, not a listener; ``load``
refuses a pipeline where it is not), so the ``ner`` component alone gives the entities the
full pipeline gives. What can differ from running NER on the whole text:

* NER sees a region, not the whole text, and its output depends on context: run on the
  name's sentence alone, it missed 9 of 1,680 templated names placed after 3-8 name-less
  sentences (it tagged "Can Chidinma Cisneros" ORG when that sentence started the doc).
  With one neighbouring sentence on each side: 0 of 1,680.
* A spaCy span that crosses a sentence boundary the gate drew, or, at a threshold of 0.4
  or lower (``WEAK_PERSON_SCORE``), a two-word span made only of a sentence-initial word
  and a day, month or "I": the gate does not look at those combinations.

Thread safety: spaCy does not promise that a pipeline is safe to call from several
threads at once. Every call into spaCy here (tokeniser, NER, the lazy lemma pass) holds
the engine's lock, so one engine may be shared by several checks and threads.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc, Span

from guard.checks.phi_recognizers import sentence_may_hold_name

__all__ = [
    "GateStats",
    "GatedNlpArtifacts",
    "GatedSpacyNlpEngine",
    "LazyLemmaContextAwareEnhancer",
    "ner_regions",
    "sentence_spans",
]

_BREAK = re.compile(r"(?P<stop>[.!?]+)[\"'’”)\]*_]*(?=\s)|\n")
_ABBREVIATION = re.compile(
    r"(?:\b(?i:dr|mr|mrs|ms|mx|prof|st|sr|jr|vs|etc|approx|no|fig|dept|e\.g|i\.e)"
    r"|(?<![\w.])[A-Za-z])\.*$"
)
"""A full stop after these ends no sentence: "Dr. Okafor", "J. Smith", "e.g. Advil"."""


CONTEXT_SENTENCES = 1
"""Neighbouring sentences run through NER with a gated one, on each side (see above)."""


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences and lines of ``text``, without outer whitespace.

    A sentence ends at ``.``, ``!`` or ``?`` (and closing quotes or brackets) followed by
    whitespace, or at a line break; not after a title, an initial or "e.g.". Spans start
    and end next to whitespace, so they fall on spaCy token boundaries.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BREAK.finditer(text):
        stop = match.group("stop")
        if stop and stop[0] == "." and _ABBREVIATION.search(text, start, match.start() + 1):
            continue
        _append_stripped(text, start, match.end(), spans)
        start = match.end()
    _append_stripped(text, start, len(text), spans)
    return spans


def _append_stripped(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def ner_regions(
    text: str, *, locations: bool = False, context: int = CONTEXT_SENTENCES
) -> list[tuple[int, int]]:
    """The character spans to run NER on: gated sentences with ``context`` neighbours
    on each side, overlapping or adjacent ones merged."""
    sentences = sentence_spans(text)
    regions: list[tuple[int, int]] = []
    last = -1
    for index, (start, end) in enumerate(sentences):
        if not sentence_may_hold_name(text, start, end, locations=locations):
            continue
        first = max(0, index - context, last + 1)
        stop = min(len(sentences) - 1, index + context)
        if regions and first == last + 1:
            regions[-1] = (regions[-1][0], max(regions[-1][1], sentences[stop][1]))
        else:
            regions.append((sentences[first][0], sentences[stop][1]))
        last = stop
    return regions


@dataclass
class GateStats:
    """Counters of what the gate did (updated under the engine's lock)."""

    texts: int = 0
    texts_without_ner: int = 0
    ner_runs: int = 0
    chars: int = 0
    ner_chars: int = 0
    lemma_runs: int = 0


class GatedNlpArtifacts(NlpArtifacts):
    """``NlpArtifacts`` whose tokens and lemmas are completed on demand (``ensure_lemmas``).

    ``entities`` are final. ``lemmas`` and ``keywords`` stay empty, and ``tokens`` is empty
    when NER did not run, until ``ensure_lemmas``; ``LazyLemmaContextAwareEnhancer``
    calls it before reading them.
    """

    def __init__(
        self,
        *,
        text: str,
        entities: list[Span],
        scores: list[float],
        doc: Doc | None,
        engine: GatedSpacyNlpEngine,
        language: str,
        complete: Callable[[str, Doc | None], Doc],
    ) -> None:
        tokens = doc if doc is not None else Doc(engine.get_nlp(language).vocab, words=[])
        super().__init__(
            entities=entities,
            tokens=tokens,
            tokens_indices=[token.idx for token in tokens],
            lemmas=[],
            nlp_engine=engine,
            language=language,
            scores=scores,
        )
        self._text = text
        self._doc = doc
        self._engine = engine
        self._language = language
        self._complete = complete
        self.lemmatized = False

    def ensure_lemmas(self) -> None:
        """Fill ``tokens``, ``lemmas`` and ``keywords`` as presidio's spaCy engine would."""
        if self.lemmatized:
            return
        doc = self._complete(self._text, self._doc)
        self.tokens = doc
        self.tokens_indices = [token.idx for token in doc]
        self.lemmas = [token.lemma_ for token in doc]
        self.keywords = NlpArtifacts.set_keywords(self._engine, self.lemmas, self._language)
        self.lemmatized = True


class GatedSpacyNlpEngine(SpacyNlpEngine):
    """presidio's spaCy engine, running NER only where ``ner_regions`` says and lemmas lazily.

    ``locations`` is the default gate for ``process_text`` (True when LOCATION may be
    requested); ``process`` takes it per call. ``gate=False`` runs NER on the whole text
    (lemmas stay lazy), for comparison.
    """

    def __init__(
        self,
        models: list[dict[str, str]],
        ner_model_configuration: NerModelConfiguration | None = None,
        *,
        locations: bool = False,
        gate: bool = True,
    ) -> None:
        super().__init__(models=models, ner_model_configuration=ner_model_configuration)
        self.locations = locations
        self.gate = gate
        self.stats = GateStats()
        self._lock = threading.Lock()

    def load(self) -> None:
        super().load()
        for language in self.get_supported_languages():
            nlp = self.get_nlp(language)
            if "parser" in nlp.pipe_names:
                # ~20% of the pipeline's time; nothing here reads the parse, and
                # en_core_web_sm's NER does not depend on it.
                nlp.disable_pipe("parser")
            if "ner" not in nlp.pipe_names or "Listener" in str(
                nlp.config["components"]["ner"]["model"]["tok2vec"].get("@architectures", "")
            ):
                raise ValueError(
                    f"{language}: the gated engine needs a pipeline whose NER has its own "
                    "tok2vec (en_core_web_sm does)"
                )

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return self.process(text, language, locations=self.locations)

    def process(self, text: str, language: str, *, locations: bool) -> GatedNlpArtifacts:
        """Run NER on the gated regions of ``text``; the rest waits for ``ensure_lemmas``.

        The text is tokenised only when NER runs (tokenising a 300-word answer alone takes
        ~1.7 ms) or, later, when lemmas are needed.
        """
        nlp = self.get_nlp(language)
        regions = ner_regions(text, locations=locations) if self.gate else [(0, len(text))]
        doc: Doc | None = None
        spans: list[Span] = []
        with self._lock:
            if regions:
                doc = nlp.make_doc(text)
                spans = self._run_ner(nlp, doc, regions)
            self.stats.texts += 1
            self.stats.chars += len(text)
            self.stats.ner_runs += len(regions)
            self.stats.ner_chars += sum(end - start for start, end in regions)
            if not regions:
                self.stats.texts_without_ner += 1
        default = self.ner_model_configuration.default_score
        scores = [0.85 if default is None else float(default)] * len(spans)
        entities, scores = self._get_updated_entities(spans, scores)
        return GatedNlpArtifacts(
            text=text,
            entities=entities,
            scores=scores,
            doc=doc,
            engine=self,
            language=language,
            complete=lambda t, d: self._lemmatize(nlp, t, d),
        )

    @staticmethod
    def _run_ner(nlp: Language, doc: Doc, regions: list[tuple[int, int]]) -> list[Span]:
        ner = nlp.get_pipe("ner")
        if (
            len(regions) == 1
            and not doc.text[: regions[0][0]].strip()
            and not (doc.text[regions[0][1] :].strip())
        ):
            return list(ner(doc).ents)
        found: list[Span] = []
        for start, end in regions:
            region = doc.char_span(start, end, alignment_mode="expand")
            if region is None:  # pragma: no cover - expand always finds tokens
                continue
            sub = ner(region.as_doc())
            found.extend(
                Span(doc, region.start + ent.start, region.start + ent.end, label=ent.label_)
                for ent in sub.ents
            )
        return found

    def _lemmatize(self, nlp: Language, text: str, doc: Doc | None) -> Doc:
        """The whole text through the model's own components but NER: its lemmas."""
        with self._lock:
            if doc is None:
                doc = nlp.make_doc(text)
            for name, component in nlp.pipeline:
                if name != "ner":
                    component(doc)
            self.stats.lemma_runs += 1
            return doc


class LazyLemmaContextAwareEnhancer(LemmaContextAwareEnhancer):
    """presidio's lemma context enhancer; computes lemmas only for results that use them.

    A result can be enhanced only when its recognizer has context words; when none does,
    the lemmas are never computed (and the enhancer would not have read them).
    """

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        if isinstance(nlp_artifacts, GatedNlpArtifacts) and not nlp_artifacts.lemmatized:
            with_context = {recognizer.id for recognizer in recognizers if recognizer.context}
            if any(
                (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY)
                in with_context
                for result in raw_results
            ):
                nlp_artifacts.ensure_lemmas()
        results: list[RecognizerResult] = super().enhance_using_context(
            text, raw_results, nlp_artifacts, recognizers, context
        )
        return results
