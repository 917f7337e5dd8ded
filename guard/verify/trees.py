"""Gradient-boosted trees evaluated with numpy from their JSON form (no scikit-learn at run time)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from guard.verify.calibration import sigmoid


@dataclass(frozen=True)
class Tree:
    """One fitted tree as exported (``guard.training.fit``); evaluated with the others by ``_Forest``."""

    feature: np.ndarray  # per node; ignored at leaves
    threshold: np.ndarray  # go left when x <= threshold
    left: np.ndarray
    right: np.ndarray
    is_leaf: np.ndarray
    value: np.ndarray  # leaf outputs in log-odds, learning rate applied


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
        if not self.trees:
            return self.baseline + np.zeros(len(X))
        return self.baseline + np.add.accumulate(self._packed.leaf_values(X), axis=1)[:, -1]  # tree by tree, in order

    @cached_property
    def _packed(self) -> _Forest:
        return _Forest.pack(self.trees)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(self.log_odds(X))


@dataclass(frozen=True)
class _Forest:
    """All trees as (trees x nodes) arrays, so every row walks every tree in a few numpy steps, not one tree at a time."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    is_leaf: np.ndarray  # padding nodes are leaves no walk reaches
    value: np.ndarray

    @classmethod
    def pack(cls, trees: tuple[Tree, ...]) -> "_Forest":
        size = max(len(t.is_leaf) for t in trees)

        def stack(name: str, fill: object, dtype: type) -> np.ndarray:
            out = np.full((len(trees), size), fill, dtype=dtype)
            for i, t in enumerate(trees):
                out[i, :len(t.is_leaf)] = getattr(t, name)
            return out

        is_leaf = stack("is_leaf", True, bool)
        feature = np.where(is_leaf, 0, stack("feature", 0, np.int64))  # a leaf's feature is never read: keep it in range
        return cls(feature=feature, threshold=stack("threshold", 0.0, np.float64), left=stack("left", 0, np.int64),
                   right=stack("right", 0, np.int64), is_leaf=is_leaf, value=stack("value", 0.0, np.float64))

    def leaf_values(self, X: np.ndarray) -> np.ndarray:
        """(rows x trees): the output of the leaf each row reaches in each tree."""
        trees = np.arange(self.feature.shape[0])
        rows = np.arange(len(X))[:, None]
        node = np.zeros((len(X), len(trees)), dtype=np.int64)
        while True:
            inner = ~self.is_leaf[trees, node]
            if not inner.any():
                return self.value[trees, node]
            go_left = X[rows, self.feature[trees, node]] <= self.threshold[trees, node]
            node = np.where(inner, np.where(go_left, self.left[trees, node], self.right[trees, node]), node)
