"""Every error the proxy returns, in the OpenAI shape, with the status an OpenAI SDK expects.

``{"error": {"message", "type", "param", "code"}}``. Client mistakes are 4xx;
upstream failures keep their meaning (429 with ``retry-after``, 5xx, 504 on a
timeout) so SDK retry logic does the right thing; a guardrail decision is never
a 5xx (it is a 200 with the holding message). What guard's own infrastructure
says (database hosts, file paths) goes to the log, never to the app.
"""

from __future__ import annotations

import asyncio
import traceback
from typing import Any

import httpx
import openai
import orjson
from starlette.responses import Response

from guard.errors import (AlreadyDecided, InvalidRequest, ModelCallError, ModelNotInstalled, ReviewNotFound,
                          StoreUnavailable, UnknownRequest)
from guard.logs import current_request_id, get_logger
from guard.pipeline import new_request_id

_log = get_logger()

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 405: "invalid_request_error", 409: "conflict_error",
          413: "invalid_request_error", 415: "invalid_request_error", 429: "rate_limit_error", 504: "timeout_error"}


class ApiError(Exception):
    """An HTTP error response in the OpenAI shape."""

    def __init__(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers = headers or {}

    def response(self) -> Response:
        kind = _TYPES.get(self.status, "server_error" if self.status >= 500 else "invalid_request_error")
        body = {"error": {"message": self.message, "type": kind, "param": self.param, "code": self.code}}
        return Response(orjson.dumps(body), status_code=self.status, headers=self.headers,
                        media_type="application/json")


def api_error(exc: BaseException, log: Any = _log) -> ApiError:
    """The HTTP error for an exception raised while serving a request.

    An unexpected one is logged on ``log``: the serving Guard's logger, which masks PII as its records do
    (an exception's text can quote the request).
    """
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ModelCallError):
        return _upstream_error(exc)
    if isinstance(exc, ModelNotInstalled):
        return ApiError(500, str(exc), code="model_not_installed")
    if isinstance(exc, (UnknownRequest, ReviewNotFound)):
        return ApiError(404, str(exc), code="not_found")
    if isinstance(exc, AlreadyDecided):
        return ApiError(409, str(exc), code="already_decided")
    if isinstance(exc, StoreUnavailable):  # its text names the database's host or file: for the log only
        log.error("store_unavailable", error=str(exc))
        return ApiError(503, "guard's store is unavailable; try again shortly (the event is logged)",
                        code="store_unavailable")
    if isinstance(exc, InvalidRequest):
        return ApiError(400, str(exc), code="invalid_request", param=exc.param)
    # Anything else is guard's own failure, a ValueError or a ConfigError included: a 500 the property tests
    # see, logged (masked by ``log``) with the request's id, which the client gets to quote.
    request_id = current_request_id() or new_request_id()
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    log.error("unhandled_error", request_id=request_id, error=repr(exc),
              at=f"{frame.filename}:{frame.lineno} in {frame.name}" if frame else None)
    return ApiError(500, f"internal error in guard (request {request_id}); the event is logged",
                    code="internal_error")


def _upstream_error(exc: ModelCallError) -> ApiError:
    cause = exc.cause
    status = getattr(cause, "status_code", None)
    message = f"upstream model {exc.model!r}: {_message(cause)}"
    transport = _transport_failure(cause)
    if isinstance(transport, (asyncio.TimeoutError, openai.APITimeoutError, httpx.TimeoutException)) or status == 408:
        return ApiError(504, message, code="upstream_timeout")
    if transport is not None:
        return ApiError(502, message, code="upstream_unreachable")
    if status == 429:
        retry_after = _header(cause, "retry-after")
        return ApiError(429, message, code="rate_limit_exceeded",
                        headers={"retry-after": retry_after} if retry_after else None)
    if status in (401, 403):  # guard's own upstream credentials: nothing the client can fix
        return ApiError(502, message, code="upstream_auth_failed")
    if isinstance(status, int) and 400 <= status < 500:
        return ApiError(status, message, code="upstream_rejected")
    if not isinstance(status, int):
        return ApiError(502, message, code="upstream_error")
    return ApiError(status if status in (500, 502, 503) else 502, message, code="upstream_error")


def _transport_failure(exc: BaseException) -> BaseException | None:
    """The timeout or connection failure behind ``exc``: litellm reports a refused connection as a 500."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, (asyncio.TimeoutError, openai.APIConnectionError, httpx.TransportError,
                                ConnectionError)):
            return current
        current, seen = current.__cause__ or current.__context__, seen + 1
    return None


def _message(cause: BaseException) -> str:
    text = " ".join(str(getattr(cause, "message", None) or cause).split()) or type(cause).__name__
    return text if len(text) <= 500 else text[:500] + "…"


def _header(cause: Any, name: str) -> str | None:
    for headers in (getattr(cause, "litellm_response_headers", None),
                    getattr(getattr(cause, "response", None), "headers", None), getattr(cause, "headers", None)):
        if headers:
            value = headers.get(name)
            if value:
                return str(value)
    return None
