"""The SDK's golden paths: allow, redact, escalate, block, clarify, streaming, sync twin.

Checks are keyword fakes (instant, deterministic); the upstream is either a scripted fake
``completion_fn`` (so tests can see exactly what left for the model) or litellm's own
``mock_response``, which runs litellm's real response and streaming code offline.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litellm.types.utils import Delta, ModelResponse, ModelResponseStream, StreamingChoices

from guard.build import build_engine
from guard.engine import Engine
from guard.pipeline import Pipeline
from guard.policy import PolicyError, parse_policy
from guard.sdk import (
    AsyncCompletionStream,
    AsyncGuard,
    Guard,
    GuardBlocked,
    GuardResult,
    MessageError,
    primum_result,
)
from guard.types import Action, Stage
from tests.fakes.checks import fake_registry
from tests.fakes.recorder import ListRecorder

# litellm's own types trip a pydantic UserWarning on first schema build; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")

POLICY = """
id: sdk-test
version: "3.0"
checks:
  - kind: keyword
    name: phi
    stages: [input, output]
    scope: all
    params: {keywords: {alice: person}, entity: PERSON}
  - kind: keyword
    name: crisis
    stages: [input]
    params: {keywords: {"end my life": suicidal_ideation, "feel low": passive_ideation}}
  - kind: keyword
    name: harm
    stages: [input, output]
    params: {keywords: {"forge": falsify_records, "how old": missing_age, "lethal": lethal_dose}}
rules:
  - id: phi-redact
    when: {check: phi}
    action: redact
  - id: crisis-escalate
    when: {check: crisis, categories: [suicidal_ideation]}
    action: escalate
    template: crisis
    escalation: crisis
  - id: crisis-note
    when: {check: crisis, categories: [passive_ideation]}
    action: annotate
    template: note
  - id: harm-block
    when: {check: harm, categories: [falsify_records, lethal_dose]}
    action: block
    template: refuse
  - id: ask-age
    when: {check: harm, categories: [missing_age], stages: [input]}
    action: clarify
    template: ask_age
escalations:
  crisis: {priority: high, amend: prepend}
templates:
  crisis: "Please call {crisis_line} now; in an emergency {emergency_number}."
  note: "Support: {crisis_line}."
  refuse: "I can't help with that, but I can help you document care accurately."
  ask_age: "How old is the patient?"
  check_unavailable: "A safety check is unavailable; emergencies {emergency_number}."
resources:
  default_country: US
  crisis_lines:
    US: {name: "988 Lifeline", contact: "call or text 988", source: "988lifeline.org"}
    GB: {name: "Samaritans", contact: "call 116 123", source: "samaritans.org"}
  emergency_numbers:
    US: {number: "911", source: "fcc.gov"}
    GB: {number: "999", source: "nhs.uk"}
"""

CRISIS = "Please call call or text 988 now; in an emergency 911."
REFUSE = "I can't help with that, but I can help you document care accurately."
LONG_SAFE = " ".join(f"Sentence {i} about hydration and rest." for i in range(12))


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


class FakeUpstream:
    """A scripted ``completion_fn``: answers with ``reply`` (or echoes the last user turn)
    and keeps every call's kwargs, so tests can see exactly what left for the model."""

    def __init__(self, reply: str | None = None, chunk_chars: int = 7) -> None:
        self.reply = reply
        self.chunk_chars = chunk_chars
        self.calls: list[dict[str, Any]] = []
        self.chunks_sent = 0
        self.closed = False

    async def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        text = self.reply if self.reply is not None else kwargs["messages"][-1]["content"]
        if kwargs.get("stream"):
            return self._stream(text, kwargs.get("model"))
        return ModelResponse(
            model=kwargs.get("model"),
            choices=[{"index": 0, "message": {"role": "assistant", "content": text},
                      "finish_reason": "stop"}],
        )

    async def _stream(self, text: str, model: str | None) -> AsyncIterator[ModelResponseStream]:
        try:
            for i in range(0, len(text), self.chunk_chars):
                self.chunks_sent += 1
                yield ModelResponseStream(model=model, choices=[StreamingChoices(
                    index=0, delta=Delta(content=text[i:i + self.chunk_chars]))])
            yield ModelResponseStream(model=model, choices=[StreamingChoices(
                index=0, delta=Delta(content=None), finish_reason="stop")])
        finally:
            self.closed = True


def make_guard(
    upstream: Any = None, recorder: ListRecorder | None = None, **kwargs: Any
) -> AsyncGuard:
    return AsyncGuard.from_policy(
        parse_policy(POLICY, "sdk-test.yaml"),
        registry=fake_registry(),
        recorder=recorder,
        completion_fn=upstream,
        **kwargs,
    )


@pytest.fixture
async def stop_litellm_worker() -> AsyncIterator[None]:
    """litellm starts a logging task on the loop of its first call; stop it before this
    test's loop closes, or the pending task is reported when the loop is torn down."""
    yield
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    await GLOBAL_LOGGING_WORKER.stop()


async def collect(stream: AsyncCompletionStream) -> tuple[str, list[ModelResponseStream]]:
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    return text, chunks


# ------------------------------------------------------------------------------ check
async def test_check_returns_the_input_verdict_without_calling_upstream() -> None:
    upstream = FakeUpstream("unused")
    guard = make_guard(upstream)
    verdict = await guard.check(user("Please help me forge a note"))
    assert verdict.action is Action.BLOCK
    assert verdict.stage is Stage.INPUT
    assert verdict.categories == ("harm/falsify_records",)
    assert upstream.calls == []


async def test_checks_load_once_before_first_use() -> None:
    guard = make_guard(FakeUpstream("ok"))
    assert not guard.engine.ready
    await guard.check(user("hello"))
    assert guard.engine.ready


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ("hello", "'messages' must be an array"),
        ([], "at least one message"),
        ([{"role": "wizard", "content": "hi"}], "messages[0].role 'wizard' is not supported"),
        ([{"role": "user"}], "messages[0].content is required"),
    ],
)
async def test_bad_messages_raise_a_value_error_with_the_reason(
    messages: Any, fragment: str
) -> None:
    upstream = FakeUpstream("unused")
    guard = make_guard(upstream)
    with pytest.raises(MessageError) as info:
        await guard.acompletion(model="m", messages=messages)
    assert isinstance(info.value, ValueError)
    assert fragment in str(info.value)
    assert upstream.calls == []


async def test_missing_messages_and_n_above_one_are_rejected() -> None:
    guard = make_guard(FakeUpstream("x"))
    with pytest.raises(MessageError, match="'messages' is required"):
        await guard.acompletion(model="m")
    with pytest.raises(MessageError, match="'n' must be 1"):
        await guard.acompletion(model="m", messages=user("hi"), n=2)


# ------------------------------------------------------------------------ completions
async def test_allow_passes_the_answer_through_and_attaches_the_decision() -> None:
    upstream = FakeUpstream("Drink water and rest.")
    guard = make_guard(upstream)
    response = await guard.acompletion(model="m", messages=user("I have a cold"), temperature=0)

    assert response.choices[0].message.content == "Drink water and rest."
    assert response.choices[0].finish_reason == "stop"
    assert upstream.calls[0]["temperature"] == 0
    assert response.primum == {
        "action": "allow",
        "input_action": "allow",
        "output_action": "allow",
        "policy": {"id": "sdk-test", "version": "3.0"},
        "categories": [],
        "case_ids": [],
        "request_id": response.primum["request_id"],
    }
    result = primum_result(response)
    assert isinstance(result, GuardResult)
    assert result.action is Action.ALLOW
    assert result.output is not None and result.output.stage is Stage.OUTPUT
    assert result.request_id == response.primum["request_id"]
    assert "primum" in response.model_dump()  # travels with the response when serialised


@pytest.mark.usefixtures("stop_litellm_worker")
async def test_with_litellm_mock_response_offline() -> None:
    guard = make_guard()  # completion_fn defaults to litellm.acompletion
    response = await guard.acompletion(
        model="gpt-4o-mini", messages=user("I feel low today"), mock_response="Rest well.",
    )
    assert response.choices[0].message.content == "Rest well.\n\nSupport: call or text 988."
    assert response.choices[0].finish_reason == "stop"
    assert response.model == "gpt-4o-mini"
    assert response.primum["action"] == "annotate"
    assert response.primum["categories"] == ["crisis/passive_ideation"]


async def test_redact_sends_placeholders_and_restores_the_users_own_identifiers() -> None:
    upstream = FakeUpstream()  # echoes what it received
    guard = make_guard(upstream)
    messages = [
        {"role": "system", "content": "You are a careful assistant."},
        {"role": "user", "content": "Alice has a fever."},
    ]
    response = await guard.acompletion(model="m", messages=messages)

    sent = upstream.calls[0]["messages"]
    assert "Alice" not in sent[1]["content"]
    assert "PERSON" in sent[1]["content"]
    assert messages[1]["content"] == "Alice has a fever."  # the caller's list is untouched
    assert response.choices[0].message.content == "Alice has a fever."
    assert response.primum["input_action"] == "redact"
    assert response.primum["categories"] == ["phi/person"]


async def test_escalate_prepends_resources_and_opens_a_case() -> None:
    recorder = ListRecorder()
    upstream = FakeUpstream("Here is some information.")
    guard = make_guard(upstream, recorder)
    response = await guard.acompletion(model="m", messages=user("I want to end my life"))

    assert response.choices[0].message.content == f"{CRISIS}\n\nHere is some information."
    assert len(recorder.cases) == 1
    case = recorder.cases[0]
    assert (case.rule, case.priority, case.tenant) == ("crisis", "high", "sdk")
    assert response.primum["case_ids"] == [case.case_id]
    assert response.primum["action"] == "escalate"
    assert [d.stage for d in recorder.decisions] == [Stage.INPUT, Stage.OUTPUT]
    assert {d.request_id for d in recorder.decisions} == {response.primum["request_id"]}


async def test_country_picks_local_resources() -> None:
    guard = make_guard(FakeUpstream("ok"), country="GB")
    response = await guard.acompletion(model="m", messages=user("I want to end my life"))
    assert response.choices[0].message.content.startswith(
        "Please call call 116 123 now; in an emergency 999."
    )


async def test_input_block_answers_locally_with_content_filter() -> None:
    upstream = FakeUpstream("unused")
    guard = make_guard(upstream)
    response = await guard.acompletion(model="m", messages=user("help me forge a record"))

    assert upstream.calls == []
    assert response.choices[0].message.content == REFUSE
    assert response.choices[0].finish_reason == "content_filter"
    assert response.model == "m"
    assert response.primum["action"] == "block"
    assert response.primum["output_action"] is None
    assert primum_result(response).output is None


async def test_raise_on_block_raises_with_the_safe_text() -> None:
    upstream = FakeUpstream("unused")
    guard = make_guard(upstream, raise_on_block=True)
    with pytest.raises(GuardBlocked) as info:
        await guard.acompletion(model="m", messages=user("help me forge a record"))
    assert info.value.message == REFUSE
    assert info.value.verdict.stage is Stage.INPUT
    assert info.value.result.blocked
    assert "harm-block" in str(info.value)
    assert upstream.calls == []


async def test_output_block_replaces_the_answer() -> None:
    upstream = FakeUpstream("The lethal amount is ...")
    guard = make_guard(upstream)
    response = await guard.acompletion(model="m", messages=user("tell me about paracetamol"))
    assert response.choices[0].message.content == REFUSE
    assert response.choices[0].finish_reason == "content_filter"
    assert response.primum["input_action"] == "allow"
    assert response.primum["output_action"] == "block"


async def test_output_block_raises_when_asked() -> None:
    guard = make_guard(FakeUpstream("The lethal amount is ..."), raise_on_block=True)
    with pytest.raises(GuardBlocked) as info:
        await guard.acompletion(model="m", messages=user("tell me about paracetamol"))
    assert info.value.verdict.stage is Stage.OUTPUT


async def test_clarify_asks_the_user_without_calling_upstream() -> None:
    upstream = FakeUpstream("unused")
    guard = make_guard(upstream, raise_on_block=True)  # clarify is not a block
    response = await guard.acompletion(model="m", messages=user("how old must a child be?"))
    assert upstream.calls == []
    assert response.choices[0].message.content == "How old is the patient?"
    assert response.choices[0].finish_reason == "stop"
    assert response.primum["action"] == "clarify"


async def test_tool_call_answers_keep_content_none() -> None:
    async def tool_call(**kwargs: Any) -> ModelResponse:
        return ModelResponse(model="m", choices=[{
            "index": 0, "finish_reason": "tool_calls",
            "message": {"role": "assistant", "content": None, "tool_calls": [{
                "id": "c1", "type": "function",
                "function": {"name": "lookup", "arguments": "{}"}}]},
        }])

    guard = make_guard(tool_call)
    response = await guard.acompletion(model="m", messages=user("look it up"))
    assert response.choices[0].message.content is None
    assert response.choices[0].message.tool_calls
    assert response.choices[0].finish_reason == "tool_calls"


def test_primum_result_of_an_unguarded_object_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        primum_result(ModelResponse(model="m"))


def test_from_policy_reports_a_bad_policy_at_construction(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\nversion: '1'\nchecks:\n  - kind: nope\n    stages: [input]\n"
        "    fail_mode: open\n"
    )
    with pytest.raises(PolicyError) as info:
        AsyncGuard.from_policy(bad, registry=fake_registry())
    assert "bad.yaml" in str(info.value)
    assert "checks.0.kind" in str(info.value)


def test_from_policy_accepts_a_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(POLICY)
    guard = AsyncGuard.from_policy(path, registry=fake_registry())
    assert guard.policy.id == "sdk-test"


async def test_guard_output_checks_an_answer_on_its_own() -> None:
    guard = make_guard(FakeUpstream("x"))
    out = await guard.guard_output("Alice should take the lethal dose")
    assert out.action is Action.BLOCK
    assert out.text == REFUSE
    out = await guard.guard_output("Alice is fine")
    assert out.action is Action.REDACT
    assert "Alice" not in out.text


# ------------------------------------------------------------------------- streaming
async def test_stream_releases_the_same_text_as_the_non_streamed_call() -> None:
    recorder = ListRecorder()
    upstream = FakeUpstream(LONG_SAFE)
    guard = make_guard(upstream, recorder)
    stream = await guard.acompletion(model="m", messages=user("I want to end my life"),
                                     stream=True)
    assert isinstance(stream, AsyncCompletionStream)
    text, chunks = await collect(stream)

    plain = await make_guard(FakeUpstream(LONG_SAFE)).acompletion(
        model="m", messages=user("I want to end my life"))
    assert text == plain.choices[0].message.content == f"{CRISIS}\n\n{LONG_SAFE}"
    assert chunks[0].choices[0].delta.content.startswith(CRISIS)  # resources come first
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len({c.id for c in chunks}) == 1
    assert stream.result is not None
    assert chunks[-1].primum == stream.result.as_dict()
    assert primum_result(chunks[-1]) is stream.result is primum_result(stream)
    assert stream.result.action is Action.ESCALATE
    assert stream.result.case_ids == (recorder.cases[0].case_id,)
    assert [d.stage for d in recorder.decisions] == [Stage.INPUT, Stage.OUTPUT]


@pytest.mark.parametrize(
    ("prompt", "amend"),
    [
        ("I have a cold", "prepend"),
        ("I feel low today", "prepend"),  # annotate: note appended at the end
        ("I want to end my life", "prepend"),
        ("I want to end my life", "append"),
        ("I want to end my life", "replace"),
        ("Alice has a cold", "prepend"),  # redacted upstream, restored on the way back
    ],
)
async def test_streamed_and_plain_answers_are_the_same_text(prompt: str, amend: str) -> None:
    policy = parse_policy(POLICY.replace("amend: prepend", f"amend: {amend}"))

    def build() -> AsyncGuard:
        return AsyncGuard.from_policy(policy, registry=fake_registry(),
                                      completion_fn=FakeUpstream(LONG_SAFE + " " + prompt))

    plain = await build().acompletion(model="m", messages=user(prompt))
    text, chunks = await collect(await build().acompletion(model="m", messages=user(prompt),
                                                           stream=True))
    assert text == plain.choices[0].message.content
    assert chunks[-1].primum["action"] == plain.primum["action"]
    if amend == "replace":
        assert text == CRISIS


async def test_stream_holds_text_until_its_window_is_checked() -> None:
    upstream = FakeUpstream(LONG_SAFE, chunk_chars=5)
    guard = make_guard(upstream)
    stream = await guard.acompletion(model="m", messages=user("hi"), stream=True)
    first = await stream.__anext__()
    # Nothing is released before a whole window (160 chars) has arrived and passed.
    assert upstream.chunks_sent * 5 >= guard.pipeline.stream_window_chars
    assert len(first.choices[0].delta.content) >= guard.pipeline.stream_window_chars // 2
    await stream.aclose()
    assert upstream.closed


async def test_stream_block_mid_answer_stops_the_model() -> None:
    harmful = LONG_SAFE + " Then take the lethal amount." + LONG_SAFE
    upstream = FakeUpstream(harmful)
    guard = make_guard(upstream)
    stream = await guard.acompletion(model="m", messages=user("tell me"), stream=True)
    text, chunks = await collect(stream)

    assert "lethal" not in text
    assert text.endswith("\n\n" + REFUSE)
    assert text.startswith(LONG_SAFE[:100])  # windows checked before the block went out
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    assert chunks[-1].primum["output_action"] == "block"
    assert upstream.closed
    assert upstream.chunks_sent * upstream.chunk_chars < len(harmful)  # stopped reading early


async def test_stream_block_raises_after_recording_when_asked() -> None:
    recorder = ListRecorder()
    guard = make_guard(FakeUpstream(LONG_SAFE + " lethal " + LONG_SAFE), recorder,
                       raise_on_block=True)
    stream = await guard.acompletion(model="m", messages=user("tell me"), stream=True)
    with pytest.raises(GuardBlocked):
        await collect(stream)
    assert [d.verdict.action for d in recorder.decisions] == [Action.ALLOW, Action.BLOCK]


async def test_stream_of_an_input_block_is_the_safe_answer() -> None:
    upstream = FakeUpstream("unused")
    guard = make_guard(upstream)
    stream = await guard.acompletion(model="m", messages=user("forge it"), stream=True)
    text, chunks = await collect(stream)
    assert text == REFUSE
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    assert stream.result is not None and stream.result.blocked
    assert upstream.calls == []


@pytest.mark.usefixtures("stop_litellm_worker")
async def test_stream_with_litellm_mock_response() -> None:
    guard = make_guard()
    stream = await guard.acompletion(
        model="gpt-4o-mini", messages=user("Alice has a cough"), mock_response=LONG_SAFE,
        stream=True,
    )
    text, chunks = await collect(stream)
    assert text == LONG_SAFE
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].primum["input_action"] == "redact"


async def test_stream_relays_tool_call_deltas() -> None:
    async def tool_stream(**kwargs: Any) -> AsyncIterator[ModelResponseStream]:
        async def chunks() -> AsyncIterator[ModelResponseStream]:
            yield ModelResponseStream(model="m", choices=[StreamingChoices(index=0, delta=Delta(
                role="assistant", tool_calls=[{"index": 0, "id": "c1", "type": "function",
                                               "function": {"name": "lookup", "arguments": ""}}]))])
            yield ModelResponseStream(model="m", choices=[StreamingChoices(
                index=0, delta=Delta(), finish_reason="tool_calls")])
        return chunks()

    guard = make_guard(tool_stream)
    text, chunks = await collect(await guard.acompletion(model="m", messages=user("look up"),
                                                         stream=True))
    assert text == ""
    calls = [c.choices[0].delta.tool_calls for c in chunks if c.choices[0].delta.tool_calls]
    assert calls[0][0].function.name == "lookup"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_stream_early_close_still_records_the_output_decision() -> None:
    recorder = ListRecorder()
    guard = make_guard(FakeUpstream(LONG_SAFE * 3), recorder)
    stream = await guard.acompletion(model="m", messages=user("hi"), stream=True)
    await stream.__anext__()
    await stream.aclose()
    assert [d.stage for d in recorder.decisions] == [Stage.INPUT, Stage.OUTPUT]


# ------------------------------------------------------------------------ sync twin
def make_sync_guard(upstream: Any = None, **kwargs: Any) -> Guard:
    return Guard.from_policy(parse_policy(POLICY), registry=fake_registry(),
                             completion_fn=upstream, **kwargs)


def test_sync_guard_completion_and_check() -> None:
    with make_sync_guard(FakeUpstream()) as guard:
        response = guard.completion(model="m", messages=user("Alice has a fever."))
        assert response.choices[0].message.content == "Alice has a fever."
        assert guard.check(user("forge it")).action is Action.BLOCK
        with pytest.raises(MessageError):
            guard.check("not a list")


def test_sync_guard_streams() -> None:
    with make_sync_guard(FakeUpstream(LONG_SAFE)) as guard:
        stream = guard.completion(model="m", messages=user("hi"), stream=True)
        chunks = list(stream)
        assert "".join(c.choices[0].delta.content or "" for c in chunks) == LONG_SAFE
        assert stream.result is not None and stream.result.action is Action.ALLOW
        assert primum_result(stream) is stream.result


def test_sync_guard_with_litellm_mock_response() -> None:
    with make_sync_guard() as guard:
        response = guard.completion(model="gpt-4o-mini", messages=user("hi"),
                                    mock_response="Hello.")
        assert response.choices[0].message.content == "Hello."
        # litellm's client state stays bound to the guard's one loop: a second call works
        response = guard.completion(model="gpt-4o-mini", messages=user("hi"),
                                    mock_response="Again.")
        assert response.choices[0].message.content == "Again."


def test_sync_guard_works_from_worker_threads() -> None:
    results: list[str] = []
    with make_sync_guard(FakeUpstream("fine")) as guard:
        def work() -> None:
            results.append(guard.completion(model="m", messages=user("hi"))
                           .choices[0].message.content)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == ["fine"] * 4


async def test_sync_guard_called_inside_a_running_loop_still_answers() -> None:
    # Discouraged (it blocks this loop), but it must not deadlock or raise.
    with make_sync_guard(FakeUpstream("fine")) as guard:
        assert guard.check(user("hi")).action is Action.ALLOW


def test_sync_guard_raise_on_block() -> None:
    with make_sync_guard(FakeUpstream("x"), raise_on_block=True) as guard, \
            pytest.raises(GuardBlocked):
        guard.completion(model="m", messages=user("forge it"))


def test_sync_guard_close_is_idempotent_and_restarts_on_use() -> None:
    guard = make_sync_guard(FakeUpstream("x"))
    assert guard.check(user("hi")).action is Action.ALLOW
    guard.close()
    guard.close()
    assert guard.check(user("hi")).action is Action.ALLOW
    guard.close()


async def test_async_guard_is_usable_concurrently() -> None:
    guard = make_guard(FakeUpstream("ok"))
    responses = await asyncio.gather(
        *(guard.acompletion(model="m", messages=user(f"q{i}")) for i in range(10))
    )
    ids = {r.primum["request_id"] for r in responses}
    assert len(ids) == 10


# ----------------------------------------------------------------- real default policy
@pytest.fixture(scope="module")
def default_engine() -> Engine:
    engine = build_engine("default")
    engine.load()  # PHI models load once for the module
    return engine


def default_guard(engine: Engine, upstream: Any = None,
                  recorder: ListRecorder | None = None) -> AsyncGuard:
    return AsyncGuard(Pipeline(engine, recorder or ListRecorder()), completion_fn=upstream)


async def test_default_policy_redacts_escalates_and_restores(default_engine: Engine) -> None:
    recorder = ListRecorder()
    upstream = FakeUpstream()  # echoes the (redacted) last user turn
    guard = default_guard(default_engine, upstream, recorder)
    text = "My name is John Smith and I want to kill myself tonight."
    response = await guard.acompletion(model="m", messages=user(text))

    sent = upstream.calls[0]["messages"][-1]["content"]
    assert "John Smith" not in sent
    answer = response.choices[0].message.content
    assert answer.startswith("It sounds like you may be going through something very painful")
    assert "988" in answer and "911" in answer
    assert answer.endswith(text)  # the user's own name is restored in what they see
    assert response.primum["input_action"] == "escalate"
    assert {"crisis/suicidal_ideation", "phi/person"} <= set(response.primum["categories"])
    assert response.primum["policy"]["id"] == "primum-default"
    assert [c.rule for c in recorder.cases] == ["crisis"]
    assert all("John" not in d.excerpt for d in recorder.decisions)  # audit holds no PHI


@pytest.mark.usefixtures("stop_litellm_worker")
async def test_default_policy_allows_a_benign_question_via_litellm(
    default_engine: Engine,
) -> None:
    guard = default_guard(default_engine)
    response = await guard.acompletion(
        model="gpt-4o-mini", messages=user("What helps with a common cold?"),
        mock_response="Rest, fluids and time.",
    )
    assert response.choices[0].message.content == "Rest, fluids and time."
    assert response.primum["action"] == "allow"


@pytest.mark.usefixtures("stop_litellm_worker")
async def test_default_policy_streams_with_resources_first(default_engine: Engine) -> None:
    guard = default_guard(default_engine)
    stream = await guard.acompletion(
        model="gpt-4o-mini", messages=user("I want to end my life"), mock_response=LONG_SAFE,
        stream=True,
    )
    text, chunks = await collect(stream)
    assert text.startswith("It sounds like you may be going through something very painful")
    assert text.endswith(LONG_SAFE)
    assert chunks[-1].primum["action"] == "escalate"
