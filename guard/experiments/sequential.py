"""Always-valid 95 % intervals (confidence sequences) for means, proportions, differences and a quantile.

Why sequential: people open the experiment report every day and stop when it
looks decided. A fixed-horizon interval read that way is wrong far more often
than 5 % of the time; a confidence sequence holds at every look at once, so the
report can be read daily and acted on the day it turns decisive.

The construction is the normal-mixture sequential probability ratio test
(mSPRT; Robbins 1970, Johari, Pekelis and Walsh, "Always valid inference",
2017): an estimate ``x`` with (estimated) variance ``V`` and a N(0, tau^2)
mixture over the effect give the interval

    x ± sqrt( V (V + tau^2) / tau^2 · (2 ln(1/alpha) + ln((V + tau^2) / V)) ).

``tau`` is the effect size the test is most sensitive to; any value keeps the
intervals valid, it only moves where they are tightest. Counts use a
Wilson-style continuity (x+1)/(n+2) for the variance, so 0 of n is never a
zero-width interval. The normal approximation wants a few dozen observations per
arm; below that the intervals are rough (and wide).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean, variance

import numpy as np

ALPHA = 0.05


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    n: int

    @property
    def ci95(self) -> list[float]:
        return [self.low, self.high]


def half_width(var: float, tau: float, alpha: float = ALPHA) -> float:
    """Half-width of the always-valid interval around an estimate with variance ``var``."""
    if var <= 0 or tau <= 0:
        return 0.0
    t2 = tau * tau
    return math.sqrt(var * (var + t2) / t2 * (2 * math.log(1 / alpha) + math.log((var + t2) / var)))


def proportion_variance(successes: int, n: int) -> float:
    p = (successes + 1) / (n + 2)
    return p * (1 - p) / n


def proportion(successes: int, n: int, tau: float, alpha: float = ALPHA) -> Estimate | None:
    if n == 0:
        return None
    p = successes / n
    h = half_width(proportion_variance(successes, n), tau, alpha)
    return Estimate(p, max(0.0, p - h), min(1.0, p + h), n)


def proportion_difference(a: tuple[int, int], b: tuple[int, int], tau: float,
                          alpha: float = ALPHA) -> Estimate | None:
    """``b - a`` for (successes, n) pairs."""
    if a[1] == 0 or b[1] == 0:
        return None
    d = b[0] / b[1] - a[0] / a[1]
    h = half_width(proportion_variance(*a) + proportion_variance(*b), tau, alpha)
    return Estimate(d, d - h, d + h, a[1] + b[1])


def mean(values: list[float], tau: float, alpha: float = ALPHA) -> Estimate | None:
    if not values:
        return None
    m = fmean(values)
    h = half_width(_mean_variance(values), tau, alpha) if len(values) > 1 else math.inf
    return Estimate(m, m - h, m + h, len(values))


def mean_difference(a: list[float], b: list[float], tau: float, alpha: float = ALPHA) -> Estimate | None:
    """``mean(b) - mean(a)``, Welch's variance."""
    if not a or not b:
        return None
    d = fmean(b) - fmean(a)
    h = half_width(_mean_variance(a) + _mean_variance(b), tau, alpha) if len(a) > 1 and len(b) > 1 else math.inf
    return Estimate(d, d - h, d + h, len(a) + len(b))


def quantile(values: list[float], q: float, alpha: float = ALPHA) -> Estimate | None:
    """The ``q`` quantile, its interval from order statistics: the always-valid interval of the share of
    values below it (distribution-free), read back as values. An upper bound past the largest value seen is
    that value: the data cannot say more."""
    if not values:
        return None
    ordered = np.sort(np.asarray(values, dtype=float))
    n = len(ordered)
    h = half_width(q * (1 - q) / n, tau=0.1, alpha=alpha)
    low_q, high_q = max(0.0, q - h), min(1.0, q + h)
    at = lambda level: float(np.quantile(ordered, level, method="inverted_cdf"))  # noqa: E731
    return Estimate(float(np.quantile(ordered, q)), at(low_q), at(high_q), n)


def quantile_difference(a: list[float], b: list[float], q: float, alpha: float = ALPHA) -> Estimate | None:
    """``quantile(b) - quantile(a)``: each arm's interval at alpha/2, so both hold together (Bonferroni)."""
    ea, eb = quantile(a, q, alpha / 2), quantile(b, q, alpha / 2)
    if ea is None or eb is None:
        return None
    point_a, point_b = float(np.quantile(a, q)), float(np.quantile(b, q))
    return Estimate(point_b - point_a, eb.low - ea.high, eb.high - ea.low, ea.n + eb.n)


def scale_to_settle(var: float, effect: float, tau: float, alpha: float = ALPHA, limit: float = 1000.0) -> float | None:
    """By how much the data must grow (a factor >= 1) before an interval of width ``var``·n/m excludes zero at the
    observed ``effect``, if the effect and the spread stay as they are; None past ``limit``."""
    if effect == 0 or var <= 0:
        return None
    if half_width(var, tau, alpha) < abs(effect):
        return 1.0
    low, high = 1.0, limit
    if half_width(var / high, tau, alpha) >= abs(effect):
        return None
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (low, mid) if half_width(var / mid, tau, alpha) < abs(effect) else (mid, high)
    return high


def _mean_variance(values: list[float]) -> float:
    return variance(values) / len(values)
