"""Fixtures for the eval suites: tiny datasets, suite files, and a scripted verifier.

``ScriptedSupport`` is a stand-in for the support layer: it scores a response
by looking it up in a table the test writes, so runner, report and CLI tests
know every item's confidence in advance and stay fast. Tests of the real
verifier path use ``real_guard``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from guard import Guard, GuardConfig
from guard.layers.base import Skip
from guard.metadata import UnsupportedClaim
from guard.state import RequestState


class ScriptedSupport:
    """Support signal from a lookup table (response text -> score); unknown texts are skipped. As the real layer
    does, an answer scored below 0.5 is listed as an unsupported claim."""

    name = "support"
    phase = "after_model"

    def __init__(self, scores: dict[str, float]):
        self.scores = scores
        self.calls = 0

    async def run(self, state: RequestState) -> None:
        self.calls += 1
        if state.answer not in self.scores:
            raise Skip("no scripted score")
        state.signals["support"] = score = self.scores[state.answer]
        if score < 0.5:
            state.unsupported = [UnsupportedClaim(text=state.answer, score=score)]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_suite(folder: Path, rows: list[dict[str, Any]], **fields: Any) -> Path:
    """A suite YAML in ``folder/suites`` whose dataset sits in ``folder/data``, referenced relatively."""
    write_jsonl(folder / "data" / "rows.jsonl", rows)
    suite = {"name": "tiny", "kind": "detection", "dataset": "../data/rows.jsonl", "bootstrap_resamples": 200, **fields}
    path = folder / "suites" / "tiny.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    return path


# Six labelled responses; the scripted verifier is right on all but "d" and "e".
DETECTION_ROWS = [
    {"id": "a", "sources": ["The sky is blue."], "response": "The sky is blue.", "label": "faithful"},
    {"id": "b", "sources": ["The sky is blue."], "response": "The sky is green.", "label": "hallucinated"},
    {"id": "c", "sources": ["Water boils at 100 C."], "response": "Water boils at 100 C.", "label": "faithful"},
    {"id": "d", "sources": ["Water boils at 100 C."], "response": "Water boils at 50 C.", "label": "hallucinated"},
    {"id": "e", "sources": ["Cats have four legs."], "response": "Cats have four legs.", "label": "faithful"},
    {"id": "f", "sources": ["Cats have four legs."], "response": "Cats have six legs.", "label": "hallucinated"},
]
SCRIPTED_SCORES = {
    "The sky is blue.": 0.9, "The sky is green.": 0.2, "Water boils at 100 C.": 0.8,
    "Water boils at 50 C.": 0.7, "Cats have four legs.": 0.3, "Cats have six legs.": 0.1,
}


def support_as_confidence(signals: dict[str, float]) -> float | None:
    """Confidence equal to the scripted support score, so tests know each item's confidence exactly."""
    return signals.get("support")


@pytest.fixture
def scripted_guard() -> Guard:
    return Guard(GuardConfig(telemetry={"enabled": False}), layers=[ScriptedSupport(SCRIPTED_SCORES)],
                 confidence=support_as_confidence)


@pytest.fixture(scope="session")
def real_guard() -> Guard:
    """Guard with its real default layers; the embedder loads once per test session."""
    return Guard(GuardConfig(telemetry={"enabled": False}))

