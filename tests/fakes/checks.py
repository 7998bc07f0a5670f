"""Fake checks for engine and pipeline tests: deterministic, instant, no models."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from typing import Any

from guard.checks.base import CheckParamsError, CheckRegistry
from guard.types import Context, Finding, Segment, Stage


class KeywordCheck:
    """Reports ``category`` for every occurrence of each keyword (case-insensitive)."""

    def __init__(self, name: str, stages: frozenset[Stage], params: Mapping[str, Any]) -> None:
        unknown = set(params) - {"keywords", "score", "entity", "delay_s", "raise"}
        if unknown:
            raise CheckParamsError(sorted(unknown)[0], "unknown parameter")
        self.name = name
        self.stages = stages
        self.keywords: dict[str, str] = dict(params.get("keywords", {}))
        self.score = float(params.get("score", 0.9))
        self.entity: str | None = params.get("entity")
        self.delay_s = float(params.get("delay_s", 0.0))
        self.raises = bool(params.get("raise", False))
        self.loaded = False
        self.seen: list[list[Segment]] = []

    def load(self) -> None:
        self.loaded = True

    async def detect(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        self.seen.append(list(segments))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.raises:
            raise RuntimeError("detector bug with secret text John Smith")
        found = []
        for i, segment in enumerate(segments):
            for word, category in self.keywords.items():
                for m in re.finditer(re.escape(word), segment.text, re.IGNORECASE):
                    found.append(
                        Finding(self.name, category, self.score, segment=i,
                                span=(m.start(), m.end()), entity=self.entity)
                    )
        return found


class PrincipleCheck:
    """Stands in for the harmful-request classifier: for each keyword found, a ``harmful``
    finding carrying the keyword's AMA principle (``keywords: {word: principle}``) and its
    score (``scores: {word: score}``, else ``score``)."""

    def __init__(self, name: str, stages: frozenset[Stage], params: Mapping[str, Any]) -> None:
        unknown = set(params) - {"keywords", "scores", "score", "category"}
        if unknown:
            raise CheckParamsError(sorted(unknown)[0], "unknown parameter")
        self.name = name
        self.stages = stages
        self.keywords: dict[str, int] = {str(k): int(v) for k, v in
                                         dict(params.get("keywords", {})).items()}
        self.scores: dict[str, float] = {str(k): float(v) for k, v in
                                         dict(params.get("scores", {})).items()}
        self.score = float(params.get("score", 0.9))
        self.category = str(params.get("category", "harmful"))

    def load(self) -> None:
        return None

    async def detect(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]:
        found = []
        for i, segment in enumerate(segments):
            text = segment.text.lower()
            for word, principle in self.keywords.items():
                if word.lower() in text:
                    found.append(Finding(self.name, self.category,
                                         self.scores.get(word, self.score), segment=i,
                                         principle=principle))
        return found


def fake_registry() -> CheckRegistry:
    registry = CheckRegistry()
    registry.register("keyword", KeywordCheck)
    registry.register("phi", KeywordCheck)  # stands in for the presidio check: same kind name
    registry.register("principle", PrincipleCheck)
    return registry


FAKE_POLICY = """
id: test-policy
version: "2.1"
checks:
  - kind: phi
    name: phi
    stages: [input, output]
    scope: all
    params: {keywords: {alice: person, "555-0100": phone_number}, entity: PII}
  - kind: keyword
    name: crisis
    stages: [input]
    params: {keywords: {"end my life": suicidal_ideation, "feel low": passive_ideation}}
  - kind: keyword
    name: harm
    stages: [input, output]
    params: {keywords: {"forge": falsify_records, "how old": missing_age}}
rules:
  - id: phi-redact
    when: {check: phi}
    action: redact
  - id: crisis-escalate
    when: {check: crisis, categories: [suicidal_ideation]}
    action: escalate
    template: crisis
    escalation: crisis
  - id: crisis-note
    when: {check: crisis, categories: [passive_ideation]}
    action: annotate
    template: note
  - id: harm-block
    when: {check: harm, categories: [falsify_records], audiences: [patient]}
    action: block
    template: refuse
  - id: harm-clinician-note
    when: {check: harm, categories: [falsify_records], audiences: [clinician]}
    action: annotate
    template: note
  - id: ask-age
    when: {check: harm, categories: [missing_age], stages: [input]}
    action: clarify
    template: ask_age
escalations:
  crisis: {priority: high, amend: prepend}
templates:
  crisis: "Call {crisis_line} now; emergencies {emergency_number}."
  note: "Note: {categories}."
  refuse: "I can't help falsify records; I can help document care accurately."
  ask_age: "How old is the patient?"
  check_unavailable: "A safety check is unavailable; emergencies {emergency_number}."
resources:
  default_country: US
  crisis_lines:
    US: {name: "988 Lifeline", contact: "call or text 988", source: "988lifeline.org"}
    GB: {name: "Samaritans", contact: "call 116 123", source: "samaritans.org"}
  emergency_numbers:
    US: {number: "911", source: "fcc.gov"}
    GB: {number: "999", source: "nhs.uk"}
"""
