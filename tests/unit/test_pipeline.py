"""The one decision path: redaction before the upstream, short-circuits, amendments,
windowed streaming and what gets recorded (never raw PHI)."""

from __future__ import annotations

import pytest

from guard.engine import Engine
from guard.pipeline import Pipeline
from guard.policy import parse_policy
from guard.types import Action, Context, Stage
from tests.fakes.checks import FAKE_POLICY, fake_registry
from tests.fakes.recorder import ListRecorder


def make(policy_text: str = FAKE_POLICY, **kw: object) -> tuple[Pipeline, ListRecorder, list]:
    recorder = ListRecorder()
    counted: list = []
    engine = Engine.build(parse_policy(policy_text), fake_registry())
    pipeline = Pipeline(engine, recorder, count_request=lambda *a: counted.append(a), **kw)
    return pipeline, recorder, counted


CTX = Context(stage=Stage.INPUT, tenant="t1", model="m1")


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


async def test_allow_passes_messages_unchanged_and_records_both_stages() -> None:
    p, rec, counted = make()
    inp = await p.guard_input(user("hello there"), CTX)
    assert inp.verdict.action is Action.ALLOW and not inp.answered
    assert inp.messages == user("hello there")
    out = await p.guard_output("hi, how can I help?", CTX, inp, upstream_ms=12.0)
    assert out.text == "hi, how can I help?" and out.finish_reason is None
    assert [r.stage for r in rec.decisions] == [Stage.INPUT, Stage.OUTPUT]
    assert rec.decisions[1].upstream_ms == 12.0
    assert counted == [("t1", "m1", Action.ALLOW)]


async def test_redaction_before_upstream_and_restoration_after() -> None:
    p, rec, counted = make()
    inp = await p.guard_input(user("I am Alice, call 555-0100"), CTX)
    assert inp.verdict.action is Action.REDACT
    sent = inp.messages[0]["content"]
    assert "Alice" not in sent and "555-0100" not in sent
    assert "[PII_1]" in sent and "[PII_2]" in sent
    out = await p.guard_output(f"Hello {sent.split()[2].rstrip(',')}!", CTX, inp)
    assert out.text == "Hello Alice!"
    # the store never sees the raw identifiers, in either stage
    for record in rec.decisions:
        assert "Alice" not in record.excerpt and "555-0100" not in record.excerpt
    assert counted == [("t1", "m1", Action.REDACT)]


async def test_history_is_redacted_too_because_clients_resend_it() -> None:
    p, _, _ = make()
    messages = [
        {"role": "user", "content": "I am Alice"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "what next?"},
    ]
    inp = await p.guard_input(messages, CTX)
    assert "Alice" not in inp.messages[0]["content"]


async def test_no_restoration_when_policy_says_so() -> None:
    text = FAKE_POLICY + "phi:\n  restore_in_response: false\n"
    p, _, _ = make(text)
    inp = await p.guard_input(user("I am Alice"), CTX)
    out = await p.guard_output("Hi [PII_1]", CTX, inp)
    assert out.text == "Hi [PII_1]"


async def test_block_answers_without_upstream_and_is_counted_once() -> None:
    p, rec, counted = make()
    inp = await p.guard_input(user("help me forge a note"), CTX)
    assert inp.answered and inp.verdict.action is Action.BLOCK
    assert inp.answer.startswith("I can't help falsify records")
    assert counted == [("t1", "m1", Action.BLOCK)]
    assert [r.stage for r in rec.decisions] == [Stage.INPUT]


async def test_clarify_answers_with_the_question() -> None:
    p, _, _ = make()
    inp = await p.guard_input(user("how old must he be for this dose?"), CTX)
    assert inp.answered and inp.verdict.action is Action.CLARIFY
    assert inp.answer == "How old is the patient?"


async def test_escalation_opens_case_and_prepends_resources() -> None:
    p, rec, _ = make()
    inp = await p.guard_input(user("I want to end my life"), CTX)
    assert inp.verdict.action is Action.ESCALATE and not inp.answered
    assert len(inp.case_ids) == 1
    case = rec.cases[0]
    assert (case.rule, case.priority, case.tenant) == ("crisis", "high", "t1")
    assert case.categories == ("crisis/suicidal_ideation",)
    assert rec.decisions[0].case_id == case.case_id
    out = await p.guard_output("I'm here to listen.", CTX, inp)
    assert out.text.startswith("Call call or text 988 now; emergencies 911.")
    assert out.text.endswith("I'm here to listen.")


async def test_annotation_is_appended() -> None:
    p, _, _ = make()
    inp = await p.guard_input(user("I feel low today"), CTX)
    assert inp.verdict.action is Action.ANNOTATE
    out = await p.guard_output("Sorry to hear that.", CTX, inp)
    assert out.text == "Sorry to hear that.\n\nNote: passive_ideation."


async def test_output_block_replaces_answer_with_content_filter() -> None:
    p, _, counted = make()
    inp = await p.guard_input(user("hello"), CTX)
    out = await p.guard_output("Sure, here is how to forge it", CTX, inp)
    assert out.finish_reason == "content_filter"
    assert out.text.startswith("I can't help falsify records")
    assert counted == [("t1", "m1", Action.BLOCK)]


async def test_output_phi_produced_by_model_is_redacted_not_restored() -> None:
    p, rec, _ = make()
    inp = await p.guard_input(user("hello"), CTX)
    out = await p.guard_output("Ask Alice at 555-0100", CTX, inp)
    assert "Alice" not in out.text and "555-0100" not in out.text
    assert "Alice" not in rec.decisions[-1].excerpt


async def test_excerpt_withheld_when_phi_check_failed() -> None:
    text = FAKE_POLICY.replace(
        'params: {keywords: {alice: person, "555-0100": phone_number}, entity: PII}',
        "fail_mode: open\n    params: {keywords: {}, raise: true}",
    )
    p, rec, _ = make(text)
    await p.guard_input(user("I am Alice"), CTX)
    assert rec.decisions[0].excerpt.startswith("[excerpt withheld")


async def test_excerpt_replaces_entities_whatever_the_policy_action() -> None:
    # a policy that lets PHI through to the model still never stores it
    text = FAKE_POLICY.replace(
        "    action: redact\n", "    action: annotate\n    template: note\n", 1
    )
    p, rec, _ = make(text)
    inp = await p.guard_input(user("I am Alice"), CTX)
    assert inp.messages[0]["content"] == "I am Alice"
    assert rec.decisions[0].excerpt == "I am [PII_1]"


async def test_excerpt_is_truncated() -> None:
    p, rec, _ = make(excerpt_chars=20)
    await p.guard_input(user("x" * 500), CTX)
    assert len(rec.decisions[0].excerpt) <= 20


@pytest.mark.parametrize("window", [8, 40, 1000])
async def test_stream_releases_the_same_text_as_non_stream(window: int) -> None:
    p, rec, counted = make(stream_window_chars=window)
    inp = await p.guard_input(user("I am Alice"), CTX)
    answer = "Hello [PII_1], here is some general advice about staying hydrated and resting."
    stream = p.stream(CTX, inp)
    out = stream.prefix()
    for i in range(0, len(answer), 5):
        out += await stream.feed(answer[i:i + 5])
    tail, outcome = await stream.close(upstream_ms=3.0)
    out += tail
    assert out == answer.replace("[PII_1]", "Alice")
    assert outcome.finish_reason is None
    assert rec.decisions[-1].stage is Stage.OUTPUT
    assert "Alice" not in rec.decisions[-1].excerpt
    assert counted == [("t1", "m1", Action.REDACT)]


async def test_stream_prefixes_crisis_resources_and_stops_on_block() -> None:
    p, _, _ = make(stream_window_chars=10)
    inp = await p.guard_input(user("I want to end my life"), CTX)
    stream = p.stream(CTX, inp)
    released = stream.prefix()
    assert released.startswith("Call call or text 988 now")
    words = ["I", "hear", "you.", "Here", "is", "how", "to", "forge", "the", "note", "and",
             "more", "text", "after"]
    for word in words:
        released += await stream.feed(word + " ")
    tail, outcome = await stream.close()
    released += tail
    assert stream.blocked and outcome.finish_reason == "content_filter"
    assert "forge the note" not in released
    assert "I can't help falsify records" in released


async def test_annotation_survives_when_redaction_wins() -> None:
    # regression: "Alice here, I feel low" lost the gentle resources because redact outranks
    # annotate and only the winning rule's template was kept
    p, _, _ = make()
    inp = await p.guard_input(user("Alice here, I feel low"), CTX)
    assert inp.verdict.action is Action.REDACT
    # the note names the categories of the findings its own rule matched, not the PHI
    assert inp.verdict.notes == ("Note: passive_ideation.",)
    out = await p.guard_output("Hello [PII_1].", CTX, inp)
    assert out.text == "Hello Alice.\n\nNote: passive_ideation."
    stream = p.stream(CTX, inp)
    released = stream.prefix() + await stream.feed("Hello [PII_1].")
    tail, _ = await stream.close()
    assert released + tail == out.text


async def test_model_written_phi_is_never_restored_as_the_users_own() -> None:
    # regression: the model's own PHI was redacted into a fresh vault, which handed out
    # [PII_1] again, and restoring the user's placeholders turned it into the user's name
    p, _, _ = make()
    inp = await p.guard_input(user("I am Alice"), CTX)
    out = await p.guard_output("Call 555-0100, [PII_1].", CTX, inp)
    assert out.text == "Call [PII_2], Alice."
    stream = p.stream(CTX, inp)
    released = await stream.feed("Call 555-0100, [PII_1].")
    tail, _ = await stream.close()
    assert released + tail == "Call [PII_2], Alice."


async def test_excerpt_puts_the_users_words_before_the_system_prompt() -> None:
    p, rec, _ = make(excerpt_chars=40)
    await p.guard_input([{"role": "system", "content": "You are a careful assistant. " * 5},
                         {"role": "user", "content": "my knee hurts"}], CTX)
    assert rec.decisions[0].excerpt.startswith("my knee hurts | You are")


async def test_output_checks_see_the_conversation_they_answer() -> None:
    """An output check judges the answer in context: ``ctx.conversation`` holds the input
    segments (a drug named by the user, a pregnancy), for plain and streamed answers."""
    from guard.types import Finding, Segment

    seen: list[tuple[Segment, ...]] = []

    class Spy:
        name = "spy"
        stages = frozenset({Stage.OUTPUT})

        def load(self) -> None: ...

        async def detect(self, segments, ctx) -> list[Finding]:  # type: ignore[no-untyped-def]
            if ctx.stage is Stage.OUTPUT:
                seen.append(ctx.conversation)
            return []

    pipeline, _, _ = make()
    pipeline.engine._checks["harm"] = Spy()  # harm runs at both stages in FAKE_POLICY
    messages = [{"role": "system", "content": "Be brief."}, *user("I take warfarin")]
    inp = await pipeline.guard_input(messages, CTX)
    await pipeline.guard_output("Avoid ibuprofen.", CTX, inp)
    stream = pipeline.stream(CTX, inp)
    await stream.feed("Avoid ibuprofen.")
    await stream.close()
    assert len(seen) == 2
    for conversation in seen:
        assert [s.text for s in conversation] == ["Be brief.", "I take warfarin"]
