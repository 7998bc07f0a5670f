"""What the guard decided for one request, over both stages: one type for the SDK and the
proxy, so ``response.primum`` reads the same whichever way a client came in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guard.types import Action, Verdict, most_severe

__all__ = ["GuardResult"]


@dataclass(frozen=True, slots=True)
class GuardResult:
    """What the guard decided for one call, typed. ``response.primum`` is ``as_dict()``.

    ``output`` is None when the guard answered at the input stage (block or clarify) and
    the model was never called.
    """

    request_id: str
    input: Verdict
    output: Verdict | None = None
    case_ids: tuple[str, ...] = ()

    @property
    def action(self) -> Action:
        """The request's action: the most severe over both stages."""
        stages = [self.input] if self.output is None else [self.input, self.output]
        return most_severe({v.action for v in stages})

    @property
    def blocked(self) -> bool:
        return self.action is Action.BLOCK

    @property
    def categories(self) -> tuple[str, ...]:
        """``check/category`` names over both stages: bounded, safe to log."""
        output = self.output.categories if self.output is not None else ()
        return tuple(sorted({*self.input.categories, *output}))

    @property
    def rules(self) -> tuple[str, ...]:
        output = self.output.rules if self.output is not None else ()
        return tuple(dict.fromkeys((*self.input.rules, *output)))

    def as_dict(self) -> dict[str, Any]:
        """The JSON-safe summary attached to responses as ``primum``: no text, no PHI.

        The same keys as the proxy's ``primum`` object, so a client reads both alike.
        """
        return {
            "action": self.action.value,
            "input_action": self.input.action.value,
            "output_action": self.output.action.value if self.output is not None else None,
            "policy": {"id": self.input.policy_id, "version": self.input.policy_version},
            "categories": list(self.categories),
            "case_ids": list(self.case_ids),
            "request_id": self.request_id,
        }
