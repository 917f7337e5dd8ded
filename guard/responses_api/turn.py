"""One Responses API turn through guard's chat pipeline: the request bridged in, the guarded answer mapped out.

The caller (the proxy's route, the drop-in client) runs the chat completion
itself with ``turn.messages`` and ``turn.params``, so records, review,
experiments and limits are the chat pipeline's own; this module only
translates and keeps the conversation for ``previous_response_id``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from guard.attribution import current_key_name
from guard.errors import InvalidRequest
from guard.pipeline import Guard, _as_delta
from guard.responses import GuardedChatCompletion, GuardedChatCompletionChunk
from guard.responses_api.output import Event, ResponseBuilder
from guard.responses_api.request import (ResponsesRequest, chat_params, parse_request, turn_messages,
                                         with_instructions)
from guard.responses_api.state import load_conversation, save_conversation


@dataclass
class Turn:
    request: ResponsesRequest
    history: list[dict[str, Any]]  # the conversation so far and this turn's input, without instructions
    messages: list[dict[str, Any]]  # what the model gets: instructions first
    params: dict[str, Any]
    key_name: str | None  # the API key it came with: the next turn must come with it too


async def open_turn(guard: Guard, data: dict[str, Any]) -> Turn:
    """Parse a request body and load the conversation it continues; bad input is ``InvalidRequest``.

    Call it where the request is attributed to its key (``attributed_to``): only that key's responses continue.
    """
    request = parse_request(data)
    history: list[dict[str, Any]] = []
    key_name = current_key_name()
    if request.previous_response_id is not None:
        found = await asyncio.to_thread(load_conversation, guard.store, request.previous_response_id, key_name)
        if found is None:
            raise InvalidRequest(f"previous_response_id: no stored response {request.previous_response_id!r} for "
                                 "this key (created with store=false, by another key, or never)",
                                 "previous_response_id")
        history = found
    history = history + turn_messages(request)
    return Turn(request, history, with_instructions(request.instructions, history), chat_params(request), key_name)


async def respond(guard: Guard, turn: Turn, reply: GuardedChatCompletion, model: str) -> dict[str, Any]:
    """The ``Response`` of a whole guarded completion, stored for a next turn when ``store`` is not false."""
    builder = ResponseBuilder(turn.request, response_id(reply.guard.request_id), model)
    choice = reply.choices[0]
    builder.add(_as_delta(choice.message.model_dump(exclude_none=True)))
    builder.finish(choice.finish_reason, reply.guard)
    await _remember(guard, turn, builder)
    return builder.response


async def stream_events(guard: Guard, turn: Turn, chunks: AsyncGenerator[GuardedChatCompletionChunk, None],
                        model: str) -> AsyncIterator[Event]:
    """A guarded chat stream as Responses stream events; the conversation is stored before ``response.completed``.

    Closing these events closes the guarded stream at once (the upstream call ends, the record says undelivered).
    """
    builder: ResponseBuilder | None = None
    finish_reason = None
    async with aclosing(chunks):
        async for chunk in chunks:
            if builder is None:
                builder = ResponseBuilder(turn.request, "resp_" + chunk.id.removeprefix("chatcmpl-"), model)
                for event in builder.start():
                    yield event
            if chunk.guard is not None:
                events = builder.finish(finish_reason, chunk.guard)
                await _remember(guard, turn, builder)
                for event in events:
                    yield event
                continue
            for choice in chunk.choices:
                finish_reason = choice.finish_reason or finish_reason
                for event in builder.add(choice.delta.model_dump(exclude_none=True)):
                    yield event


def response_id(request_id: str) -> str:
    """``resp_`` and the request id's digits: the same answer is ``gr_...`` in guard's records."""
    return "resp_" + request_id.removeprefix("gr_")


async def _remember(guard: Guard, turn: Turn, builder: ResponseBuilder) -> None:
    """A store that fails costs the answer nothing: only a later turn naming this one will be refused."""
    if turn.request.store is False:
        return
    try:
        conversation = [*turn.history, builder.assistant_message()]
        await asyncio.to_thread(save_conversation, guard.store, builder.id, conversation, turn.key_name)
    except Exception as exc:  # noqa: BLE001 - the user gets the answer; the failure is logged
        guard.log.error("response_state_not_stored", response_id=builder.id, error=f"{type(exc).__name__}: {exc}")
