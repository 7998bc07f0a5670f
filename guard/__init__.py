"""Primum's guard engine and SDK.

Importing ``guard`` applies the offline settings the stack needs (see ``guard.offline``)
before any of litellm, presidio or guardrails-ai is imported, so no component reaches
for the network or sends telemetry at start-up. ``Guard`` and ``AsyncGuard`` are loaded
on first use: ``import guard`` stays cheap for code that only needs the types.
"""

from typing import TYPE_CHECKING, Any

from guard.offline import apply_offline_defaults

apply_offline_defaults()

from guard.types import (  # noqa: E402
    Action,
    CheckFailure,
    Context,
    Finding,
    Segment,
    Stage,
    Verdict,
)

if TYPE_CHECKING:
    from guard.sdk import AsyncGuard, Guard

__all__ = [
    "Action",
    "AsyncGuard",
    "CheckFailure",
    "Context",
    "Finding",
    "Guard",
    "Segment",
    "Stage",
    "Verdict",
]


def __getattr__(name: str) -> Any:
    if name in ("Guard", "AsyncGuard"):
        from guard import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'guard' has no attribute {name!r}")
