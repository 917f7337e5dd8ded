"""Metric functions against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from guard.evals import metrics as m

# Labels: True = hallucinated. Predictions: guard's call at its threshold.
LABELS = [True, True, True, False, False]
CALLS = [True, True, False, True, False]  # TP=2, FN=1, FP=1, TN=1


def test_accuracy_is_the_share_of_agreeing_calls():
    assert m.accuracy(LABELS, CALLS) == pytest.approx(3 / 5)


def test_precision_recall_and_f1_are_about_the_hallucinated_class():
    assert m.precision(LABELS, CALLS) == pytest.approx(2 / 3)
    assert m.recall(LABELS, CALLS) == pytest.approx(2 / 3)
    assert m.f1(LABELS, CALLS) == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))


def test_balanced_accuracy_averages_the_two_class_recalls():
    assert m.balanced_accuracy(LABELS, CALLS) == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_precision_is_undefined_when_nothing_is_called_hallucinated():
    result = m.precision([True, False], [False, False])
    assert isinstance(result, m.Undefined)
    assert "predicted" in result.reason


def test_balanced_accuracy_is_undefined_on_one_class():
    result = m.balanced_accuracy([False, False, False], [True, False, False])
    assert isinstance(result, m.Undefined)
    assert "0 hallucinated and 3 faithful" in result.reason


def test_midranks_share_the_mean_rank_of_a_tie():
    assert m.midranks([3, 1, 3, 2]).tolist() == [3.5, 1.0, 3.5, 2.0]


def test_auroc_counts_a_tied_pair_as_half():
    # Pairs (hallucinated, faithful): (0.9 vs 0.1) win, (0.9 vs 0.5) win, (0.5 vs 0.1) win, (0.5 vs 0.5) tie.
    assert m.auroc([True, False, True, False], [0.9, 0.1, 0.5, 0.5]) == pytest.approx(3.5 / 4)


def test_auroc_of_all_tied_scores_is_one_half():
    assert m.auroc([True, False, True, False, False], [0.3] * 5) == pytest.approx(0.5)


def test_auroc_is_one_for_perfect_ranking_and_zero_for_inverted():
    assert m.auroc([True, True, False], [0.9, 0.8, 0.1]) == 1.0
    assert m.auroc([True, True, False], [0.1, 0.2, 0.9]) == 0.0


def test_auroc_is_undefined_on_one_class_instead_of_crashing():
    result = m.auroc([True, True], [0.9, 0.1])
    assert isinstance(result, m.Undefined)
    assert "both classes" in result.reason


def test_roc_curve_steps_diagonally_over_tied_scores_and_spans_the_unit_square():
    curve = m.roc_curve([True, False, True, False], [0.9, 0.1, 0.5, 0.5])
    assert curve == [(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]
    area = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in zip(curve, curve[1:]))
    assert area == pytest.approx(m.auroc([True, False, True, False], [0.9, 0.1, 0.5, 0.5]))


def test_ece_weights_each_bins_gap_by_its_share_of_items():
    # Bin [0.9,1]: score 0.9, observed 1 -> gap 0.1; bin [0.1,0.2): 0.1 vs 0 -> 0.1; bin [0.5,0.6): 0.5 vs 0.5 -> 0.
    assert m.ece([True, False, True, False], [0.9, 0.1, 0.5, 0.5]) == pytest.approx((0.1 + 0.1 + 0) / 4)


def test_ece_of_a_perfectly_calibrated_detector_is_zero():
    assert m.ece([True, False, False, True], [1.0, 0.0, 0.0, 1.0]) == 0.0


def test_reliability_table_puts_a_score_of_one_in_the_last_bin():
    table = m.reliability_table([True, False], [1.0, 0.05], bins=10)
    assert len(table) == 10
    assert table[-1].count == 1 and table[-1].observed_rate == 1.0
    assert table[0].count == 1 and table[0].mean_score == pytest.approx(0.05)
    assert table[5].count == 0 and table[5].mean_score is None


def test_percentile_interpolates_and_ignores_missing_values():
    assert m.percentile([10, 20, 30, 40, np.nan], 50) == pytest.approx(25)
    assert m.percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert isinstance(m.percentile([], 50), m.Undefined)


def test_mean_skips_items_the_quantity_does_not_apply_to():
    assert m.mean([1.0, np.nan, 0.0]) == pytest.approx(0.5)
    assert m.mean([np.nan], "no item has reference facts") == m.Undefined("no item has reference facts")


def _auroc_stat(labels: np.ndarray, scores: np.ndarray):
    return lambda index: {"auroc": m.auroc(labels[index], scores[index])}


def test_bootstrap_is_reproducible_with_the_same_seed_and_brackets_the_estimate():
    rng = np.random.default_rng(7)
    labels = rng.random(200) < 0.5
    scores = np.where(labels, rng.normal(0.7, 0.2, 200), rng.normal(0.4, 0.2, 200))
    first = m.bootstrap_intervals(_auroc_stat(labels, scores), 200, resamples=300, seed=3)
    again = m.bootstrap_intervals(_auroc_stat(labels, scores), 200, resamples=300, seed=3)
    assert first == again
    interval = first["auroc"]
    assert interval.low < m.auroc(labels, scores) < interval.high


def test_bootstrap_interval_is_undefined_when_most_resamples_are():
    def undefined_when_item_0_is_drawn(index: np.ndarray) -> dict[str, m.Value]:
        return {"stat": m.Undefined("item 0 drawn") if 0 in index else 1.0}

    # A resample of 10 items draws item 0 about 65% of the time.
    interval = m.bootstrap_intervals(undefined_when_item_0_is_drawn, 10, resamples=200)["stat"]
    assert isinstance(interval, m.Undefined)
    assert "resamples" in interval.reason
