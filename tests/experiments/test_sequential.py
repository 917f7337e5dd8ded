"""The intervals stay valid when people look every day."""

from __future__ import annotations

import numpy as np

from guard.experiments import sequential as seq


def _peeking_false_winners(interval, runs: int = 300, days: int = 30, per_day: int = 40) -> float:
    """Share of A/A tests (both arms edit 30 % of drafts) in which some daily look excludes zero."""
    rng = np.random.default_rng(0)
    wrong = 0
    for _ in range(runs):
        a = rng.random((days, per_day)) < 0.3
        b = rng.random((days, per_day)) < 0.3
        for day in range(1, days + 1):
            n = day * per_day
            estimate = interval((int(a[:day].sum()), n), (int(b[:day].sum()), n))
            if estimate.low > 0 or estimate.high < 0:
                wrong += 1
                break
    return wrong / runs


def _fixed_horizon(a: tuple[int, int], b: tuple[int, int]) -> seq.Estimate:
    d = b[0] / b[1] - a[0] / a[1]
    h = 1.96 * np.sqrt(seq.proportion_variance(*a) + seq.proportion_variance(*b))
    return seq.Estimate(d, d - h, d + h, a[1] + b[1])


def test_daily_looks_at_an_a_a_test_rarely_crown_a_winner():
    assert _peeking_false_winners(lambda a, b: seq.proportion_difference(a, b, tau=0.1)) <= 0.05


def test_the_same_daily_looks_with_a_fixed_horizon_interval_crown_far_more():
    assert _peeking_false_winners(_fixed_horizon) > 0.10


def test_zero_of_n_still_has_an_interval_of_some_width():
    estimate = seq.proportion(0, 50, tau=0.1)
    assert estimate.low == 0.0 < estimate.high


def test_more_data_narrows_the_interval():
    assert seq.half_width(0.25 / 1000, 0.1) < seq.half_width(0.25 / 100, 0.1)


def test_a_quantile_interval_brackets_the_quantile():
    values = list(np.random.default_rng(1).normal(800, 100, 500))
    estimate = seq.quantile(values, 0.95)
    assert estimate.low < estimate.value < estimate.high
