"""Every error the proxy returns is an OpenAI error object, so clients' SDKs parse it.

``{"error": {"message", "type", "param", "code"}}`` with the right status, whether it comes
from our validation, from routing (404/405), from the upstream, or from a bug. Messages
say what to fix; nothing here ever echoes request text into a log, and a bug's stack
trace never reaches the client.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ApiError",
    "CatchAll",
    "bad_request",
    "error_body",
    "error_response",
    "install_error_handlers",
    "request_id_of",
]

log = logging.getLogger(__name__)

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    502: "upstream_error",
    503: "service_unavailable",
    504: "timeout_error",
}


class ApiError(Exception):
    """An error answer. Raise it anywhere in a request; the handler shapes it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.type = type or _TYPES.get(status, "invalid_request_error")
        self.headers = dict(headers or {})


def bad_request(param: str | None, message: str, code: str = "invalid_request") -> ApiError:
    return ApiError(400, message, param=param, code=code)


def error_body(
    message: str, type: str, param: str | None = None, code: str | None = None
) -> dict[str, dict[str, str | None]]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def request_id_of(request: Request) -> str:
    """The request's id: set by the chat route, else made here so every error has one."""
    rid = getattr(request.state, "request_id", None)
    if not isinstance(rid, str):
        rid = uuid.uuid4().hex
        request.state.request_id = rid
    return rid


def error_response(request: Request, exc: ApiError) -> JSONResponse:
    headers = {**exc.headers, "x-request-id": request_id_of(request)}
    return JSONResponse(
        error_body(exc.message, exc.type, exc.param, exc.code), exc.status, headers=headers
    )


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def install_error_handlers(app: FastAPI) -> None:
    """Replace FastAPI's default error bodies (``{"detail": ...}``) with OpenAI's shape."""

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            message = f"no route {request.url.path}: see /v1/chat/completions and /v1/models"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        headers = dict(exc.headers or {})
        return error_response(
            request,
            ApiError(exc.status_code, message, code=_HTTP_CODES.get(exc.status_code),
                     headers=headers),
        )

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p != "body"]
        param = ".".join(loc) or None
        message = f"{param}: {first.get('msg', 'invalid')}" if param else "invalid request"
        return error_response(request, bad_request(param, message))

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_middleware(CatchAll)


class CatchAll:
    """Pure ASGI: turn an unhandled exception into a 500 in the OpenAI shape.

    Starlette's own catch-all re-raises after answering, so the server would log the full
    traceback, whose text may quote the request. Here only the exception type and the
    request id are logged. If the response had already started (a stream), the
    connection is simply ended.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            state = scope.setdefault("state", {})
            rid = state.get("request_id")
            if not isinstance(rid, str):
                rid = state["request_id"] = uuid.uuid4().hex
            log.error("unhandled %s in request %s", type(exc).__name__, rid)
            if started:
                return
            body = error_body(
                f"internal error; quote request id {rid} to the operator",
                "server_error", None, "internal_error",
            )
            response = JSONResponse(body, 500, headers={"x-request-id": rid})
            await response(scope, receive, send)
