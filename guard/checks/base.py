"""The one interface every check implements, and the registry that builds them by name.

A check detects; it never decides. It returns findings, and the policy turns findings
into an action. Construction does no I/O: heavy resources (models, NLP pipelines) are
built in ``load()``, which the engine calls once before serving (``/readyz`` waits on it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from guard.types import Context, Finding, Segment, Stage

__all__ = ["Check", "CheckFactory", "CheckParamsError", "CheckRegistry", "scan_inline"]


@runtime_checkable
class Check(Protocol):
    """A detector. ``detect`` looks at ``segments`` and reports what it found.

    ``Finding.segment`` must index into ``segments``. A check that is CPU-bound runs its
    work in a thread (``asyncio.to_thread``) so it does not stall other requests.
    """

    name: str
    stages: frozenset[Stage]

    def load(self) -> None:
        """Build heavy resources. Idempotent; called before the first ``detect``."""
        ...

    async def detect(self, segments: Sequence[Segment], ctx: Context) -> list[Finding]: ...


INLINE_CHARS = 4000
"""Up to this much text a regex-only scan runs inline (well under a millisecond); above it,
in a worker thread so it does not stall other requests."""


async def scan_inline(scan: Callable[[Sequence[Segment], Context], list[Finding]],
                      segments: Sequence[Segment], ctx: Context) -> list[Finding]:
    """``detect`` for a check whose synchronous ``scan`` is regex-fast."""
    if sum(len(s.text) for s in segments) > INLINE_CHARS:
        return await asyncio.to_thread(scan, segments, ctx)
    return scan(segments, ctx)


CheckFactory = Callable[[str, frozenset[Stage], Mapping[str, Any]], Check]
"""``factory(name, stages, params) -> Check``. Raises ``CheckParamsError`` on bad params."""


class CheckParamsError(ValueError):
    """A check's ``params`` in a policy are invalid. ``field`` names the offending key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class CheckRegistry:
    """Name -> factory. One instance per application; no module-level registry."""

    def __init__(self) -> None:
        self._factories: dict[str, CheckFactory] = {}

    def register(self, kind: str, factory: CheckFactory) -> None:
        if kind in self._factories:
            raise ValueError(f"check kind {kind!r} is already registered")
        self._factories[kind] = factory

    def kinds(self) -> list[str]:
        return sorted(self._factories)

    def __contains__(self, kind: object) -> bool:
        return kind in self._factories

    def create(
        self, kind: str, name: str, stages: frozenset[Stage], params: Mapping[str, Any]
    ) -> Check:
        try:
            factory = self._factories[kind]
        except KeyError:
            known = ", ".join(self.kinds()) or "none"
            raise KeyError(f"unknown check kind {kind!r} (known: {known})") from None
        return factory(name, stages, params)
