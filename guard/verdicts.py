"""Collecting guard's verdicts where a framework hides the response (pydantic-ai, openai-agents, LangChain...).

Every framework that talks to an OpenAI-compatible server accepts an httpx client, directly or through the
openai SDK client it is given. ``VerdictLog`` makes that client, or hooks into one the app already has, and
keeps the ``guard`` object of each response from the proxy as it goes by, streamed or not::

    from guard.verdicts import VerdictLog
    verdicts = VerdictLog()
    client = openai.AsyncOpenAI(base_url="http://localhost:8000/v1", http_client=verdicts.async_http_client())
    ...  # hand `client` to the framework, run the agent
    verdicts.last.tier, [v.request_id for v in verdicts]

Nothing in the framework is patched: the log only reads the bytes the framework reads. A stream's verdict
is recorded once the stream has been read to its end (it is the last chunk). Responses without guard's
``x-guard-request-id`` header are ignored, and so are compressed ones (guard's proxy does not compress).
It needs only httpx, openai and pydantic: an app's own environment may install guard with ``--no-deps``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai

from guard.metadata import GuardMetadata


class VerdictLog:
    """The verdicts of the guarded responses seen by the clients it made or hooked into, oldest first."""

    def __init__(self) -> None:
        self._verdicts: list[GuardMetadata] = []
        self._lock = threading.Lock()

    # -- where the verdicts come from ----------------------------------------

    def http_client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client with the openai SDK's defaults (timeouts, limits) that logs verdicts: pass it as
        ``http_client=`` to ``openai.OpenAI`` or to a framework that takes one."""
        client = openai.DefaultHttpxClient(**kwargs)
        client.event_hooks["response"].append(self.hook)
        return client

    def async_http_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """``http_client`` for asyncio: for ``openai.AsyncOpenAI`` and the async frameworks."""
        client = openai.DefaultAsyncHttpxClient(**kwargs)
        client.event_hooks["response"].append(self.async_hook)
        return client

    def hook(self, response: httpx.Response) -> None:
        """An httpx ``response`` event hook, for a client the app builds itself."""
        if self._guarded(response):
            response.stream = _Tee(response.stream, self._read)  # type: ignore[assignment]

    async def async_hook(self, response: httpx.Response) -> None:
        """``hook`` for an ``httpx.AsyncClient``."""
        if self._guarded(response):
            response.stream = _AsyncTee(response.stream, self._read)  # type: ignore[assignment]

    # -- what was collected --------------------------------------------------

    @property
    def verdicts(self) -> list[GuardMetadata]:
        with self._lock:
            return list(self._verdicts)

    @property
    def last(self) -> GuardMetadata | None:
        with self._lock:
            return self._verdicts[-1] if self._verdicts else None

    def clear(self) -> None:
        with self._lock:
            self._verdicts.clear()

    def __iter__(self) -> Iterator[GuardMetadata]:
        return iter(self.verdicts)

    def __len__(self) -> int:
        with self._lock:
            return len(self._verdicts)

    # -- reading a body ------------------------------------------------------

    @staticmethod
    def _guarded(response: httpx.Response) -> bool:
        return "x-guard-request-id" in response.headers and \
            response.headers.get("content-encoding", "identity") == "identity"

    def _read(self, body: bytes) -> None:
        verdict = verdict_of(body)
        if verdict is not None:
            with self._lock:
                self._verdicts.append(verdict)


def verdict_of(body: bytes) -> GuardMetadata | None:
    """The ``guard`` object of a completion's JSON body or of a stream's verdict chunk; None when there is none."""
    if body.lstrip().startswith(b"{"):
        payloads = [body]
    else:  # server-sent events: the verdict is the last data event before [DONE]
        payloads = [line[5:].strip() for line in reversed(body.splitlines()) if line.startswith(b"data:")]
    for payload in payloads:
        if not payload.startswith(b"{"):
            continue
        try:
            found = json.loads(payload).get("guard")
        except (ValueError, AttributeError):
            continue
        if isinstance(found, dict):
            return GuardMetadata.model_validate(found)
    return None


class _Body:
    """The bytes read so far, handed to ``done`` once: at the end of the body, or when the reader closes it
    (the SDKs close a stream after ``[DONE]`` without reading on)."""

    def __init__(self, done: Any):
        self._done, self._bytes, self._handed = done, bytearray(), False

    def add(self, chunk: bytes) -> bytes:
        self._bytes += chunk
        return chunk

    def end(self) -> None:
        if not self._handed:
            self._handed = True
            self._done(bytes(self._bytes))


class _Tee(httpx.SyncByteStream):
    """The response's bytes, passed on unchanged."""

    def __init__(self, stream: Any, done: Any):
        self._stream, self._body = stream, _Body(done)

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            yield self._body.add(chunk)
        self._body.end()

    def close(self) -> None:
        self._body.end()
        self._stream.close()


class _AsyncTee(httpx.AsyncByteStream):
    def __init__(self, stream: Any, done: Any):
        self._stream, self._body = stream, _Body(done)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield self._body.add(chunk)
        self._body.end()

    async def aclose(self) -> None:
        self._body.end()
        await self._stream.aclose()
