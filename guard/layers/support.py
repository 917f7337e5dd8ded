"""support layer (placeholder until its issue lands)."""

from __future__ import annotations

from guard.config import GuardConfig
from guard.layers.base import Skip
from guard.state import RequestState


class SupportLayer:
    name = "support"
    phase = "after_model"

    def __init__(self, config: GuardConfig):
        self.config = config

    async def run(self, state: RequestState) -> None:
        raise Skip("not built yet")
