"""The drop-in client: ``Client().chat.completions.create(...)`` and ``.responses.create(...)``, as ``openai.OpenAI()``.

It lives in the core, not in ``adapters/``: it is the library's own API, plain
Python over ``Guard`` with no web framework, and ``from guard import Client``
must not make the core import an adapter.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any

from guard.config import GuardConfig, configured, load_config
from guard.errors import InvalidRequest
from guard.pipeline import Guard
from guard.responses import GuardedChatCompletion, GuardedChatCompletionChunk
from guard.responses_api import Turn, open_turn, respond, stream_events
from guard.responses_api.types import GuardedResponse, as_event
from guard.store import FeedbackRecord

_DONE = object()


class _AsyncCompletions:
    def __init__(self, guard: Guard):
        self._guard = guard

    async def create(self, *, model: str | None = None, messages: list[dict[str, Any]], stream: bool = False,
                     **kwargs: Any) -> GuardedChatCompletion | AsyncIterator[GuardedChatCompletionChunk]:
        if stream:
            return self._guard.astream(messages, model, **kwargs)
        return await self._guard.acomplete(messages, model, **kwargs)


class _AsyncResponses:
    """``responses.create`` as the openai SDK's: the Responses API over the same guarded chat pipeline."""

    def __init__(self, guard: Guard):
        self._guard = guard

    async def create(self, *, input: str | list[dict[str, Any]], model: str | None = None, stream: bool = False,
                     **kwargs: Any) -> GuardedResponse | AsyncGenerator[Any, None]:
        turn = await open_turn(self._guard, {"model": model, "input": input, "stream": stream, **kwargs})
        if turn.request.guard is not None:
            raise InvalidRequest("guard: per-request overrides are the proxy's; configure the Client instead, "
                                 "e.g. Client(product={'risk': 'high'})", "guard")
        if stream:
            chunks = self._guard.astream(turn.messages, model, user=turn.request.user, **turn.params)
            return self._events(turn, chunks, model or self._guard.config.models.default)
        reply = await self._guard.acomplete(turn.messages, model, user=turn.request.user, **turn.params)
        return GuardedResponse.model_validate(await respond(self._guard, turn, reply, model or reply.model))

    async def _events(self, turn: Turn, chunks: AsyncGenerator[GuardedChatCompletionChunk, None],
                      model: str) -> AsyncGenerator[Any, None]:
        async with aclosing(stream_events(self._guard, turn, chunks, model)) as events:
            async for event in events:
                yield as_event(event)


class _Completions:
    """Runs the async pipeline on a private event loop thread, so sync callers work inside any app."""

    def __init__(self, guard: Guard):
        self._guard = guard
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="guard-client", daemon=True)
        self._thread.start()

    def create(self, *, model: str | None = None, messages: list[dict[str, Any]], stream: bool = False,
               **kwargs: Any) -> GuardedChatCompletion | Iterator[GuardedChatCompletionChunk]:
        if stream:
            return self._iterate(self._guard.astream(messages, model, **kwargs))
        return asyncio.run_coroutine_threadsafe(self._guard.acomplete(messages, model, **kwargs), self._loop).result()

    def _iterate(self, agen: AsyncGenerator[GuardedChatCompletionChunk, None]) -> Iterator[GuardedChatCompletionChunk]:
        """The stream's chunks in the caller's thread; a caller that stops early (``break``, ``close()``) stops it.

        Stopping cancels the pump, and ``aclosing`` then closes the guarded stream at once (not whenever the
        garbage collector finds it): the upstream request ends and the record says the answer was not delivered.
        """
        out: queue.Queue[Any] = queue.Queue()

        async def pump() -> None:
            try:
                async with aclosing(agen):
                    async for chunk in agen:
                        out.put(chunk)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                out.put(exc)
            finally:
                out.put(_DONE)

        pumping = asyncio.run_coroutine_threadsafe(pump(), self._loop)
        try:
            while (item := out.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if not pumping.done():
                pumping.cancel()  # the consumer left: the upstream is cancelled, not read to its end
                try:
                    pumping.result()  # wait until the stream is closed and its record queued
                except BaseException:  # noqa: BLE001 - cancelled, as asked
                    pass

    def run(self, coro: Any) -> Any:
        """``coro`` on the private loop, its result (or exception) in the caller's thread."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        """Stop the private loop; tasks left on it (litellm's logging worker) are cancelled, not abandoned.

        Then, as ``asyncio.run`` does, async generators are finalised: the upstream connections close there.
        """
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(_cancel_pending_tasks(), self._loop).result()
        asyncio.run_coroutine_threadsafe(self._loop.shutdown_asyncgens(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


class _Responses:
    """``responses.create`` on the sync client, run on the chat completions' private loop."""

    def __init__(self, completions: _Completions):
        self._completions = completions
        self._async = _AsyncResponses(completions._guard)

    def create(self, *, input: str | list[dict[str, Any]], model: str | None = None, stream: bool = False,
               **kwargs: Any) -> GuardedResponse | Iterator[Any]:
        result = self._completions.run(self._async.create(input=input, model=model, stream=stream, **kwargs))
        return self._completions._iterate(result) if stream else result


async def _cancel_pending_tasks() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class _Chat:
    def __init__(self, completions: Any):
        self.completions = completions


ConfigArg = GuardConfig | str | os.PathLike[str] | None


class AsyncClient:
    """``await AsyncClient().chat.completions.create(...)``, as ``openai.AsyncOpenAI``.

    Close it as that one closes: ``await client.close()`` or ``async with AsyncClient() as client``.
    """

    def __init__(self, config: ConfigArg = None, *, guard: Guard | None = None, **overrides: Any):
        self._owns_guard = guard is None
        self.guard = guard or Guard(_config(config, overrides))
        self.chat = _Chat(_AsyncCompletions(self.guard))
        self.responses = _AsyncResponses(self.guard)

    async def feedback(self, request_id: str, *, rating: int | None = None, final_text: str | None = None,
                       comment: str | None = None, user: str | None = None,
                       resolved: bool | None = None) -> FeedbackRecord:
        """Tell guard how an answer went: ``rating`` +1 / -1, and ``final_text`` as really sent (for the edit rate)."""
        return await self.guard.afeedback(request_id, rating=rating, final_text=final_text, comment=comment,
                                          user=user, resolved=resolved)

    async def close(self) -> None:
        """For a guard this client built, write the records still queued; call at shutdown."""
        if self._owns_guard:
            await self.guard.aclose()

    aclose = close  # the name this method had first

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Client:
    """``Client().chat.completions.create(...)``, as ``openai.OpenAI``; responses carry ``.guard``.

    ``client.close()`` or ``with Client() as client``; a client never closed is closed at interpreter exit.
    """

    def __init__(self, config: ConfigArg = None, *, guard: Guard | None = None, **overrides: Any):
        self._owns_guard = guard is None
        self.guard = guard or Guard(_config(config, overrides))
        self.chat = _Chat(_Completions(self.guard))
        self.responses = _Responses(self.chat.completions)
        # Its loop's upstream connections must close before the interpreter tears aiohttp down around them.
        self._finalizer = weakref.finalize(self, _close, self.chat.completions, self.guard if self._owns_guard else None)

    def feedback(self, request_id: str, *, rating: int | None = None, final_text: str | None = None,
                 comment: str | None = None, user: str | None = None, resolved: bool | None = None) -> FeedbackRecord:
        """Tell guard how an answer went: ``rating`` +1 / -1, and ``final_text`` as really sent (for the edit rate)."""
        return self.guard.feedback(request_id, rating=rating, final_text=final_text, comment=comment, user=user,
                                   resolved=resolved)

    def close(self) -> None:
        """Stop the private event loop and, for a guard this client built, write the records still queued."""
        self._finalizer()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close(completions: _Completions, guard: Guard | None) -> None:
    completions.close()
    if guard is not None:
        guard.close()


def _config(config: ConfigArg, overrides: dict[str, Any]) -> GuardConfig:
    if isinstance(config, GuardConfig):
        return configured(config, overrides)
    return load_config(config, **overrides)
