"""Metric functions: pure, numpy in and numbers out.

Conventions: the positive class is *hallucinated* (``labels`` is a boolean
array, True = hallucinated); ``scores`` are P(hallucinated), higher meaning
more likely hallucinated; ``predictions`` are the detector's boolean calls at
its decision threshold. A metric that the data cannot define (one class only,
nothing predicted, no items) returns ``Undefined`` with the reason instead of
raising or returning a silent NaN, so a report can say why a number is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

ArrayLike = Sequence[float] | Sequence[bool] | np.ndarray


@dataclass(frozen=True)
class Undefined:
    """A metric the data cannot define, and why."""

    reason: str


Value = float | Undefined


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of a reliability diagram: predicted probability against observed frequency."""

    lower: float
    upper: float
    count: int
    mean_score: float | None  # None for an empty bin
    observed_rate: float | None


def _bools(values: ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=bool)


def _floats(values: ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=float)


def _ratio(numerator: int, denominator: int, reason: str) -> Value:
    return numerator / denominator if denominator else Undefined(reason)


# -- classification at a threshold -----------------------------------------


def accuracy(labels: ArrayLike, predictions: ArrayLike) -> Value:
    y, p = _bools(labels), _bools(predictions)
    return _ratio(int((y == p).sum()), y.size, "no items")


def precision(labels: ArrayLike, predictions: ArrayLike) -> Value:
    """Of the items called hallucinated, the share that are."""
    y, p = _bools(labels), _bools(predictions)
    return _ratio(int((y & p).sum()), int(p.sum()), "no item was predicted hallucinated")


def recall(labels: ArrayLike, predictions: ArrayLike) -> Value:
    """Of the hallucinated items, the share caught."""
    y, p = _bools(labels), _bools(predictions)
    return _ratio(int((y & p).sum()), int(y.sum()), "no hallucinated item in the set")


def f1(labels: ArrayLike, predictions: ArrayLike) -> Value:
    y, p = _bools(labels), _bools(predictions)
    tp = int((y & p).sum())
    return _ratio(2 * tp, int(y.sum()) + int(p.sum()), "no hallucinated item, none predicted")


def balanced_accuracy(labels: ArrayLike, predictions: ArrayLike) -> Value:
    """Mean of the true-positive and true-negative rates: immune to class imbalance."""
    y, p = _bools(labels), _bools(predictions)
    reason = _one_class_reason(y)
    if reason:
        return Undefined(reason)
    tpr = (y & p).sum() / y.sum()
    tnr = (~y & ~p).sum() / (~y).sum()
    return float((tpr + tnr) / 2)


def _one_class_reason(labels: np.ndarray) -> str | None:
    positives = int(labels.sum())
    negatives = int(labels.size - positives)
    if positives and negatives:
        return None
    return f"needs both classes; got {positives} hallucinated and {negatives} faithful"


# -- ranking ----------------------------------------------------------------


def midranks(values: ArrayLike) -> np.ndarray:
    """1-based ranks where tied values share the mean of the ranks they span."""
    x = _floats(values)
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], x.size]
    group_rank = (starts + ends + 1) / 2.0  # mean of ranks start+1 .. end
    ranks = np.empty(x.size, dtype=float)
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


def auroc(labels: ArrayLike, scores: ArrayLike) -> Value:
    """Probability a random hallucinated item outscores a random faithful one, ties counting half.

    Computed as the Mann-Whitney U statistic over midranks, so tied scores are
    handled exactly rather than by the order they happen to be sorted in.
    """
    y, s = _bools(labels), _floats(scores)
    reason = _one_class_reason(y)
    if reason:
        return Undefined(reason)
    positives = int(y.sum())
    negatives = y.size - positives
    rank_sum = midranks(s)[y].sum()
    u = rank_sum - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def roc_curve(labels: ArrayLike, scores: ArrayLike) -> list[tuple[float, float]] | Undefined:
    """(false-positive rate, true-positive rate) at every distinct score, from (0, 0) to (1, 1).

    Tied scores move the curve in one diagonal step, which is what makes the
    area under these points equal ``auroc``.
    """
    y, s = _bools(labels), _floats(scores)
    reason = _one_class_reason(y)
    if reason:
        return Undefined(reason)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_group = np.r_[s[1:] != s[:-1], True]
    tp = np.cumsum(y)[last_of_group]
    fp = np.cumsum(~y)[last_of_group]
    tpr = np.r_[0.0, tp / y.sum()]
    fpr = np.r_[0.0, fp / (~y).sum()]
    return [(float(a), float(b)) for a, b in zip(fpr, tpr)]


# -- calibration ------------------------------------------------------------


def _binned(labels: ArrayLike, scores: ArrayLike, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width bin over [0, 1] (the last includes 1.0): item count, score sum, hallucinated count."""
    y, s = _bools(labels), _floats(scores)
    index = np.clip(np.floor(s * bins).astype(int), 0, bins - 1)
    return (np.bincount(index, minlength=bins), np.bincount(index, weights=s, minlength=bins),
            np.bincount(index, weights=y.astype(float), minlength=bins))


def reliability_table(labels: ArrayLike, scores: ArrayLike, bins: int = 10) -> list[ReliabilityBin]:
    counts, score_sums, positives = _binned(labels, scores, bins)
    return [
        ReliabilityBin(lower=b / bins, upper=(b + 1) / bins, count=int(n),
                       mean_score=float(score_sums[b] / n) if n else None,
                       observed_rate=float(positives[b] / n) if n else None)
        for b, n in enumerate(counts)
    ]


def ece(labels: ArrayLike, scores: ArrayLike, bins: int = 10) -> Value:
    """Expected calibration error: the count-weighted gap between predicted and observed rates."""
    counts, score_sums, positives = _binned(labels, scores, bins)
    total = counts.sum()
    if total == 0:
        return Undefined("no items")
    # Per bin, count * |mean score - observed rate| = |score sum - positives|.
    return float(np.abs(score_sums - positives).sum() / total)


# -- summaries of a numeric column -----------------------------------------


def percentile(values: ArrayLike, q: float) -> Value:
    """The q-th percentile (0-100) with linear interpolation; NaNs are ignored."""
    x = _floats(values)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return Undefined("no values")
    return float(np.percentile(x, q))


def mean(values: ArrayLike, reason: str = "no values") -> Value:
    """Mean of the defined values (NaN marks an item the quantity does not apply to)."""
    x = _floats(values)
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else Undefined(reason)


def rate(flags: ArrayLike) -> Value:
    f = _bools(flags)
    return _ratio(int(f.sum()), f.size, "no items")


# -- uncertainty -----------------------------------------------------------


def bootstrap_intervals(
    statistics: Callable[[np.ndarray], Mapping[str, Value]],
    n_items: int,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Interval | Undefined]:
    """Percentile bootstrap intervals of named statistics over items resampled with replacement.

    ``statistics`` maps an index array to the values of every statistic on
    those items, so all statistics see the same resamples and paired ones (a
    difference between two runs on the same items) resample both sides
    together. Resamples where a statistic is undefined (one class drawn, say)
    are dropped for it; if more than half are, its interval is undefined. The
    fixed seed makes reports reproducible.
    """
    if n_items == 0:
        return {}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(resamples):
        for name, value in statistics(rng.integers(0, n_items, n_items)).items():
            values = draws.setdefault(name, [])
            if not isinstance(value, Undefined) and not np.isnan(value):
                values.append(value)
    tail = (1 - level) / 2 * 100
    intervals: dict[str, Interval | Undefined] = {}
    for name, values in draws.items():
        if len(values) * 2 < resamples:
            intervals[name] = Undefined(f"undefined in {resamples - len(values)} of {resamples} resamples")
        else:
            low, high = np.percentile(values, [tail, 100 - tail])
            intervals[name] = Interval(float(low), float(high))
    return intervals
