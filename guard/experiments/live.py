"""What each worker serves: the store's experiment definitions, re-read every few seconds, never on the request's path.

A request asks ``choose`` for its arm and gets the answer from memory; when the
copy is older than ``server.experiments_refresh_s`` a refresh starts in a
thread and the request goes on with the copy it has. So starting, pausing or
ending an experiment reaches every worker within seconds, without a restart, and
a slow or unreachable store never delays an answer (it keeps the last copy).

One experiment serves a request: the oldest running one; with none running, the
latest ended one's winner (until it is written into the config). A paused
experiment assigns nobody: everyone gets the served config.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from guard.config import ExperimentVariant
from guard.experiments.assign import pick_variant
from guard.experiments.definitions import Experiment, list_experiments, seed
from guard.metadata import ExperimentArm
from guard.store import Store


@dataclass(frozen=True)
class Choice:
    """The variant a request gets: what to record, what to change, and the system prompt's text."""

    arm: ExperimentArm
    variant: ExperimentVariant
    system_prompt: str | None


class LiveExperiments:
    def __init__(self, store: Store, *, refresh_s: float, seed_from: Any = None, log: Any = None):
        self.store, self.refresh_s, self.log = store, refresh_s, log
        self._seed_from = seed_from  # the GuardConfig whose experiments are added on the first load
        self._experiments: list[Experiment] = []
        self._loaded_at: float | None = None
        self._refreshing: asyncio.Task[None] | None = None

    async def choose(self, user: str | None, request_key: str) -> Choice | None:
        """The arm of the request: by ``user`` when the experiment assigns by user and there is one."""
        stale = self._loaded_at is None or time.monotonic() - self._loaded_at >= self.refresh_s
        if stale and self._refreshing is None:
            self._refreshing = asyncio.ensure_future(self._refresh())
            self._refreshing.add_done_callback(lambda _: setattr(self, "_refreshing", None))
        if self._loaded_at is None and self._refreshing is not None:
            await asyncio.shield(self._refreshing)  # a worker's first requests wait for the definitions, once
        return choose(self._experiments, user, request_key)

    def load(self) -> list[Experiment]:
        """Read the definitions now (blocking), seeding the config's experiments the first time."""
        if self._seed_from is not None:
            seed(self.store, self._seed_from)
            self._seed_from = None
        self._experiments = list_experiments(self.store)
        self._loaded_at = time.monotonic()
        return self._experiments

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self.load)
        except Exception as exc:  # noqa: BLE001 - the last copy keeps serving; the store's failure is logged
            self._loaded_at = time.monotonic()
            if self.log is not None:
                self.log.warning("experiments_not_refreshed", error=f"{type(exc).__name__}: {exc}")


def choose(experiments: list[Experiment], user: str | None, request_key: str) -> Choice | None:
    """The arm a request gets from these definitions (pure: the same inputs give the same arm anywhere).

    The oldest running experiment assigns; with none running, the latest ended one serves its winner.
    """
    running = [e for e in experiments if e.status == "running"]
    if running:
        definition = running[0].definition
        unit = user if definition.assign_by == "user" and user else request_key
        return _choice(running[0], pick_variant(definition, unit))
    ended = [e for e in experiments if e.status == "ended" and e.winner is not None and e.ended_at is not None]
    if ended:
        last = max(ended, key=lambda e: e.ended_at)  # type: ignore[arg-type, return-value]
        return _choice(last, next(v for v in last.definition.variants if v.name == last.winner))
    return None


def _choice(experiment: Experiment, variant: ExperimentVariant) -> Choice:
    prompt = experiment.prompts.get(variant.system_prompt) if variant.system_prompt else None
    return Choice(ExperimentArm(name=experiment.name, variant=variant.name), variant, prompt)
