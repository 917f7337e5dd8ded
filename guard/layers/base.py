"""The one interface every layer implements, and how a layer says it did not run."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from guard.state import RequestState

Phase = Literal["before_model", "after_model"]


class Skip(Exception):
    """Raised by a layer that has nothing to do; the reason reaches the response."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@runtime_checkable
class Layer(Protocol):
    """A stage of the pipeline.

    ``run`` reads the request state and adds its signal; it raises ``Skip`` when
    it has nothing to do. The pipeline times it and turns any other exception
    into an ``error`` status, so one broken layer never loses the answer.

    A layer that loads models or indexes on first use may also define
    ``warm_up(self) -> None``, which loads them now (``Guard.warm_up``). It is
    optional, so not part of this protocol; it must never call a model
    provider, and raises ``Skip`` when the layer is off or has nothing to load.
    """

    name: str
    phase: Phase

    async def run(self, state: RequestState) -> None: ...
