"""What gets recorded about each decision, and the seam that records it.

A ``DecisionRecord`` is built from a Verdict plus request facts. It holds categories,
scores, offsets and a redacted excerpt: never raw PHI. The audit store and the metrics
both consume it; the pipeline does not know which recorders exist.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from guard.types import Action, Stage, Verdict

__all__ = ["CaseRecord", "DecisionRecord", "MultiRecorder", "NullRecorder", "Recorder"]

log = logging.getLogger(__name__)


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


class Recorder(Protocol):
    async def record_decision(self, record: DecisionRecord) -> None: ...

    async def open_case(self, case: CaseRecord) -> None: ...


class NullRecorder:
    async def record_decision(self, record: DecisionRecord) -> None:
        return None

    async def open_case(self, case: CaseRecord) -> None:
        return None


class MultiRecorder:
    """Fan out to several recorders. One recorder failing never loses the others' records."""

    def __init__(self, recorders: Sequence[Recorder]) -> None:
        self._recorders = list(recorders)

    async def record_decision(self, record: DecisionRecord) -> None:
        await self._all("record_decision", record)

    async def open_case(self, case: CaseRecord) -> None:
        await self._all("open_case", case)

    async def _all(self, method: str, item: DecisionRecord | CaseRecord) -> None:
        results = await asyncio.gather(
            *(getattr(r, method)(item) for r in self._recorders), return_exceptions=True
        )
        for recorder, result in zip(self._recorders, results, strict=True):
            if isinstance(result, BaseException):
                log.error("recorder %s failed in %s: %s", type(recorder).__name__, method,
                          type(result).__name__)


def action_of(records: Sequence[DecisionRecord]) -> Action:
    """The request-level action: the most severe over its stages."""
    return max((r.verdict.action for r in records), key=lambda a: a.severity, default=Action.ALLOW)
