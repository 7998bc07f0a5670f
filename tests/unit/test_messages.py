"""Every new user turn, the system prompt, tool results and text parts are checked."""

import pytest

from guard.messages import MessageError, input_segments, normalize_messages, replace_segment_texts
from guard.types import Segment


def test_all_user_turns_after_last_assistant_are_new() -> None:
    messages = [
        {"role": "system", "content": "You are a triage assistant."},
        {"role": "user", "content": "old question"},
        {"role": "assistant", "content": "old answer"},
        {"role": "user", "content": "first new turn"},
        {"role": "user", "content": "second new turn"},
        {"role": "tool", "content": "tool result", "tool_call_id": "t1"},
    ]
    segs = input_segments(normalize_messages(messages))
    assert [(s.text, s.new) for s in segs] == [
        ("You are a triage assistant.", True),
        ("old question", False),
        ("old answer", False),
        ("first new turn", True),
        ("second new turn", True),
        ("tool result", True),
    ]


def test_content_parts_are_segments_with_part_index() -> None:
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "part one"}, {"type": "text", "text": "part two"}]}]
    segs = input_segments(normalize_messages(messages))
    assert [(s.text, s.message_index, s.part_index) for s in segs] == [
        ("part one", 0, 0), ("part two", 0, 1)]


def test_replace_segment_texts_rewrites_strings_and_parts_without_touching_input() -> None:
    messages = normalize_messages([
        {"role": "user", "content": "Alice"},
        {"role": "user", "content": [{"type": "text", "text": "Bob"}]},
    ])
    out = replace_segment_texts(messages, {
        Segment("Alice", "user", 0): "[PERSON_1]",
        Segment("Bob", "user", 1, 0): "[PERSON_2]",
    })
    assert out[0]["content"] == "[PERSON_1]"
    assert out[1]["content"][0]["text"] == "[PERSON_2]"
    assert messages[0]["content"] == "Alice"


def test_assistant_tool_call_without_content_is_accepted() -> None:
    out = normalize_messages([{"role": "assistant", "content": None,
                               "tool_calls": [{"id": "1"}]}])
    assert input_segments(out) == []


@pytest.mark.parametrize(
    ("messages", "param", "fragment"),
    [
        ("hi", "messages", "must be an array"),
        ([], "messages", "at least one"),
        (["hi"], "messages[0]", "must be an object"),
        ([{"content": "x"}], "messages[0].role", "required"),
        ([{"role": "wizard", "content": "x"}], "messages[0].role", "not supported"),
        ([{"role": "user"}], "messages[0].content", "required"),
        ([{"role": "user", "content": 5}], "messages[0].content", "string or an array"),
        ([{"role": "user", "content": []}], "messages[0].content", "must not be empty"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
         "messages[0].content[0].type", "only text parts"),
        ([{"role": "user", "content": [{"type": "text"}]}], "messages[0].content[0].text",
         "must be a string"),
        ([{"role": "user", "content": "x" * 11}], "messages[0].content", "at most 10"),
        ([{"role": "user", "content": [{"type": "text", "text": "x" * 6}] * 2}],
         "messages[0].content", "at most 10"),
    ],
)
def test_bad_messages_name_the_field(messages, param, fragment) -> None:
    with pytest.raises(MessageError) as err:
        normalize_messages(messages, max_message_chars=10)
    assert err.value.param == param
    assert fragment in err.value.message


def test_oversized_content_is_told_apart_from_malformed() -> None:
    with pytest.raises(MessageError) as err:
        normalize_messages([{"role": "user", "content": "x" * 11}], max_message_chars=10)
    assert err.value.code == "message_too_large"
    with pytest.raises(MessageError) as err:
        normalize_messages([{"role": "wizard", "content": "x"}], max_message_chars=10)
    assert err.value.code == "invalid_messages"
