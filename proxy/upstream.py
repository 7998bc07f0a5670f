"""The model behind the guard: one small Protocol, and its litellm implementation.

The app depends only on ``Upstream``, so tests can inject a fake and the guard never
learns which provider answers. ``LiteLLMUpstream`` goes through ``litellm.Router``
(any provider, retries, fallbacks) and turns its exceptions into OpenAI-shaped errors
with the right status, naming the model's config rather than echoing provider details
that could include a key.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

import openai

from proxy.demo_model import register_demo_provider
from proxy.errors import ApiError

__all__ = ["LiteLLMUpstream", "Upstream", "UpstreamError", "map_upstream_error"]


class UpstreamError(ApiError):
    """The upstream call failed; ``status`` is what the client gets (400/429/502/504)."""


class Upstream(Protocol):
    async def complete(
        self, model: str, messages: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """An OpenAI ``chat.completion`` as a dict. Raises ``UpstreamError``."""
        ...

    def stream(
        self, model: str, messages: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """``chat.completion.chunk`` dicts. Raises ``UpstreamError`` (also mid-stream)."""
        ...

    def models(self) -> list[str]: ...


class LiteLLMUpstream:
    """``litellm.Router`` over the config's ``model_list``; the demo provider registered.

    ``timeout_s`` bounds the wait for a whole answer, or for each next chunk of a stream,
    on top of litellm's own per-attempt timeout, so a hung provider costs the client at
    most that long and a 504.
    """

    def __init__(
        self,
        model_list: Sequence[Mapping[str, Any]],
        router_settings: Mapping[str, Any] | None = None,
        *,
        timeout_s: float = 120.0,
        config_source: str = "the proxy config",
    ) -> None:
        import litellm
        from litellm.router import Router

        register_demo_provider()
        litellm.suppress_debug_info = True  # else it prints help banners to stdout on errors
        # Any: litellm's own annotations are narrower than what it accepts (plain dicts).
        self._router: Any = Router(
            model_list=[dict(m) for m in model_list], **dict(router_settings or {})
        )
        self._models = list(dict.fromkeys(str(m["model_name"]) for m in model_list))
        self._timeout_s = timeout_s
        self._source = config_source

    def models(self) -> list[str]:
        return list(self._models)

    async def complete(
        self, model: str, messages: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        try:
            response = await asyncio.wait_for(
                self._router.acompletion(model=model, messages=messages, **params),
                timeout=self._timeout_s,
            )
        except Exception as exc:
            raise map_upstream_error(exc, model, self._source, self._timeout_s) from None
        dumped: dict[str, Any] = response.model_dump()
        return dumped

    async def stream(
        self, model: str, messages: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        try:
            response = await asyncio.wait_for(
                self._router.acompletion(
                    model=model, messages=messages, **{**params, "stream": True}
                ),
                timeout=self._timeout_s,
            )
            chunks = aiter(response)
        except Exception as exc:
            raise map_upstream_error(exc, model, self._source, self._timeout_s) from None
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(anext(chunks), timeout=self._timeout_s)
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    raise map_upstream_error(
                        exc, model, self._source, self._timeout_s
                    ) from None
                dumped: dict[str, Any] = chunk.model_dump(exclude_none=True)
                yield dumped
        finally:
            # Release the provider connection when the client goes away mid-stream.
            close = getattr(response, "aclose", None)
            if close is not None:
                await close()


_PREFIXES = re.compile(r"^(?:litellm\.\w+:\s*|\w+Error:\s*|\w+Exception\s*-\s*)+")


def _provider_message(exc: BaseException) -> str:
    """The provider's own words, without litellm's prefixes and router notes."""
    text = str(getattr(exc, "message", None) or exc)
    text = text.split("\n", 1)[0].strip()
    text = _PREFIXES.sub("", text).strip()
    return text or "the upstream provider rejected the request"


def map_upstream_error(
    exc: BaseException, model: str, source: str = "the proxy config", timeout_s: float = 0
) -> UpstreamError:
    """One litellm/openai exception -> the error the client gets. No stack trace, no key.

    litellm keeps the provider's HTTP status on its exceptions but not always the matching
    class (an OpenAI-compatible server's 401 arrives as ``BadRequestError``), so the
    status decides first and the class only when there is no status.
    """
    from litellm.types.router import RouterRateLimitError

    where = f"model {model!r} in {source}"
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        status = None
    if isinstance(exc, TimeoutError | openai.APITimeoutError) or status == 408:
        limit = f" within {timeout_s:g} s" if timeout_s and isinstance(exc, TimeoutError) else ""
        return UpstreamError(504, f"the upstream for {where} did not answer{limit}",
                             code="upstream_timeout")
    if isinstance(exc, RouterRateLimitError):
        return UpstreamError(
            429, f"every deployment of {where} is cooling down after recent failures; retry "
            "later", code="upstream_cooling_down", headers={"retry-after": "5"},
        )
    if status == 429 or isinstance(exc, openai.RateLimitError):
        return UpstreamError(429, f"the upstream for {where} is rate limiting; retry later",
                             code="rate_limit_exceeded")
    if status in (401, 403) or isinstance(
        exc, openai.AuthenticationError | openai.PermissionDeniedError
    ):
        return UpstreamError(
            502,
            f"the upstream provider refused the credentials configured for {where}; check "
            "its litellm_params (api_key and the environment variable it names)",
            code="upstream_auth_error",
        )
    if status == 404 or isinstance(exc, openai.NotFoundError):
        return UpstreamError(
            502, f"the upstream provider does not know the model configured for {where}",
            code="upstream_error",
        )
    if (status is not None and 400 <= status < 500) or isinstance(
        exc, openai.BadRequestError | openai.UnprocessableEntityError
    ):
        return UpstreamError(400, _provider_message(exc), code="upstream_bad_request",
                             type="invalid_request_error")
    return UpstreamError(502, f"the upstream for {where} failed ({type(exc).__name__})",
                         code="upstream_error")
