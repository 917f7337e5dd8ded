"""Gradient-boosted trees evaluated with numpy from their JSON form (no scikit-learn at run time)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from guard.verify.calibration import sigmoid


@dataclass(frozen=True)
class Tree:
    feature: np.ndarray  # per node; ignored at leaves
    threshold: np.ndarray  # go left when x <= threshold
    left: np.ndarray
    right: np.ndarray
    is_leaf: np.ndarray
    value: np.ndarray  # leaf outputs in log-odds, learning rate applied

    def predict(self, X: np.ndarray) -> np.ndarray:
        node = np.zeros(len(X), dtype=np.int64)
        while True:
            inner = ~self.is_leaf[node]
            if not inner.any():
                return self.value[node]
            rows = np.nonzero(inner)[0]
            at = node[rows]
            go_left = X[rows, self.feature[at]] <= self.threshold[at]
            node[rows] = np.where(go_left, self.left[at], self.right[at])


@dataclass(frozen=True)
class BoostedTrees:
    """A binary classifier: P(positive) = sigmoid(baseline + sum of tree outputs)."""

    features: tuple[str, ...]
    baseline: float
    trees: tuple[Tree, ...]

    @classmethod
    def from_dict(cls, data: dict) -> "BoostedTrees":
        trees = tuple(
            Tree(feature=np.asarray(t["feature"], dtype=np.int64), threshold=np.asarray(t["threshold"], dtype=np.float64),
                 left=np.asarray(t["left"], dtype=np.int64), right=np.asarray(t["right"], dtype=np.int64),
                 is_leaf=np.asarray(t["is_leaf"], dtype=bool), value=np.asarray(t["value"], dtype=np.float64))
            for t in data["trees"]
        )
        return cls(features=tuple(data["features"]), baseline=float(data["baseline"]), trees=trees)

    def log_odds(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.features):
            raise ValueError(f"expected rows of {len(self.features)} features, got shape {X.shape}")
        return self.baseline + sum((t.predict(X) for t in self.trees), np.zeros(len(X)))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(self.log_odds(X))
