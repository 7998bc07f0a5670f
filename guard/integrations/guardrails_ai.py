"""Primum's policies as guardrails-ai validators, for teams already built on guardrails-ai.

    from guardrails import Guard
    from guard.integrations.guardrails_ai import PrimumPolicy

    guard = Guard().use(PrimumPolicy(policy="default", stage="output", on_fail="fix"))
    guard.validate(answer).validated_output        # the policy's safe text on failure

The validator runs the same ``Pipeline`` as the proxy and the SDK (through a sync
``guard.sdk.Guard``), so a policy decides the same way everywhere. It fails when the
policy's action changes what may be said: ``block``, ``clarify``, ``redact`` or
``escalate``. ``fix_value`` is what Primum itself would send: the safe response (block,
clarify), the text with placeholders (redact), or the text amended with crisis resources
(escalate). ``allow`` and ``annotate`` pass.

Importing this module turns guardrails-ai's telemetry off before any guardrails ``Guard``
exists. Every ``guardrails.Guard()`` reloads its settings from ``~/.guardrailsrc`` (metrics on by
default); ``guard.offline`` therefore also patches its settings loader.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any, Literal

from guard.offline import disable_guardrails_telemetry

disable_guardrails_telemetry()

from guardrails.validators import (  # noqa: E402 - only after telemetry is off
    ErrorSpan,
    FailResult,
    PassResult,
    ValidationResult,
    Validator,
    register_validator,
)

from guard.checks import CheckRegistry  # noqa: E402
from guard.pipeline import InputOutcome, OutputOutcome  # noqa: E402
from guard.policy.schema import Policy  # noqa: E402
from guard.sdk import Guard  # noqa: E402
from guard.types import Action, Audience, Finding, Verdict, most_severe  # noqa: E402

__all__ = ["FAILING_ACTIONS", "PrimumPolicy"]

FAILING_ACTIONS = frozenset({Action.BLOCK, Action.CLARIFY, Action.REDACT, Action.ESCALATE})
"""Actions that change what may be said, so guardrails-ai sees a failure."""


@register_validator(name="primum/policy", data_type="string")
class PrimumPolicy(Validator):  # type: ignore[misc]  # guardrails ships no type hints
    """Run a Primum policy's ``input`` or ``output`` stage on a string.

    ``policy`` is a shipped pack name, a policy file or a loaded ``Policy``; ``registry``
    overrides the built-in checks (tests use fakes). Pass ``guard`` (a ``guard.sdk.Guard``)
    to share one engine, and its models, between several validators.

    Nothing is built here: guardrails may create and copy validators freely. The policy's
    engine is built on the first validation and reused for every later one.

    For the output stage, ``metadata={"messages": [...]}`` gives the conversation that
    produced the answer, so input findings (a crisis, the user's own identifiers to put
    back) shape the result, as they do in the proxy.
    """

    def __init__(
        self,
        policy: str | Path | Policy = "default",
        stage: Literal["input", "output"] = "input",
        audience: Audience = "patient",
        country: str = "US",
        tenant: str = "guardrails",
        registry: CheckRegistry | None = None,
        guard: Guard | None = None,
        on_fail: Any = None,
        **kwargs: Any,
    ) -> None:
        if stage not in ("input", "output"):
            raise ValueError(f"stage must be 'input' or 'output', not {stage!r}")
        super().__init__(
            on_fail=on_fail,
            policy=policy,
            stage=stage,
            audience=audience,
            country=country,
            tenant=tenant,
            registry=registry,
            guard=guard,
            **kwargs,
        )
        self._policy = policy
        self._stage = stage
        self._audience: Audience = audience
        self._country = country
        self._tenant = tenant
        self._registry = registry
        self._guard = guard
        self._build_lock = threading.Lock()

    def __deepcopy__(self, memo: dict[int, Any]) -> PrimumPolicy:
        """Copies share the built engine (immutable once built, costly to load) but not the
        lock or the stream accumulator, which belong to one instance."""
        clone = copy.copy(self)
        clone._build_lock = threading.Lock()
        clone.accumulated_chunks = []
        return clone

    def _primum(self) -> Guard:
        with self._build_lock:
            if self._guard is None:
                self._guard = Guard.from_policy(
                    self._policy,
                    registry=self._registry,
                    audience=self._audience,
                    country=self._country,
                    tenant=self._tenant,
                )
            return self._guard

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        text = value if isinstance(value, str) else str(value)
        guard = self._primum()
        if self._stage == "input":
            inp = guard.guard_input([{"role": "user", "content": text}])
            return _input_result(guard, inp, text)
        messages = metadata.get("messages")
        context = guard.guard_input(messages) if messages else None
        out = guard.guard_output(text, input=context)
        return _output_result(out, context)


def _input_result(guard: Guard, inp: InputOutcome, text: str) -> ValidationResult:
    verdict = inp.verdict
    if verdict.action not in FAILING_ACTIONS:
        return PassResult()
    if inp.answered:
        fix = inp.answer
    else:
        redacted = inp.messages[0]["content"] if inp.messages else text
        fix = guard.pipeline.amend(redacted, verdict)
    return FailResult(
        error_message=_explain(verdict.action, [verdict]),
        fix_value=fix,
        error_spans=_spans(verdict.findings),
    )


def _output_result(out: OutputOutcome, context: InputOutcome | None) -> ValidationResult:
    verdicts = [out.verdict] if context is None else [context.verdict, out.verdict]
    action = most_severe({v.action for v in verdicts})
    if action not in FAILING_ACTIONS:
        return PassResult()
    return FailResult(
        error_message=_explain(action, verdicts),
        fix_value=out.text,
        error_spans=_spans(out.verdict.findings),
    )


def _explain(action: Action, verdicts: list[Verdict]) -> str:
    """Categories and rule ids only: the message may be logged, so it never quotes text."""
    first = verdicts[0]
    categories = sorted({c for v in verdicts for c in v.categories})
    rules = list(dict.fromkeys(r for v in verdicts for r in v.rules))
    return (
        f"Primum policy {first.policy_id} {first.policy_version}: {action.value} "
        f"(categories: {', '.join(categories) or 'none'}; rules: {', '.join(rules) or 'none'})"
    )


def _spans(findings: tuple[Finding, ...]) -> list[ErrorSpan] | None:
    spans = [
        ErrorSpan(start=f.span[0], end=f.span[1], reason=f"{f.check}/{f.category}")
        for f in findings
        if f.span is not None and f.segment in (0, None)
    ]
    return spans or None
