"""Chat messages in, checkable segments out; and the way back after redaction.

Input checks must see every user turn that is new, not just the last one (two user
turns in a row must not bypass the guard), the system prompt, tool results, and the
text parts of content-part arrays. A turn is "new" when it comes after the last
assistant reply: earlier turns were checked when they were sent.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from guard.types import Segment

__all__ = [
    "ROLES",
    "MessageError",
    "input_segments",
    "normalize_messages",
    "replace_segment_texts",
]

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_ALWAYS_CHECKED = frozenset({"system", "developer"})
_TEXT_PART_TYPES = frozenset({"text", "input_text"})


class MessageError(ValueError):
    """A request's messages cannot be checked. ``param`` names the offending field;
    ``code`` is ``message_too_large`` for content over the limit (an HTTP 413, not a 400),
    else ``invalid_messages``."""

    def __init__(self, param: str, message: str, code: str = "invalid_messages") -> None:
        super().__init__(message)
        self.param = param
        self.message = message
        self.code = code


def normalize_messages(
    messages: Any, max_message_chars: int = 100_000
) -> list[dict[str, Any]]:
    """Validate an OpenAI ``messages`` array and return a deep copy safe to modify."""
    if not isinstance(messages, list):
        raise MessageError("messages", "'messages' must be an array of message objects")
    if not messages:
        raise MessageError("messages", "'messages' must contain at least one message")
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, Mapping):
            raise MessageError(where, f"{where} must be an object with 'role' and 'content'")
        role = message.get("role")
        if not isinstance(role, str):
            raise MessageError(f"{where}.role", f"{where}.role is required and must be a string")
        if role not in ROLES:
            allowed = ", ".join(sorted(ROLES))
            raise MessageError(
                f"{where}.role", f"{where}.role {role!r} is not supported (use one of: {allowed})"
            )
        content = message.get("content")
        if content is None:
            if role == "assistant" and (message.get("tool_calls") or message.get("function_call")):
                out.append(copy.deepcopy(dict(message)))
                continue
            raise MessageError(f"{where}.content", f"{where}.content is required")
        if isinstance(content, str):
            _check_size(content, f"{where}.content", max_message_chars)
        elif isinstance(content, list):
            if not content:
                raise MessageError(f"{where}.content", f"{where}.content must not be empty")
            total = 0
            for j, part in enumerate(content):
                ppath = f"{where}.content[{j}]"
                if not isinstance(part, Mapping) or not isinstance(part.get("type"), str):
                    raise MessageError(ppath, f"{ppath} must be an object with a 'type'")
                if part["type"] not in _TEXT_PART_TYPES:
                    raise MessageError(
                        f"{ppath}.type",
                        f"{ppath}.type {part['type']!r} is not supported: only text parts can be "
                        "safety-checked, so send images, audio and files through another channel",
                    )
                text = part.get("text")
                if not isinstance(text, str):
                    raise MessageError(f"{ppath}.text", f"{ppath}.text must be a string")
                total += len(text)
            _check_size("", f"{where}.content", max_message_chars, length=total)
        else:
            raise MessageError(
                f"{where}.content", f"{where}.content must be a string or an array of text parts"
            )
        out.append(copy.deepcopy(dict(message)))
    return out


def _check_size(text: str, param: str, limit: int, length: int | None = None) -> None:
    size = len(text) if length is None else length
    if size > limit:
        raise MessageError(
            param,
            f"{param} is {size} characters; this deployment accepts at most {limit}",
            code="message_too_large",
        )


def _texts(message: Mapping[str, Any]) -> list[tuple[int | None, str]]:
    content = message.get("content")
    if isinstance(content, str):
        return [(None, content)]
    if isinstance(content, list):
        return [
            (j, part["text"])
            for j, part in enumerate(content)
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        ]
    return []


def input_segments(messages: Sequence[Mapping[str, Any]]) -> list[Segment]:
    """Every text in the conversation, each marked ``new`` or not.

    New: system/developer prompts (always: they steer the answer being produced now) and
    every message after the last assistant reply.
    """
    last_assistant = max(
        (i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1
    )
    segments: list[Segment] = []
    for i, message in enumerate(messages):
        role = str(message.get("role"))
        new = i > last_assistant or role in _ALWAYS_CHECKED
        for part_index, text in _texts(message):
            if text.strip():
                segments.append(Segment(text, role, i, part_index, new))
    return segments


def replace_segment_texts(
    messages: Sequence[Mapping[str, Any]], replacements: Mapping[Segment, str]
) -> list[dict[str, Any]]:
    """A copy of ``messages`` with each segment's text replaced (used for redaction)."""
    out = [copy.deepcopy(dict(m)) for m in messages]
    for segment, text in replacements.items():
        message = out[segment.message_index]
        if segment.part_index is None:
            message["content"] = text
        else:
            message["content"][segment.part_index]["text"] = text
    return out
