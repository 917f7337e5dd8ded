"""Objects bound to one event loop (the upstream connection pools), closed when that loop shuts down.

A connection pool belongs to the loop it was opened on, and a process may run
several loops in its life (each uvicorn worker, each pytest-asyncio test,
``guard.Client``'s private loop), so there is one pool per loop. asyncio has
one hook at a loop's end: ``loop.shutdown_asyncgens()``, which
``asyncio.run``/``asyncio.Runner`` (hence uvicorn and pytest-asyncio) and
``Client.close`` call before closing a loop. An async generator parked on each
loop waits in that hook: finalised, it closes the loop's objects and forgets
them, so an ended loop neither leaks connections nor is kept alive by them. (A
loop closed without that call keeps its objects until the process exits.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Protocol, TypeVar


class Closeable(Protocol):
    async def aclose(self) -> None: ...


C = TypeVar("C", bound=Closeable)

_objects: dict[asyncio.AbstractEventLoop, dict[Hashable, Closeable]] = {}
_closers: dict[asyncio.AbstractEventLoop, AsyncIterator[None]] = {}  # kept alive until the loop finalises them


def loop_local(key: Hashable, make: Callable[[], C]) -> C:
    """The running loop's object for ``key``, made by ``make()`` on first use and closed with the loop."""
    loop = asyncio.get_running_loop()
    objects = _objects.get(loop)
    if objects is None:
        objects = _objects[loop] = {}
        _park_closer(loop, objects)
    found = objects.get(key)
    if found is None:
        found = objects[key] = make()
    return found  # type: ignore[return-value]


def _park_closer(loop: asyncio.AbstractEventLoop, objects: dict[Hashable, Closeable]) -> None:
    closer = _close_at_shutdown(loop, objects)
    _closers[loop] = closer
    try:
        closer.__anext__().send(None)  # type: ignore[attr-defined]  # first step: the loop now tracks it
    except StopIteration:
        pass  # parked at its ``yield``


async def _close_at_shutdown(loop: asyncio.AbstractEventLoop,
                             objects: dict[Hashable, Closeable]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        _objects.pop(loop, None)
        _closers.pop(loop, None)
        for item in list(objects.values()):
            await item.aclose()
