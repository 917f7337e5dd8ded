"""``POST /v1/responses``: OpenAI's Responses API, bridged to the chat completions route's own pipeline.

A Responses request becomes chat messages (``guard.responses_api``), runs as a
chat completion would (same model names, experiments, overrides, key limits,
records and review), and the guarded answer comes back as a ``Response`` with
``guard``. Streams send the official events, ``response.completed`` last but
one and ``guard.verdict`` last.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from guard.adapters.server.auth import require_app
from guard.adapters.server.body import read_body
from guard.adapters.server.completions import ChatCompletions, arm_headers, guard_headers
from guard.adapters.server.errors import api_error
from guard.adapters.server.schemas import GuardOverrides, parse_json, validate
from guard.attribution import attributed_to
from guard.responses_api import open_turn, respond, stream_events
from guard.responses_api.output import Event


class Responses:
    def __init__(self, chat: ChatCompletions):
        self.chat = chat

    async def create(self, request: Request) -> Response:
        key = require_app(request, self.chat.config)
        data = parse_json(await read_body(request, self.chat.config.server.max_body_bytes))
        base = self.chat.variants.guard
        with attributed_to(key.name if key else None):  # the record, any review item and the state name the key
            turn = await open_turn(base, data)
            overrides = validate(GuardOverrides, turn.request.guard) if turn.request.guard is not None else None
            call = await self.chat.prepare(request, key, turn.request.model, overrides, turn.messages, turn.params,
                                           turn.request.user)
            if turn.request.stream:
                events = stream_events(base, turn, call.stream(), call.echo)
                return await _stream(events, call.guard.log, arm_headers(call.arm))
            reply = await call.complete()
            body = await respond(base, turn, reply, call.echo)
        return Response(orjson.dumps(body), media_type="application/json", headers=guard_headers(reply.guard))


async def _stream(events: AsyncIterator[Event], log: object, extra_headers: dict[str, str]) -> Response:
    """Read the first event before answering, so a failure to start is a proper HTTP error."""
    first = await events.__anext__()
    headers = {"x-guard-request-id": "gr_" + first["response"]["id"].removeprefix("resp_"),
               "cache-control": "no-cache", **extra_headers}
    return StreamingResponse(_sse(first, events, log), media_type="text/event-stream", headers=headers)


async def _sse(first: Event, rest: AsyncIterator[Event], log: object) -> AsyncIterator[bytes]:
    yield _event(first)
    sequence = first["sequence_number"]
    try:
        async with aclosing(rest):  # a client that leaves closes the guarded stream now
            async for event in rest:
                sequence = event["sequence_number"]
                yield _event(event)
    except Exception as exc:  # noqa: BLE001 - the status line is sent: the error travels as an event
        error = api_error(exc, log)
        yield _event({"type": "error", "sequence_number": sequence + 1, "code": error.code or "server_error",
                      "message": error.message, "param": error.param})


def _event(event: Event) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"

