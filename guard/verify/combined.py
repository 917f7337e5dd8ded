"""The trees and the fine-tuned cross-encoder read together (``support.verifier: combined``).

They fail in different places: the trees (MiniLM alignment, lexical and mismatch features) hold
on claims checked against cited pages, the cross-encoder on summaries and dialogue, where a
claim's meaning depends on word order the features do not see. Their log-odds are blended by a
logistic regression fitted on the held-out ``select`` split (``python -m guard.verify.combine``):

    log-odds = intercept + w_offline * logit(trees) + w_model * logit(cross-encoder)

``params/combined.json`` holds the weights and the threshold per risk level chosen on the
blended scores, like the other verifiers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from guard.verify.base import SupportScores, SupportVerifier
from guard.verify.calibration import logit, sigmoid
from guard.verify.offline import OfflineVerifier, params_path
from guard.verify.support_model import SupportModelVerifier
from guard.verify.thresholds import read_thresholds

PARAMS_FILE = "combined.json"


def blend(offline: np.ndarray, model: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    """The blended support probability of the two verifiers' scores."""
    return sigmoid(weights["intercept"] + weights["offline"] * logit(offline) + weights["support_model"] * logit(model))


class CombinedVerifier(SupportVerifier):
    """Both verifiers score every pair; their blend is the support probability."""

    name = "combined"
    uses_question = True

    def __init__(self, params_file: str | Path | None = None, offline: OfflineVerifier | None = None,
                 model: SupportModelVerifier | None = None):
        path = Path(params_file) if params_file else params_path(PARAMS_FILE)
        try:
            params = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"combined verifier parameters not found at {path}; "
                                    "run python -m guard.verify.combine") from None
        self.weights = {k: float(v) for k, v in params["weights"].items()}
        self.thresholds = read_thresholds(params)
        self.offline = offline or OfflineVerifier()
        self.model = model or SupportModelVerifier()

    def predict(self, pairs: list[tuple[str, list[str]]], questions: Sequence[str | None]) -> list[float]:
        """Scores of pairs that each come with their own question (labelled rows in benchmarks)."""
        return blend(self.offline.probabilities(pairs), np.asarray(self.model.predict(pairs, questions)),
                     self.weights).tolist()

    def probabilities(self, pairs: list[tuple[str, list[str]]], question: str | None = None) -> list[float]:
        return self.predict(pairs, [question] * len(pairs))

    async def _score(self, pairs: list[tuple[str, list[str]]], question: str | None = None) -> SupportScores:
        return SupportScores(await asyncio.to_thread(self.probabilities, pairs, question))
