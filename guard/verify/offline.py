"""The default verifier: MiniLM alignment, lexical and mismatch features, combined by fitted boosted trees.

Needs no download beyond the packaged MiniLM. The trees' parameters live in
``params/offline.json`` and are reproduced from the labelled data by
``python -m guard.training.fit``.
"""

from __future__ import annotations

import json
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from guard.threads import run_model
from guard.verify.base import SupportScores, SupportVerifier
from guard.verify.encoder import TextEncoder
from guard.verify.features import FEATURE_NAMES, extract
from guard.verify.thresholds import read_thresholds
from guard.verify.trees import BoostedTrees

PARAMS_FILE = "offline.json"


def params_path(name: str) -> Path:
    return Path(str(resources.files("guard.verify") / "params" / name))


class OfflineVerifier(SupportVerifier):
    name = "offline"

    def __init__(self, params_file: str | Path | None = None, int8: bool = False):
        path = Path(params_file) if params_file else params_path(PARAMS_FILE)
        try:
            params = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"offline verifier parameters not found at {path}; run python -m guard.training.fit") from None
        self.model = BoostedTrees.from_dict(params["model"])
        if self.model.features != FEATURE_NAMES:
            raise ValueError(f"{path} was fitted on features {self.model.features}, this code computes {FEATURE_NAMES}; refit it")
        self.embedding_model: str = params["embedding_model"]
        # Chosen per risk level on held-out data by ``python -m guard.training.offline_thresholds``.
        self.thresholds = read_thresholds(params)
        self.int8 = int8

    @cached_property
    def encoder(self) -> TextEncoder:
        return TextEncoder(self.embedding_model, int8=self.int8)

    def probabilities(self, pairs: list[tuple[str, list[str]]]) -> np.ndarray:
        """Synchronous scoring, for batch jobs that are not in an event loop."""
        return self.model.predict_proba(extract(self.encoder, pairs))

    async def _score(self, pairs: list[tuple[str, list[str]]]) -> SupportScores:
        probabilities = await run_model(self.probabilities, pairs)
        return SupportScores([float(p) for p in probabilities])
