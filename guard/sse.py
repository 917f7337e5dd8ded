"""A streamed chat completion read from an aiohttp response: server-sent events to the SDK's chunk objects.

Chunks are built as the openai SDK builds them (``construct``: nested objects,
no validation), so the pipeline reads a direct stream and a litellm one alike.
An ``error`` event raises ``openai.APIError`` as the SDK does. ``aclose``
closes the connection, which is how the upstream learns to stop generating
for a client that left.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import orjson
from openai.types.chat import ChatCompletionChunk

from guard.upstream_errors import stream_error, transport_error

_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")


class UpstreamStream:
    """The chunks of one open streamed answer, in order; iterate it once."""

    def __init__(self, response: aiohttp.ClientResponse, url: str):
        self._response, self._url = response, url

    def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        return self._chunks()

    async def aclose(self) -> None:
        """End the request now: the connection is closed, not returned to the pool."""
        self._response.close()

    async def _chunks(self) -> AsyncIterator[ChatCompletionChunk]:
        try:
            async for data in event_data(self._response.content):
                if data.startswith(b"[DONE]"):
                    return
                event = orjson.loads(data)
                if isinstance(event, dict) and event.get("error"):
                    raise stream_error(event["error"], self._url)
                yield ChatCompletionChunk.construct(**event)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise transport_error(exc, self._url) from exc
        finally:
            self._response.release()  # back to the pool when read to the end, else closed


async def event_data(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """The ``data`` of each server-sent event, lines joined; comments and other fields are skipped."""
    buffer = b""
    async for piece in content.iter_any():
        buffer += piece
        *events, buffer = _EVENT_END.split(buffer)
        for event in events:
            data = _data(event)
            if data is not None:
                yield data
    data = _data(buffer)
    if data is not None:
        yield data


def _data(event: bytes) -> bytes | None:
    lines = [line[5:] for line in event.splitlines() if line.startswith(b"data:")]
    if not lines:
        return None
    return b"\n".join(line[1:] if line.startswith(b" ") else line for line in lines)
