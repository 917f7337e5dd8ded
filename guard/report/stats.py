"""The report's intervals, and how many more items would settle a verdict.

95 % intervals throughout: Wilson's for proportions (sound at 0 %, 100 % and small n, unlike the
normal one), the distribution-free order-statistic interval for percentiles (ranks from the binomial:
no assumption on the latency distribution), Student's t for means (from SQL sums: the report never
holds the values), and for the hallucination estimate, which combines three proportions, draws from
their Jeffreys posteriors. An interval side the data cannot bound (a p95 over 20 values has no
order statistic above it) is ``None``: unbounded.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

LEVEL = 0.95
Z = float(stats.norm.ppf(0.5 + LEVEL / 2))  # 1.959964
Bounds = tuple[float | None, float | None]
PERCENTILES = {"p50": 0.5, "p95": 0.95}  # the latency percentiles the report shows


def wilson(successes: float, n: float) -> Bounds:
    """Wilson's score interval of ``successes`` out of ``n``; (None, None) for n = 0."""
    if n <= 0:
        return None, None
    p, z2 = successes / n, Z * Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def quantile_ranks(n: int, q: float) -> tuple[int | None, int | None]:
    """1-based ranks (low, high) of the order statistics that bracket the ``q`` quantile with 95 % coverage.

    ``P(X_(l) <= xi_q < X_(u)) = P(l <= B <= u - 1)`` for ``B ~ Binomial(n, q)``; a rank outside 1..n is
    None (that side is unbounded by n values).
    """
    if n <= 0:
        return None, None
    tail = (1 - LEVEL) / 2
    low = int(stats.binom.ppf(tail, n, q))
    high = int(stats.binom.ppf(1 - tail, n, q)) + 1
    return (low if low >= 1 else None), (high if high <= n else None)


def mean_interval(n: int, total: float, squares: float) -> Bounds:
    """Student's t interval of a mean from ``n``, the sum and the sum of squares; unbounded below n = 2."""
    if n < 2:
        return None, None
    mean = total / n
    variance = max(0.0, (squares - total * total / n) / (n - 1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * math.sqrt(variance / n)
    return mean - half, mean + half


def mixture(flagged: tuple[int, int], precision: tuple[int, int], miss: tuple[int, int],
            draws: int = 20_000, seed: int = 0) -> tuple[float | None, Bounds]:
    """The share ``f * p + (1 - f) * m`` and its interval, each part a (successes, n) count.

    ``f`` is the flagged share, ``p`` the share of labelled flagged answers that were wrong (the flag's
    precision), ``m`` that of labelled unflagged ones (the miss rate). Each is drawn from its Jeffreys
    posterior Beta(k + 1/2, n - k + 1/2); the fixed seed keeps a report reproducible. None while a part
    that counts (some answers flagged, or some not) has no label.
    """
    (kf, nf), (kp, np_), (km, nm) = flagged, precision, miss
    if nf == 0 or (kf > 0 and np_ == 0) or (kf < nf and nm == 0):
        return None, (None, None)
    f_hat = kf / nf
    value = f_hat * (kp / np_ if np_ else 0.0) + (1 - f_hat) * (km / nm if nm else 0.0)
    rng = np.random.default_rng(seed)
    f = rng.beta(kf + 0.5, nf - kf + 0.5, draws)
    p = rng.beta(kp + 0.5, np_ - kp + 0.5, draws)
    m = rng.beta(km + 0.5, nm - km + 0.5, draws)
    low, high = np.percentile(f * p + (1 - f) * m, [50 * (1 - LEVEL), 50 * (1 + LEVEL)])
    return value, (float(low), float(high))


def items_to_settle_share(rate: float, n: int, target: float, min_items: int) -> int | None:
    """How many more items, at the current rate, until the Wilson interval lies wholly on one side of ``target``.

    None when the rate sits exactly on the target (no amount of data settles it) or nothing is known yet.
    """
    if n == 0 or rate == target:
        return None

    def settled(m: int) -> bool:
        low, high = wilson(rate * m, m)
        return m >= min_items and (high < target or low > target)  # type: ignore[operator]

    if settled(n):
        return 0
    high = n
    while not settled(high):
        high *= 2
        if high > 10**12:
            return None
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if settled(middle) else (middle, high)
    return high - n


def items_to_settle(value: float, bound: float | None, n: int, target: float, min_items: int,
                    quantile: float | None = None) -> int | None:
    """More items to settle a percentile or mean verdict: an interval's half-width shrinks as 1/sqrt(n).

    ``bound`` is the interval's end on the target's side. While it is unbounded, the answer is the
    items needed before the data bound it at all (an order statistic beyond the ``quantile``, or
    two values for a mean). None for a value on the target.
    """
    if n == 0 or value == target:
        return None
    if bound is None:
        needed = 2
        if quantile is not None:
            side = 1 if value < target else 0
            while quantile_ranks(needed, quantile)[side] is None:
                needed += 1
        return max(needed, min_items) - n
    if (bound - value) * (target - value) <= 0 or abs(bound - value) < abs(target - value):
        return max(min_items - n, 0)  # the bound is already on the near side: only the item floor is left
    needed = n * ((bound - value) / (target - value)) ** 2
    return max(math.ceil(needed), min_items) - n
