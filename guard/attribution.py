"""Which API key a request came in with, by name: the proxy says so around a request, its record and review keep it.

A context variable rather than a parameter: the pipeline's calls keep the
OpenAI SDK's signature, and nothing between the proxy's route and the new
request's state has to pass it on. The name is the key's configured name, never
the key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_key_name: ContextVar[str | None] = ContextVar("guard_key_name", default=None)


def current_key_name() -> str | None:
    """The key name requests started now are recorded under (None outside the proxy)."""
    return _key_name.get()


@contextmanager
def attributed_to(key_name: str | None) -> Iterator[None]:
    """Record the requests started inside this block under ``key_name``."""
    token = _key_name.set(key_name)
    try:
        yield
    finally:
        _key_name.reset(token)
