"""What gets recorded about each decision, and the seam that records it.

A ``DecisionRecord`` is built from a Verdict plus request facts. It holds categories,
scores, offsets and a redacted excerpt: never raw PHI. The audit store and the metrics
both consume it; the pipeline does not know which recorders exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from guard.types import Action, Stage, Verdict

__all__ = [
    "PRIORITIES",
    "SEVERITIES",
    "CaseRecord",
    "DecisionRecord",
    "MultiRecorder",
    "NullRecorder",
    "Recorder",
    "dedup_key",
    "severity_of",
]

log = logging.getLogger(__name__)

PRIORITIES = ("critical", "high", "normal", "low")
"""A review case's priority, most urgent first (an escalation rule's ``priority``)."""
SEVERITIES = ("critical", "high", "normal", "low", "none")
"""A decision's severity, most severe first: the more urgent of what its action implies
(``_ACTION_SEVERITY``) and the priorities of the cases it opened. One scale lets a
reviewer filter decisions and cases alike ("everything high or worse")."""
_ACTION_SEVERITY = {
    Action.BLOCK: "high",
    Action.ESCALATE: "high",
    Action.CLARIFY: "normal",
    Action.REDACT: "normal",
    Action.ANNOTATE: "low",
    Action.ALLOW: "none",
}


def severity_of(action: Action, case_priorities: Sequence[str] = ()) -> str:
    """The most urgent of the action's own severity and the opened cases' priorities."""
    levels = {_ACTION_SEVERITY[action], *case_priorities}
    return next(level for level in SEVERITIES if level in levels or level == "none")


DEDUP_TEXT_CHARS = 200


def dedup_key(tenant: str, rule: str, user: str | None, text: str) -> str | None:
    """The key under which escalations count as "the same situation" for case merging.

    sha256 of the tenant, the escalation rule and a subject: the client's OpenAI ``user``
    field when it sent one (the same person, whatever they write), else the first
    ``DEDUP_TEXT_CHARS`` characters of the request's PHI-redacted excerpt (the same message
    sent again: a retry, a regenerate, a double click). ``None`` (never merged) when there
    is neither (``text`` is empty when no excerpt could be kept). Only the hash is stored,
    never the user id or the text.
    """
    if user:
        subject = "user\x1f" + user
    elif text:
        subject = "text\x1f" + text[:DEDUP_TEXT_CHARS]
    else:
        return None
    material = "\x1f".join((tenant, rule, subject))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    request_id: str
    time: datetime
    tenant: str
    model: str
    stage: Stage
    verdict: Verdict
    excerpt: str = ""
    """The checked text with every PHI span replaced by its placeholder, truncated."""
    case_id: str | None = None
    upstream_ms: float | None = None
    case_priorities: tuple[str, ...] = ()
    """Priorities of the review cases this decision opened (their escalation rules')."""

    @property
    def severity(self) -> str:
        return severity_of(self.verdict.action, self.case_priorities)


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A review case opened by an escalation rule."""

    case_id: str
    request_id: str
    time: datetime
    tenant: str
    rule: str
    priority: str
    policy_id: str
    policy_version: str
    categories: tuple[str, ...]
    excerpt: str = ""
    status: str = "open"
    metadata: dict[str, str] = field(default_factory=dict)
    model: str = ""
    dedup_key: str | None = None
    """A hash naming "the same situation" (tenant, rule and who or what it is about): an
    escalation whose key matches an unresolved case opened recently is merged into that
    case instead of opening another (``AuditStore(merge_window_s=...)``). ``None``: never
    merged. Never raw text or a raw user id (see ``guard.escalation.dedup_key``)."""


class Recorder(Protocol):
    async def record_decision(self, record: DecisionRecord) -> None: ...

    async def open_case(self, case: CaseRecord) -> str | None:
        """Record an escalation; the id of the case it now belongs to (the new case, or
        an existing one it was merged into), or ``None`` when this recorder does not
        decide case ids (metrics)."""
        ...


class NullRecorder:
    async def record_decision(self, record: DecisionRecord) -> None:
        return None

    async def open_case(self, case: CaseRecord) -> str | None:
        return None


class MultiRecorder:
    """Fan out to several recorders. One recorder failing never loses the others' records."""

    def __init__(self, recorders: Sequence[Recorder]) -> None:
        self._recorders = list(recorders)

    async def record_decision(self, record: DecisionRecord) -> None:
        await self._all("record_decision", record)

    async def open_case(self, case: CaseRecord) -> str | None:
        """The first case id a recorder answered (the audit store's), else ``None``: a
        store that failed leaves the pipeline with the id it proposed."""
        results = await self._all("open_case", case)
        return next((r for r in results if isinstance(r, str)), None)

    async def _all(self, method: str, item: DecisionRecord | CaseRecord) -> list[object]:
        results = await asyncio.gather(
            *(getattr(r, method)(item) for r in self._recorders), return_exceptions=True
        )
        for recorder, result in zip(self._recorders, results, strict=True):
            if isinstance(result, BaseException):
                log.error("recorder %s failed in %s: %s", type(recorder).__name__, method,
                          type(result).__name__)
        return list(results)


def action_of(records: Sequence[DecisionRecord]) -> Action:
    """The request-level action: the most severe over its stages."""
    return max((r.verdict.action for r in records), key=lambda a: a.severity, default=Action.ALLOW)
