"""A/B comparison of two reports on the same items."""

from __future__ import annotations

import pytest

from guard.evals.compare import compare_reports
from guard.evals.report import ReportError, build_report
from guard.evals.results import DetectionResult, GenerationResult
from guard.evals.suite import load_suite
from tests.evals.conftest import DETECTION_ROWS, write_suite

N = 60  # items; half hallucinated


def _report(tmp_path, correct: set[int], ids=range(N)):
    """A detection report whose calls are right exactly on the items in ``correct``."""
    suite = load_suite(write_suite(tmp_path, DETECTION_ROWS, bootstrap_resamples=300))
    items = []
    for i in ids:
        hallucinated = i % 2 == 0
        flagged = hallucinated if i in correct else not hallucinated
        items.append(DetectionResult(id=f"item-{i}", hallucinated=hallucinated, confidence=0.5,
                                     score=0.9 if flagged else 0.1, flagged=flagged, latency_ms=5.0))
    return build_report(suite, items, config_hash="sha256:c", dataset_hash="sha256:d")


def test_deltas_are_b_minus_a_with_an_interval_over_the_paired_items(tmp_path):
    a = _report(tmp_path, correct=set(range(0, N, 2)) | {1, 3, 5})  # right on the hallucinated half, plus 3
    b = _report(tmp_path, correct=set(range(N)))
    comparison = compare_reports(a, b, resamples=200)
    accuracy = comparison.deltas["accuracy"]
    assert accuracy.a == pytest.approx(33 / 60, abs=1e-6) and accuracy.b == 1.0
    assert accuracy.delta == pytest.approx(27 / 60, abs=1e-6)
    low, high = accuracy.interval
    assert 0 < low <= accuracy.delta <= high


def test_the_changed_items_are_those_whose_call_moved(tmp_path):
    a = _report(tmp_path, correct=set(range(N)) - {4, 7})
    b = _report(tmp_path, correct=set(range(N)) - {9})
    changed = {c.id: c.effect for c in compare_reports(a, b, resamples=200).changed}
    assert changed == {"item-4": "fixed", "item-7": "fixed", "item-9": "broken"}


def test_items_in_only_one_report_are_counted_but_not_paired(tmp_path):
    a = _report(tmp_path, correct=set(range(N)))
    b = _report(tmp_path, correct=set(range(N)), ids=range(10, N + 5))
    comparison = compare_reports(a, b, resamples=200)
    assert (comparison.paired, comparison.only_a, comparison.only_b) == (N - 10, 10, 5)


def test_a_detection_report_is_not_compared_with_a_generation_report(tmp_path):
    detection = _report(tmp_path, correct=set(range(N)))
    suite = load_suite(write_suite(tmp_path / "gen", [{"id": "q", "question": "Why?"}], kind="generation"))
    generation = build_report(suite, [GenerationResult(id="q", question="Why?", tier="high")],
                              config_hash="sha256:c", dataset_hash="sha256:d")
    with pytest.raises(ReportError, match="cannot compare"):
        compare_reports(detection, generation)
