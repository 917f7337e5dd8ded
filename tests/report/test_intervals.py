"""The intervals behind every verdict, against values worked out by hand from their formulas."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from guard.report.stats import items_to_settle, items_to_settle_share, mean_interval, mixture, quantile_ranks, wilson

# Wilson: centre (p + z²/2n) / (1 + z²/n), half-width z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²), z = 1.959964.
WORKED = [
    (1, 1, 0.2065, 1.0),  # centre (1 + 1.9207) / 4.8415 = 0.6033, half 0.4048 · 0.9800 = 0.3967
    (0, 1, 0.0, 0.7935),
    (10, 20, 0.2993, 0.7007),  # centre 0.5, half 1.6442 · sqrt(0.0125 + 0.0024) = 0.2007
    (19, 20, 0.7639, 0.9911),  # centre 0.8775, half 0.1136
    (20, 20, 0.8389, 1.0),
    (50, 1000, 0.0381, 0.0653),
    (820, 1000, 0.7950, 0.8426),
    (850, 1000, 0.8265, 0.8708),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), WORKED)
def test_wilson_intervals_match_the_hand_computed_ones(k, n, low, high):
    assert wilson(k, n) == pytest.approx((low, high), abs=1e-4)


@pytest.mark.parametrize(("k", "n"), [(k, n) for k, n, _, _ in WORKED])
def test_wilson_intervals_agree_with_scipy(k, n):
    ci = binomtest(k, n).proportion_ci(method="wilson")
    assert wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_no_items_give_no_interval():
    assert wilson(0, 0) == (None, None)
    assert quantile_ranks(0, 0.5) == (None, None)
    assert mean_interval(0, 0.0, 0.0) == (None, None)


@pytest.mark.parametrize(("n", "q", "ranks"), [
    (1, 0.5, (None, None)),  # one value brackets nothing with 95 % coverage
    # Binomial(20, 0.95): P(B <= 16) = 0.016 < 0.025 <= P(B <= 17) = 0.075, and P(B <= 19) = 0.64 < 0.975:
    # the p95 of 20 values is at least the 17th, with nothing above to bound it
    (20, 0.95, (17, None)),
    (20, 0.5, (6, 15)),  # the sign-test ranks of a median of 20
    (1000, 0.95, (936, 964)),  # 950 ± 1.96 · sqrt(1000 · 0.95 · 0.05) = 950 ± 13.5
])
def test_percentile_intervals_are_order_statistics_at_binomial_ranks(n, q, ranks):
    assert quantile_ranks(n, q) == ranks


def test_mean_interval_is_students_t_from_the_sums():
    # values 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.3027, half-width 4.3027 / sqrt(3) = 2.4841
    assert mean_interval(3, 6.0, 14.0) == pytest.approx((-0.4841, 4.4841), abs=1e-4)
    assert mean_interval(1, 5.0, 25.0) == (None, None)


def test_more_items_needed_is_the_first_count_whose_interval_clears_the_target():
    more = items_to_settle_share(0.95, 20, 0.8, min_items=10)
    assert wilson(0.95 * (20 + more), 20 + more)[0] > 0.8
    assert wilson(0.95 * (19 + more), 19 + more)[0] <= 0.8


def test_a_rate_exactly_on_its_target_can_never_be_settled():
    assert items_to_settle_share(0.8, 1000, 0.8, min_items=10) is None


def test_a_percentile_without_an_upper_bound_first_needs_enough_values_to_have_one():
    more = items_to_settle(800.0, None, 20, 5000.0, min_items=10, quantile=0.95)
    assert quantile_ranks(20 + more, 0.95)[1] is not None
    assert quantile_ranks(19 + more, 0.95)[1] is None


def test_the_mixture_is_the_flag_rate_weighted_precision_and_miss_rate():
    value, (low, high) = mixture((150, 1000), (60, 100), (5, 100))
    assert value == pytest.approx(0.15 * 0.6 + 0.85 * 0.05)
    assert low < value < high


def test_the_mixture_needs_labels_for_every_part_that_counts():
    assert mixture((150, 1000), (0, 0), (5, 100))[0] is None  # flagged answers, none labelled
    assert mixture((150, 1000), (60, 100), (0, 0))[0] is None  # unflagged answers, none audited
    assert mixture((0, 1000), (0, 0), (5, 100))[0] == pytest.approx(0.05)  # nothing flagged: the miss rate alone
