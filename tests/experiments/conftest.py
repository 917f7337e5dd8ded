"""Experiments on hand-made records: a config with one experiment, and traffic written straight into a store."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import yaml

from guard.config import GuardConfig
from guard.store import open_store
from guard.store.models import RequestRecord

NOW = datetime.now(timezone.utc)
EXPERIMENT: dict[str, Any] = {
    "name": "concise-prompt",
    "variants": [{"name": "control", "weight": 1},
                 {"name": "concise", "weight": 1, "system_prompt": "concise-v2", "models": {"default": "gpt-4o-mini"}}],
    "primary_metric": "edit_rate",
    "guardrails": {"hallucination_rate": "+0.02", "latency_p95_ms": "+20%"},
}
PROMPTS = {"concise-v2": "Answer in at most two sentences, citing sources as [n]."}


def config_data(tmp_path, **experiment: Any) -> dict[str, Any]:
    return {"telemetry": {"database": str(tmp_path / "guard.db")}, "experiments": [{**EXPERIMENT, **experiment}],
            "prompts": PROMPTS}


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "guard.yaml"
    path.write_text(yaml.safe_dump(config_data(tmp_path)))
    return path


@pytest.fixture
def config(tmp_path) -> GuardConfig:
    return GuardConfig(**config_data(tmp_path))


@pytest.fixture
def store(config):
    opened = open_store(config.telemetry.database)
    yield opened
    opened.close()


def write_traffic(store, *, edit_rates: dict[str, float], per_variant: int = 150, users: int = 20,
                  latency: dict[str, float] | None = None, unsupported: dict[str, float] | None = None,
                  seed: int = 0, at: datetime | None = None, prefix: str = "gr") -> None:
    """``per_variant`` answered requests per variant over ``users`` users, each answer edited with the variant's rate."""
    rng = random.Random(seed)
    rows: list[RequestRecord] = []
    edited: dict[str, bool] = {}
    for variant, rate in edit_rates.items():
        for i in range(per_variant):
            request_id = f"{prefix}_{variant}_{i}"
            bad = rng.random() < (unsupported or {}).get(variant, 0.0)
            rows.append(RequestRecord(
                request_id=request_id, created_at=(at or NOW - timedelta(minutes=30)) + timedelta(seconds=i),
                product="app", model_requested="m", model_served="m", tier="high", confidence=0.9,
                layers={"support": {"status": "ok", "ms": 1.0}}, unsupported=[{"text": "x", "score": 0.1}] if bad else [],
                latency_total_ms=(latency or {}).get(variant, 800.0) * (0.8 + 0.4 * rng.random()),
                cost_usd=0.001, answer="Refunds take 14 days.", experiment="concise-prompt", variant=variant,
                user=f"{variant}-user{i % users}"))
            edited[request_id] = rng.random() < rate
    store.write_requests(rows)
    for request_id, was_edited in edited.items():
        store.record_feedback(request_id, final_text="Let me check with the team first." if was_edited
                              else "Refunds take 14 days.")
