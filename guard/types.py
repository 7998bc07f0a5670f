"""The engine's vocabulary: frozen, typed records with no behaviour beyond ordering.

Everything that crosses a module boundary inside ``guard`` is one of these. They hold
offsets and categories, never raw text of a detected entity, so a Finding or a Verdict
can be logged, counted and stored without leaking PHI.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Action",
    "Audience",
    "CheckFailure",
    "Context",
    "FailMode",
    "Finding",
    "Segment",
    "Stage",
    "Verdict",
    "most_severe",
]

Audience = Literal["patient", "clinician"]
FailMode = Literal["closed", "open"]


class Stage(enum.StrEnum):
    """Where in a request's life a check runs."""

    INPUT = "input"
    OUTPUT = "output"


class Action(enum.StrEnum):
    """What the guard does with a message. Declared in order of severity."""

    ALLOW = "allow"
    ANNOTATE = "annotate"
    CLARIFY = "clarify"
    REDACT = "redact"
    ESCALATE = "escalate"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Action):
            return NotImplemented
        return self.severity < other.severity

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Action):
            return NotImplemented
        return self.severity <= other.severity

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Action):
            return NotImplemented
        return self.severity > other.severity

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Action):
            return NotImplemented
        return self.severity >= other.severity


_SEVERITY = {action: rank for rank, action in enumerate(Action)}


def most_severe(actions: Sequence[Action] | frozenset[Action] | set[Action]) -> Action:
    """The most severe of ``actions``; ``allow`` when there are none."""
    return max(actions, key=lambda a: a.severity, default=Action.ALLOW)


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of text the checks look at, and where it came from.

    ``message_index`` is the position in the request's ``messages`` (``-1`` for a model
    response); ``part_index`` the position in a content-part array (``None`` for a plain
    string content).
    """

    text: str
    role: str
    message_index: int
    part_index: int | None = None
    new: bool = True
    """False for turns before the last assistant reply: already checked when they were new."""


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a check detected. Detectors report; the policy decides.

    ``span`` is ``(start, end)`` in ``segments[segment]``'s text. ``entity`` names what was
    found (``PERSON``, ``MRN``) and never holds the found text itself.
    """

    check: str
    category: str
    score: float
    segment: int | None = None
    span: tuple[int, int] | None = None
    entity: str | None = None
    principle: int | None = None
    criterion: str | None = None
    explanation: str = ""
    """For reviewers and logs; never stored (it may name what the check saw)."""
    advice: str = ""
    """For the user: a sentence from the check's own knowledge (a limit and its source),
    never quoting the input. Policy templates show it through ``{details}``."""


@dataclass(frozen=True, slots=True)
class CheckFailure:
    """A check that did not give an answer: it raised or ran past its budget."""

    check: str
    reason: Literal["error", "timeout"]
    fail_mode: FailMode
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Context:
    """What a check may know about the request besides the text in front of it."""

    stage: Stage
    tenant: str = "default"
    audience: Audience = "patient"
    country: str = "US"
    model: str | None = None
    input_findings: tuple[Finding, ...] = ()
    conversation: tuple[Segment, ...] = ()
    """Output stage: the request's segments the answer replies to (as the user sent them,
    before redaction), so an output check can judge the answer in its context."""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision for one stage of one request.

    ``message`` is the policy's text for the user when the action needs one (a block's
    safe response, the resources an escalation adds, a clarifying question); ``rules``
    the ids of the policy rules that matched; ``escalations`` the escalation rule names to
    fire. ``latency_ms`` maps check name to its wall time. ``redactions`` are the findings
    whose spans must be replaced before the text leaves, whatever the overall action.
    ``notes`` are the texts of annotate rules that matched when a more severe action won
    but an answer is still given (redact, escalate): a patient who gives their name with
    a sign of distress still gets the gentle resources.
    """

    action: Action
    stage: Stage
    policy_id: str
    policy_version: str
    findings: tuple[Finding, ...] = ()
    rules: tuple[str, ...] = ()
    message: str | None = None
    escalations: tuple[str, ...] = ()
    failures: tuple[CheckFailure, ...] = ()
    latency_ms: Mapping[str, float] = field(default_factory=dict)
    redactions: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def categories(self) -> tuple[str, ...]:
        """Distinct ``check/category`` names, sorted: bounded, safe to log and store."""
        return tuple(sorted({f"{f.check}/{f.category}" for f in self.findings}))

    @property
    def blocked(self) -> bool:
        return self.action is Action.BLOCK
