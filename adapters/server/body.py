"""Reading a request body under ``server.max_body_bytes``: the limit stops the read, not a check afterwards."""

from __future__ import annotations

from starlette.requests import Request

from guard.adapters.server.errors import ApiError


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it is known to exceed ``limit`` (declared length or bytes received)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"request body larger than {limit} bytes (server.max_body_bytes)", code="request_too_large")
