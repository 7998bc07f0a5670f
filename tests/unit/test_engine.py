"""The engine runs checks concurrently within budgets and never counts a failure as a pass."""

import asyncio
import time

from guard.engine import Engine
from guard.policy import parse_policy
from guard.types import Action, Context, Segment, Stage
from tests.fakes.checks import FAKE_POLICY, fake_registry


def engine_with(**edits: str) -> Engine:
    text = FAKE_POLICY
    for old, new in edits.items():
        text = text.replace(old, new)
    return Engine.build(parse_policy(text), fake_registry())


CTX = Context(stage=Stage.INPUT)


async def test_checks_run_concurrently_within_budget() -> None:
    engine = engine_with(**{
        "entity: PII}": "entity: PII, delay_s: 0.2}",
        '"feel low": passive_ideation}}':
            '"feel low": passive_ideation}, delay_s: 0.2}',
        '"how old": missing_age}}': '"how old": missing_age}, delay_s: 0.2}',
    })
    start = time.perf_counter()
    verdict = await engine.run(Stage.INPUT, [Segment("hello", "user", 0)], CTX)
    elapsed = time.perf_counter() - start
    assert verdict.action is Action.ALLOW
    assert elapsed < 0.5, f"three 0.2 s checks took {elapsed:.2f} s: not concurrent"
    assert set(verdict.latency_ms) == {"phi", "crisis", "harm"}


async def test_timeout_fails_closed_by_default() -> None:
    policy_text = FAKE_POLICY.replace(
        '    params: {keywords: {"end my life": suicidal_ideation, "feel low": passive_ideation}}',
        "    timeout_ms: 50\n"
        '    params: {keywords: {"end my life": suicidal_ideation}, delay_s: 2}',
    )
    engine = Engine.build(parse_policy(policy_text), fake_registry())
    verdict = await engine.run(Stage.INPUT, [Segment("hi", "user", 0)], CTX)
    assert verdict.action is Action.BLOCK
    assert [(f.check, f.reason, f.fail_mode) for f in verdict.failures] == [
        ("crisis", "timeout", "closed")]
    assert verdict.rules == ("fail-closed.crisis",)
    assert verdict.message is not None and "911" in verdict.message


async def test_error_fails_open_when_configured_and_is_still_recorded() -> None:
    policy_text = FAKE_POLICY.replace(
        '    params: {keywords: {"end my life": suicidal_ideation, "feel low": passive_ideation}}',
        '    fail_mode: open\n    params: {keywords: {}, raise: true}',
    )
    engine = Engine.build(parse_policy(policy_text), fake_registry())
    verdict = await engine.run(Stage.INPUT, [Segment("call alice", "user", 0)], CTX)
    assert verdict.action is Action.REDACT
    assert [(f.check, f.reason, f.fail_mode) for f in verdict.failures] == [
        ("crisis", "error", "open")]
    # the exception message (which could hold text) is not kept, only its type
    assert verdict.failures[0].detail == "RuntimeError"


async def test_scope_new_sees_only_new_turns_and_indexes_map_back() -> None:
    engine = engine_with()
    segments = [
        Segment("I want to end my life", "user", 0, new=False),
        Segment("alice here", "assistant", 1, new=False),
        Segment("thanks, alice", "user", 2),
    ]
    verdict = await engine.run(Stage.INPUT, segments, CTX)
    # crisis (scope new) did not see the old turn; phi (scope all) saw every segment
    assert verdict.action is Action.REDACT
    assert sorted(f.segment for f in verdict.findings if f.check == "phi") == [1, 2]


async def test_output_stage_runs_only_output_checks() -> None:
    engine = engine_with()
    verdict = await engine.run(Stage.OUTPUT, [Segment("end my life, alice", "assistant", -1)],
                               Context(stage=Stage.OUTPUT))
    assert {f.check for f in verdict.findings} == {"phi"}
    assert set(verdict.latency_ms) == {"phi", "harm"}


async def test_verdict_carries_policy_identity_and_rendered_message() -> None:
    engine = engine_with()
    verdict = await engine.run(Stage.INPUT, [Segment("I want to end my life", "user", 0)],
                               Context(stage=Stage.INPUT, country="GB"))
    assert (verdict.policy_id, verdict.policy_version) == ("test-policy", "2.1")
    assert verdict.action is Action.ESCALATE
    assert verdict.message == "Call call 116 123 now; emergencies 999."
    assert verdict.escalations == ("crisis",)


async def test_unknown_country_falls_back_to_default_resources() -> None:
    engine = engine_with()
    verdict = await engine.run(Stage.INPUT, [Segment("I want to end my life", "user", 0)],
                               Context(stage=Stage.INPUT, country="ZZ"))
    assert verdict.message is not None and "988" in verdict.message


async def test_no_segments_allows_without_running_checks() -> None:
    engine = engine_with()
    verdict = await engine.run(Stage.INPUT, [], CTX)
    assert verdict.action is Action.ALLOW and not verdict.latency_ms


def test_load_marks_ready() -> None:
    engine = engine_with()
    assert not engine.ready
    engine.load()
    assert engine.ready


async def test_many_concurrent_runs_are_independent() -> None:
    engine = engine_with()
    texts = ["alice", "I want to end my life", "forge it", "hello"] * 25
    verdicts = await asyncio.gather(*(engine.run(Stage.INPUT, [Segment(t, "user", 0)], CTX)
                                      for t in texts))
    assert [v.action for v in verdicts[:4]] == [Action.REDACT, Action.ESCALATE, Action.BLOCK,
                                                 Action.ALLOW]
    assert all(v.action is verdicts[i % 4].action for i, v in enumerate(verdicts))


async def test_check_with_nothing_in_scope_reports_no_latency() -> None:
    engine = engine_with()
    verdict = await engine.run(Stage.INPUT, [Segment("old", "user", 0, new=False)], CTX)
    assert set(verdict.latency_ms) == {"phi"}
