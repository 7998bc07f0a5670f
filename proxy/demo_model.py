"""``primum/demo``: an offline, deterministic model served through litellm's own path.

It lets the embedded default config run end to end with no network and no key, and it
makes the guard visible: it echoes the last user message *as it reached the model*, so
a name sent by the user comes back as ``[PERSON_1]`` from the model and is restored for
the client by the guard. Registered as a litellm custom provider, it goes through the
same Router, retries and streaming wrapper as a real provider.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import litellm
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import GenericStreamingChunk

__all__ = ["DEMO_MODEL", "PROVIDER", "DemoLLM", "demo_answer", "register_demo_provider"]

PROVIDER = "primum"
DEMO_MODEL = f"{PROVIDER}/demo"
_ECHO_CHARS = 300


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return " ".join(
                str(p.get("text", "")) for p in content if isinstance(p, Mapping)
            )
    return ""


def demo_answer(messages: Sequence[Mapping[str, Any]]) -> str:
    asked = " ".join(_last_user_text(messages).split())
    if len(asked) > _ECHO_CHARS:
        asked = asked[:_ECHO_CHARS].rstrip() + "…"
    return (
        f"(primum-demo, an offline demo model) You asked: «{asked}». A real deployment "
        "points this proxy at OpenAI, Azure, Anthropic, Ollama or vLLM."
    )


def _usage(messages: Sequence[Mapping[str, Any]], answer: str) -> dict[str, int]:
    """A rough, deterministic count (~4 characters a token): the demo has no tokenizer."""
    prompt = sum(len(_last_user_text([m]) or str(m.get("content") or "")) for m in messages)
    prompt_tokens = max(1, prompt // 4)
    completion_tokens = max(1, len(answer) // 4)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p + " " for p in parts[:-1]] + [parts[-1]]


class DemoLLM(CustomLLM):
    """litellm hands us ``model``, ``messages`` and ``model_response``; the rest is unused."""

    def _respond(self, model: str, messages: list[dict[str, Any]], response: Any) -> Any:
        answer = demo_answer(messages)
        response.choices[0].message.content = answer
        response.choices[0].finish_reason = "stop"
        response.model = model
        response.created = int(time.time())
        response.usage = litellm.Usage(**_usage(messages, answer))
        return response

    def completion(self, model: str, messages: list[dict[str, Any]], *args: Any,
                   **kwargs: Any) -> Any:
        return self._respond(model, messages, kwargs["model_response"])

    async def acompletion(self, model: str, messages: list[dict[str, Any]], *args: Any,
                          **kwargs: Any) -> Any:
        return self._respond(model, messages, kwargs["model_response"])

    def _chunks(self, messages: list[dict[str, Any]]) -> Iterator[GenericStreamingChunk]:
        answer = demo_answer(messages)
        for word in _words(answer):
            yield GenericStreamingChunk(
                text=word, is_finished=False, finish_reason="", usage=None, index=0,
                tool_use=None,
            )
        yield GenericStreamingChunk(
            text="", is_finished=True, finish_reason="stop", index=0, tool_use=None,
            usage=_usage(messages, answer),  # type: ignore[typeddict-item]
        )

    def streaming(self, model: str, messages: list[dict[str, Any]], *args: Any,
                  **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        yield from self._chunks(messages)

    async def astreaming(  # type: ignore[override]  # litellm iterates it, never awaits it
        self, model: str, messages: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        for chunk in self._chunks(messages):
            yield chunk


def register_demo_provider() -> None:
    """Add the ``primum`` provider to litellm's (process-global) custom provider map, once.

    litellm only looks custom providers up in that module-level list, so this is the one
    piece of global state the proxy sets; it is idempotent and harmless to other users.
    """
    if not any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
        litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": DemoLLM()})
