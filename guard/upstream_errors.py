"""Failures of a direct upstream call as the openai SDK's exceptions, so every path fails alike.

``guard.llm`` retries and ``adapters/server/errors.py`` maps statuses by these
types (429 with its ``retry-after``, 5xx, a timeout's 504), whichever client
made the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx
import openai
import orjson

_STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
    404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
    429: openai.RateLimitError}


def status_error(status: int, headers: Mapping[str, str], content: bytes, url: str) -> openai.APIStatusError:
    """The SDK's exception for ``status``; its ``response`` carries the headers (``retry-after``) and body."""
    response = httpx.Response(status, headers=list(headers.items()), content=content,
                              request=httpx.Request("POST", url))
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    kind = _STATUS_ERRORS.get(status) or (openai.InternalServerError if status >= 500 else openai.APIStatusError)
    return kind(f"Error code: {status} - {message or response.text[:500]}", response=response, body=error or body)


def transport_error(exc: BaseException, url: str) -> openai.APIConnectionError:
    """A connection failure or timeout (aiohttp's) as ``APIConnectionError`` or ``APITimeoutError``."""
    request = httpx.Request("POST", url)
    if isinstance(exc, asyncio.TimeoutError):
        return openai.APITimeoutError(request=request)
    return openai.APIConnectionError(message=f"Connection error: {str(exc) or type(exc).__name__}", request=request)


def stream_error(error: object, url: str) -> openai.APIError:
    """An ``error`` event inside a stream, raised as the SDK raises it."""
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str) or not message:
        message = "An error occurred during streaming"
    return openai.APIError(message, httpx.Request("POST", url), body=error)
