"""The one interface every check implements, and the registry that builds them by name.

A check detects; it never decides. It returns findings, and the policy turns findings
into an action. Construction does no I/O: heavy resources (models, NLP pipelines) are
built in ``load()``, which the engine calls once before serving (``/readyz`` waits on it).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from guard.types import Context, Finding, Segment, Stage

__all__ = ["Check", "CheckFactory", "CheckParamsError", "CheckRegistry", "LearnedBackstop",
           "backstop_turns", "learned_params", "scan_inline"]


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


class _SharedModel(Protocol):
    """A learned backstop model class (``classifiers.pinned.PinnedHeadModel``)."""

    def __call__(self, spec_path: str | os.PathLike[str] | None = None) -> Any: ...

    def shared(self) -> Any: ...


def learned_params(params: Mapping[str, Any], model: _SharedModel) -> tuple[Any, float | None]:
    """A check's learned-backstop params: ``learned`` (bool, default true),
    ``learned_threshold`` (0-1, default the model spec's), ``learned_spec`` (path to another
    trained model's ``model_spec.json``). Returns ``(model or None, threshold or None)``:
    the shipped model is the process-wide ``model.shared()``; nothing is read here."""
    enabled = params.get("learned", True)
    if not isinstance(enabled, bool):
        raise CheckParamsError("learned", "must be true or false")
    threshold = params.get("learned_threshold")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise CheckParamsError("learned_threshold", "must be a number between 0 and 1")
        if not 0.0 < float(threshold) < 1.0:
            raise CheckParamsError("learned_threshold", "must be between 0 and 1 (exclusive)")
    spec = params.get("learned_spec")
    if spec is not None and (not isinstance(spec, str | os.PathLike) or not str(spec).strip()):
        raise CheckParamsError("learned_spec", "must be a path to a model_spec.json")
    if not enabled:
        return None, None if threshold is None else float(threshold)
    loaded = model(spec_path=spec) if spec is not None else model.shared()
    return loaded, None if threshold is None else float(threshold)


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


class LearnedBackstop:
    """The threshold of a check's learned backstop (``self.learned``, ``None`` for rules
    only): the policy's ``learned_threshold`` when it gave one, else the model spec's."""

    learned: Any
    _learned_threshold: float | None

    @property
    def learned_threshold(self) -> float:
        if self._learned_threshold is not None:
            return self._learned_threshold
        assert self.learned is not None
        return float(self.learned.spec.threshold)


def backstop_turns(segments: Sequence[Segment]) -> tuple[int, list[str]] | None:
    """``(index of the last user turn, every user turn's text, oldest first)`` when the last
    user turn is new; ``None`` otherwise (a learned backstop reads only a new turn)."""
    user = [i for i, s in enumerate(segments) if s.role == "user" and s.text.strip()]
    if not user or not segments[user[-1]].new:
        return None
    return user[-1], [segments[i].text for i in user]
