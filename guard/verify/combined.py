"""The trees and the fine-tuned cross-encoder read together (``support.verifier: combined``).

They fail in different places: the trees (MiniLM alignment, lexical and mismatch features) hold
on claims checked against cited pages, the cross-encoder on summaries and dialogue, where a
claim's meaning depends on word order the features do not see. Their log-odds are blended by a
logistic regression fitted on the held-out ``select`` split (``python -m guard.training.fit_blend``):

    log-odds = intercept + w_offline * logit(trees) + w_model * logit(cross-encoder)

``params/combined.json`` holds the weights and the threshold per risk level chosen on the
blended scores, like the other verifiers; ``params/combined-fp32.json`` the same fitted on fp32 scores
(``support.precision: fp32``): fp32 scores sit a little higher than int8's, and at int8's operating points
it flagged 31–32 % of right answers on three files.

A cascade saves most of the cross-encoder's CPU: where the trees are sure (their score outside the
``cascade.band`` chosen on the ``select`` split), the cross-encoder is not run and its score is read
from the trees' by the linear map fitted there (``cascade.model_from_trees``); only the uncertain
band pays for the second model. Without a ``cascade`` entry every pair is read by both.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from guard.threads import run_model
from guard.verify.base import SupportScores, SupportVerifier
from guard.verify.calibration import fit_logistic, logit, sigmoid
from guard.verify.contradictions import Finding, penalized
from guard.verify.offline import OfflineVerifier, params_path
from guard.verify.support_model import SupportModelVerifier
from guard.verify.thresholds import read_thresholds

PARAMS_FILES = {"int8": "combined.json", "fp32": "combined-fp32.json"}  # per support.precision, each fitted on its scores


def blend(offline: np.ndarray, model: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    """The blended support probability of the two verifiers' scores."""
    return sigmoid(weights["intercept"] + weights["offline"] * logit(offline) + weights["support_model"] * logit(model))


def fit_weights(offline: np.ndarray, model: np.ndarray, faithful: np.ndarray,
                weights: np.ndarray | None = None) -> dict[str, float]:
    """The blend's three numbers by logistic regression on the two verifiers' log-odds (needs scikit-learn)."""
    intercept, (w_offline, w_model) = fit_logistic(np.column_stack([logit(offline), logit(model)]), faithful, weights)
    if min(w_offline, w_model) < 0:
        raise ValueError(f"a negative weight ({w_offline:.3f}, {w_model:.3f}) would make support fall as a verifier's "
                         "score rises; the two do not blend on this data")
    return {"intercept": intercept, "offline": w_offline, "support_model": w_model}


class CombinedVerifier(SupportVerifier):
    """Both verifiers score every pair; their blend is the support probability."""

    name = "combined"
    uses_question = True

    def __init__(self, params_file: str | Path | None = None, offline: OfflineVerifier | None = None,
                 model: SupportModelVerifier | None = None, int8: bool = False):
        path = Path(params_file) if params_file else params_path(PARAMS_FILES["int8" if int8 else "fp32"])
        try:
            params = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"combined verifier parameters not found at {path}; "
                                    "run python -m guard.training.fit_blend") from None
        self.weights = {k: float(v) for k, v in params["weights"].items()}
        self.thresholds = read_thresholds(params)
        self.penalties: dict[str, float] | None = (params.get("specifics") or {}).get("penalties")
        self.length_exponent = float(params.get("length_exponent", 0.0))
        cascade = params.get("cascade")
        self.band = tuple(cascade["band"]) if cascade else None
        self.model_from_trees = cascade["model_from_trees"] if cascade else None
        self.offline = offline or OfflineVerifier(int8=int8)
        self.model = model or SupportModelVerifier(int8=int8)

    def predict(self, pairs: list[tuple[str, list[str]]], questions: Sequence[str | None]) -> list[float]:
        """Scores of pairs that each come with their own question (labelled rows in benchmarks)."""
        return blend(*self.components(pairs, questions), self.weights).tolist()

    def components(self, pairs: list[tuple[str, list[str]]],
                   questions: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """The trees' and the cross-encoder's scores the blend reads (the latter from the trees' outside the band)."""
        trees = np.asarray(self.offline.probabilities(pairs), dtype=float)
        read = self.uncertain(trees)
        model = np.empty(len(pairs))
        if read.any():
            chosen = np.flatnonzero(read)
            model[chosen] = self.model.predict([pairs[i] for i in chosen], [questions[i] for i in chosen])
        if not read.all():
            fit = self.model_from_trees
            model[~read] = sigmoid(fit["intercept"] + fit["slope"] * logit(trees[~read]))
        return trees, model

    def reweighted(self, weights: dict[str, float]) -> "CombinedVerifier":
        """This verifier with other blend weights (a product's, from ``guard calibrate``); models and caches shared."""
        other = copy.copy(self)
        other.weights = {k: float(weights[k]) for k in ("intercept", "offline", "support_model")}
        return other

    def with_findings(self, probability: float, findings: Sequence[Finding]) -> float:
        """Findings lower the score by the weights fitted per kind on the ``select`` split, where there are some."""
        if self.penalties is None:
            return super().with_findings(probability, findings)
        return penalized(probability, findings, self.penalties)

    def uncertain(self, trees: np.ndarray) -> np.ndarray:
        """Which pairs the cross-encoder reads: all without a cascade, else those whose trees' score is in the band."""
        if self.band is None:
            return np.ones(len(trees), dtype=bool)
        low, high = self.band
        return (trees >= low) & (trees <= high)

    def probabilities(self, pairs: list[tuple[str, list[str]]], question: str | None = None) -> list[float]:
        return self.predict(pairs, [question] * len(pairs))

    async def _score(self, pairs: list[tuple[str, list[str]]], question: str | None = None) -> SupportScores:
        return SupportScores(await run_model(self.probabilities, pairs, question))
