"""Experiment definitions in the store: what every worker reads to know what runs.

The YAML seeds them (a definition already in the store is left as it is: the
store is what operators change while serving); ``start``, ``pause`` and ``end``
change the status in one statement each. A definition carries the text of the
prompts its variants name, so every worker applies the same prompt whatever
YAML it was started with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from guard.config import ExperimentConfig, GuardConfig
from guard.errors import GuardError
from guard.store import Store
from guard.store.schema import experiments
from guard.store.store import utcnow

Status = Literal["running", "paused", "ended"]


class ExperimentError(GuardError, ValueError):
    """An experiment cannot be found or cannot make the change asked (e.g. end with an unknown variant)."""


class Experiment(BaseModel):
    """An experiment as the store holds it."""

    definition: ExperimentConfig
    prompts: dict[str, str] = Field(default_factory=dict)  # the text of each prompt its variants name
    status: Status
    winner: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def name(self) -> str:
        return self.definition.name


def _row(definition: ExperimentConfig, config: GuardConfig, status: Status) -> dict:
    now = utcnow()
    prompts = {v.system_prompt: config.prompts[v.system_prompt] for v in definition.variants if v.system_prompt}
    return {"name": definition.name, "definition": {"experiment": definition.model_dump(mode="json"),
                                                    "prompts": prompts},
            "status": status, "created_at": now, "updated_at": now, "started_at": now if status == "running" else None}


def seed(store: Store, config: GuardConfig) -> list[str]:
    """Insert the config's experiments the store does not have yet, running; returns the names inserted."""
    known = {e.name for e in list_experiments(store)}
    added = []
    for definition in config.experiments:
        if definition.name in known:
            continue
        try:
            with store.transaction(write=True) as conn:
                conn.execute(insert(experiments).values(**_row(definition, config, "running")))
        except IntegrityError:
            continue  # another worker seeded it first
        added.append(definition.name)
    return added


def list_experiments(store: Store) -> list[Experiment]:
    with store.transaction() as conn:
        rows = conn.execute(select(experiments).order_by(experiments.c.created_at, experiments.c.name)).mappings()
        return [_experiment(row) for row in rows]


def get_experiment(store: Store, name: str) -> Experiment:
    with store.transaction() as conn:
        row = conn.execute(select(experiments).where(experiments.c.name == name)).mappings().first()
    if row is None:
        raise ExperimentError(f"no experiment {name!r} in the store or the config")
    return _experiment(row)


def start(store: Store, name: str) -> Experiment:
    """Run ``name`` again after a pause. An ended experiment stays ended: start a new one under another name."""
    current = get_experiment(store, name)
    if current.status == "ended":
        raise ExperimentError(f"experiment {name!r} has ended (shipped {current.winner!r}); start a new one under "
                              "another name")
    now = utcnow()
    _set(store, name, status="running", updated_at=now, started_at=current.started_at or now)
    return get_experiment(store, name)


def pause(store: Store, name: str) -> Experiment:
    """Stop assigning: everyone gets the served config (control) until it is started again."""
    current = get_experiment(store, name)
    if current.status == "ended":
        raise ExperimentError(f"experiment {name!r} has already ended")
    _set(store, name, status="paused", updated_at=utcnow())
    return get_experiment(store, name)


def end(store: Store, name: str, winner: str) -> Experiment:
    """End ``name``: from now on every request gets ``winner``'s settings (control: the served config)."""
    current = get_experiment(store, name)
    variants = [v.name for v in current.definition.variants]
    if winner not in variants:
        raise ExperimentError(f"experiment {name!r} has no variant {winner!r} (variants: {', '.join(variants)})")
    if current.status == "ended":
        raise ExperimentError(f"experiment {name!r} has already ended (shipped {current.winner!r})")
    now = utcnow()
    _set(store, name, status="ended", winner=winner, updated_at=now, ended_at=now)
    return get_experiment(store, name)


def _set(store: Store, name: str, **values: object) -> None:
    with store.transaction(write=True) as conn:
        conn.execute(update(experiments).where(experiments.c.name == name).values(**values))


def _experiment(row: object) -> Experiment:
    data = dict(row)  # type: ignore[call-overload]
    stored = data.pop("definition")
    return Experiment(definition=ExperimentConfig.model_validate(stored["experiment"]),
                      prompts=stored.get("prompts") or {}, **{k: v for k, v in data.items() if k != "name"})
