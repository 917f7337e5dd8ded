"""Turning scores into honest probabilities, and measuring how honest they are.

Runtime needs only numpy: maps are stored as a few numbers (Platt) or two short
arrays (isotonic) in JSON. Fitting (``fit_platt``) needs scikit-learn: ``guard calibrate`` and training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Scores are read as at most 98% sure either way: no single signal may claim more certainty than that.
_EPS = 0.02


def logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


@dataclass(frozen=True)
class Platt:
    """log-odds = intercept + slope * logit(score); slope >= 0 keeps the map non-decreasing."""

    intercept: float
    slope: float

    def log_odds(self, score: np.ndarray | float) -> np.ndarray:
        return self.intercept + self.slope * logit(score)


@dataclass(frozen=True)
class Isotonic:
    """A non-decreasing step map, linearly interpolated between fitted points."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, score: np.ndarray | float) -> np.ndarray:
        return np.interp(np.asarray(score, dtype=np.float64), self.x, self.y)


def expected_calibration_error(probabilities: Sequence[float], labels: Sequence[bool], bins: int = 10) -> float:
    """Mean |confidence - accuracy| over equal-width bins, weighted by how many predictions fall in each."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if len(p) == 0:
        raise ValueError("no predictions to measure")
    which = np.minimum((p * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(error)


def fit_platt(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> dict:
    """Confidence = sigmoid(a + b * logit(score)), b >= 0."""
    intercept, (slope,) = fit_logistic(logit(scores).reshape(-1, 1), labels, weights)
    return {"intercept": intercept, "slope": max(0.0, slope)}


def fit_logistic(features: np.ndarray, labels: np.ndarray,
                 weights: np.ndarray | None = None) -> tuple[float, list[float]]:
    """Intercept and coefficients of a barely regularised logistic regression, as guard fits its maps and blends."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e4).fit(features, labels, sample_weight=weights)
    return float(model.intercept_[0]), [float(c) for c in model.coef_[0]]
