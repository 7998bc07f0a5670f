"""Primum's guard engine and SDK.

Importing ``guard`` applies the offline settings the stack needs (see ``guard.offline``)
before any of litellm, presidio or guardrails-ai is imported, so no component reaches
for the network or sends telemetry at start-up.
"""

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

__all__ = ["Action", "CheckFailure", "Context", "Finding", "Segment", "Stage", "Verdict"]
