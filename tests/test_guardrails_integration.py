"""Primum policies inside guardrails-ai: pass, fail, FIX with the policy's safe text, and a
process that exits promptly (telemetry off)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

# isort: off
from guard.integrations.guardrails_ai import PrimumPolicy  # before guardrails: telemetry off
from guardrails import AsyncGuard as GrAsyncGuard, Guard as GrGuard
from guardrails.errors import ValidationError
# isort: on

from guard.policy import parse_policy
from guard.sdk import Guard
from tests.fakes.checks import fake_registry
from tests.test_sdk import POLICY

ROOT = Path(__file__).resolve().parent.parent
REFUSE = "I can't help with that, but I can help you document care accurately."
CRISIS = "Please call call or text 988 now; in an emergency 911."


def validator(stage: str = "input", on_fail: Any = "fix", **kwargs: Any) -> PrimumPolicy:
    return PrimumPolicy(policy=parse_policy(POLICY), stage=stage, registry=fake_registry(),
                        on_fail=on_fail, **kwargs)


def test_pass_returns_the_text_unchanged() -> None:
    outcome = GrGuard().use(validator()).validate("What helps with a cold?")
    assert outcome.validation_passed
    assert outcome.validated_output == "What helps with a cold?"


def test_annotate_passes() -> None:
    outcome = GrGuard().use(validator()).validate("I feel low today")
    assert outcome.validation_passed


def test_block_fixes_with_the_safe_response() -> None:
    outcome = GrGuard().use(validator()).validate("help me forge a record")
    assert outcome.validated_output == REFUSE
    summary = outcome.validation_summaries[0]
    assert summary.validator_status == "fail"
    assert "block" in summary.failure_reason
    assert "harm/falsify_records" in summary.failure_reason
    assert "forge" not in summary.failure_reason  # categories, never the user's text


def test_redact_fixes_with_placeholders() -> None:
    outcome = GrGuard().use(validator()).validate("Alice has a fever")
    assert "Alice" not in outcome.validated_output
    assert outcome.validated_output.endswith("has a fever")
    span = outcome.validation_summaries[0].error_spans[0]
    assert (span.start, span.end, span.reason) == (0, 5, "phi/person")


def test_escalate_fixes_with_resources_prepended() -> None:
    outcome = GrGuard().use(validator()).validate("I want to end my life")
    assert outcome.validated_output == f"{CRISIS}\n\nI want to end my life"


def test_clarify_fixes_with_the_question() -> None:
    outcome = GrGuard().use(validator()).validate("how old should she be")
    assert outcome.validated_output == "How old is the patient?"


def test_on_fail_exception_raises() -> None:
    guard = GrGuard().use(validator(on_fail="exception"))
    with pytest.raises(ValidationError, match=r"Primum policy sdk-test 3\.0: block"):
        guard.validate("help me forge a record")


def test_output_stage_blocks_a_harmful_answer() -> None:
    guard = GrGuard().use(validator(stage="output"))
    assert guard.validate("Rest and fluids.").validated_output == "Rest and fluids."
    assert guard.validate("Take the lethal amount").validated_output == REFUSE


def test_output_stage_uses_the_conversation_from_metadata() -> None:
    guard = GrGuard().use(validator(stage="output"))
    outcome = guard.validate(
        "Here is information.",
        metadata={"messages": [{"role": "user", "content": "I want to end my life"}]},
    )
    assert outcome.validated_output == f"{CRISIS}\n\nHere is information."


def test_messages_validation_fixes_prompts_before_the_llm_call() -> None:
    seen: list[list[dict[str, Any]]] = []

    def llm(*, messages: list[dict[str, Any]], **kwargs: Any) -> str:
        seen.append(messages)
        return "ok"

    guard = GrGuard().use(validator(), on="messages")
    outcome = guard(llm, messages=[{"role": "user", "content": "Alice has a fever"}])
    assert outcome.validated_output == "ok"
    assert "Alice" not in seen[0][0]["content"]


async def test_guardrails_async_guard_works() -> None:
    guard = GrAsyncGuard().use(validator())
    outcome = await guard.validate("help me forge a record")
    assert outcome.validated_output == REFUSE


def test_engine_is_built_once_and_can_be_shared() -> None:
    shared = Guard.from_policy(parse_policy(POLICY), registry=fake_registry())
    first = PrimumPolicy(stage="input", guard=shared, on_fail="fix")
    second = PrimumPolicy(stage="output", guard=shared, on_fail="fix")
    GrGuard().use(first).validate("hello")
    GrGuard().use(second).validate("hello")
    assert first._primum() is second._primum() is shared
    shared.close()


def test_constructing_builds_nothing() -> None:
    # A policy that does not exist fails on first use, not at construction.
    v = PrimumPolicy(policy="no-such-pack", on_fail="noop")
    assert v._guard is None


def test_bad_stage_is_rejected() -> None:
    with pytest.raises(ValueError, match="stage"):
        PrimumPolicy(stage="middle")  # type: ignore[arg-type]


def test_telemetry_is_off_even_after_a_guard_reloads_settings() -> None:
    from guardrails.settings import settings

    GrGuard()
    assert settings.rc.enable_metrics is False
    assert settings.rc.use_remote_inferencing is False


def test_a_process_using_the_validator_exits_promptly(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    script = (
        "import time\n"
        "from guard.integrations.guardrails_ai import PrimumPolicy\n"
        "from guardrails import Guard\n"
        "from tests.fakes.checks import fake_registry\n"
        f"v = PrimumPolicy(policy={str(policy)!r}, registry=fake_registry(), on_fail='fix')\n"
        "print(Guard().use(v).validate('forge it').validated_output)\n"
        "print(time.time(), flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    exited = time.time()
    assert done.returncode == 0, done.stderr
    output, finished = done.stdout.strip().rsplit("\n", 1)
    assert output == REFUSE
    assert "opentelemetry" not in done.stderr
    # With telemetry on, exporting spans to an unreachable endpoint holds exit for 7-18 s.
    assert exited - float(finished) < 3.0


def test_real_default_policy_redacts_and_escalates() -> None:
    guard = GrGuard().use(PrimumPolicy(policy="default", stage="input", on_fail="fix"))
    outcome = guard.validate("My name is John Smith and I want to kill myself")
    assert outcome.validated_output.startswith("It sounds like you may be going through")
    assert outcome.validated_output.endswith("My name is [PERSON_1] and I want to kill myself")
    reason = outcome.validation_summaries[0].failure_reason
    assert "escalate" in reason and "crisis/suicidal_ideation" in reason
    assert "John" not in reason
    assert guard.validate("What is a normal resting heart rate?").validation_passed
