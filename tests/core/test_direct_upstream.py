"""The direct OpenAI-compatible client: server-sent events read whole, one connection pool per loop, closed with it."""

from __future__ import annotations

import asyncio

from guard.openai_direct import direct_upstream
from guard.sse import event_data
from tests.core.conftest import PRIMARY

QUESTION = [{"role": "user", "content": "hi"}]


class Pieces:
    """An aiohttp body that arrives in the given pieces."""

    def __init__(self, *pieces: bytes):
        self.pieces = pieces

    async def iter_any(self):
        for piece in self.pieces:
            yield piece


async def _data(*pieces: bytes) -> list[bytes]:
    return [data async for data in event_data(Pieces(*pieces))]  # type: ignore[arg-type]


async def test_events_split_anywhere_are_read_whole():
    body = b'data: {"a": 1}\r\n\r\n: keep-alive\n\nevent: x\ndata: {"b":\ndata: 2}\n\ndata: [DONE]\n\n'
    whole = await _data(body)
    for cut in range(1, len(body)):
        assert await _data(body[:cut], body[cut:]) == whole
    assert whole == [b'{"a": 1}', b'{"b":\n2}', b"[DONE]"]


async def test_a_last_event_without_its_blank_line_is_still_read():
    assert await _data(b"data: tail") == [b"tail"]


def test_the_connection_pool_is_closed_when_its_loop_shuts_down(upstream):
    async def call() -> object:
        found = direct_upstream(PRIMARY, {})
        assert found is not None and direct_upstream(PRIMARY, {}) is found  # one per loop
        await found.complete(PRIMARY, QUESTION, {}, timeout=10)
        return found

    first, second = asyncio.run(call()), asyncio.run(call())

    assert first is not second
    assert first._session.closed and second._session.closed
