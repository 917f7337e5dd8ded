"""Which variant serves a request: a stable hash of the experiment and the user, so the same user always gets
the same variant, on every worker and after every restart, with no state to share."""

from __future__ import annotations

import hashlib
from typing import Any

from guard.config import ExperimentConfig, ExperimentVariant


def bucket(experiment: str, unit: str) -> float:
    """A number in [0, 1) fixed by (experiment, unit); independent across experiments for the same unit."""
    digest = hashlib.sha256(f"{experiment}\x00{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick_variant(experiment: ExperimentConfig, unit: str) -> ExperimentVariant:
    """The variant ``unit`` (a user, or a request id) falls into, by the variants' weights."""
    point = bucket(experiment.name, unit) * sum(v.weight for v in experiment.variants)
    for variant in experiment.variants:
        point -= variant.weight
        if point < 0:
            return variant
    return experiment.variants[-1]  # float rounding at the very top


def with_system_prompt(messages: list[dict[str, Any]], prompt: str) -> list[dict[str, Any]]:
    """The request's messages with ``prompt`` as the system message: it replaces the app's, or leads when none."""
    rest = messages[1:] if messages and messages[0].get("role") in ("system", "developer") else messages
    return [{"role": "system", "content": prompt}, *rest]
