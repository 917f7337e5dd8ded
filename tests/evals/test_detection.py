"""Detection suites: guard's confidence turned into a hallucination detector and scored."""

from __future__ import annotations

import asyncio

import pytest
from rich.console import Console

from guard import Guard, GuardConfig
from guard.evals.arm import run_arm
from guard.evals.suite import load_rows, load_suite
from tests.evals.conftest import DETECTION_ROWS, write_suite


def _run(tmp_path, guard, rows=DETECTION_ROWS, **suite_fields):
    suite = load_suite(write_suite(tmp_path, rows, **suite_fields))
    return asyncio.run(run_arm(suite, load_rows(suite), guard, tmp_path / "out.json", console=Console(quiet=True)))


def test_the_score_is_one_minus_confidence_and_low_confidence_is_called_hallucinated(tmp_path, scripted_guard):
    items = {i.id: i for i in _run(tmp_path, scripted_guard).items}
    assert items["b"].confidence == 0.2 and items["b"].score == pytest.approx(0.8) and items["b"].flagged
    assert items["a"].confidence == 0.9 and items["a"].score == pytest.approx(0.1) and not items["a"].flagged


def test_report_metrics_match_the_hand_count(tmp_path, scripted_guard):
    # Called hallucinated (confidence < 0.5): b, e, f. Labels hallucinated: b, d, f. TP 2, FN 1, FP 1, TN 2.
    metrics = _run(tmp_path, scripted_guard).metrics
    assert metrics["accuracy"] == pytest.approx(4 / 6, abs=1e-6)
    assert metrics["precision_hallucinated"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics["recall_hallucinated"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics["balanced_accuracy"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics["auroc"] == pytest.approx(8 / 9, abs=1e-6)


def test_the_suite_decision_threshold_overrides_the_configs(tmp_path, scripted_guard):
    report = _run(tmp_path, scripted_guard, decision_threshold=0.75)
    assert report.decision_threshold == 0.75
    assert {i.id for i in report.items if i.flagged} == {"b", "d", "e", "f"}


def test_the_report_carries_intervals_reliability_and_thresholds(tmp_path, scripted_guard):
    report = _run(tmp_path, scripted_guard, thresholds={"auroc": ">= 0.8", "balanced_accuracy": ">= 0.9"})
    low, high = report.intervals["auroc"]
    assert low <= report.metrics["auroc"] <= high
    assert sum(b["count"] for b in report.reliability) == 6
    assert report.thresholds["auroc"].passed and not report.thresholds["balanced_accuracy"].passed
    assert report.passed is False


def test_an_item_guard_cannot_score_is_counted_apart_from_failures(tmp_path, scripted_guard):
    unknown = {"id": "g", "sources": ["x"], "response": "Not in the script.", "label": "faithful"}
    report = _run(tmp_path, scripted_guard, rows=DETECTION_ROWS + [unknown])
    assert (report.counts.scored, report.counts.unscored, report.counts.failed) == (6, 1, 0)
    assert next(i for i in report.items if i.id == "g").layers["support"] == "skipped: no scripted score"


class BrokenLayer:
    name = "support"
    phase = "after_model"

    async def run(self, state):
        raise RuntimeError("parameters do not match the features")


def test_an_item_whose_layer_errored_is_a_failure_not_a_score(tmp_path):
    guard = Guard(GuardConfig(telemetry={"enabled": False}), layers=[BrokenLayer()])
    report = _run(tmp_path, guard, thresholds={"error_rate": "<= 1"})
    assert report.counts.failed == 6
    assert report.items[0].error == "LayerFailed: support: RuntimeError: parameters do not match the features"
    assert report.passed is False  # nothing was scored, so nothing can pass


def test_the_real_verifier_scores_every_row(tmp_path, real_guard):
    report = _run(tmp_path, real_guard, rows=DETECTION_ROWS[:4])
    assert report.counts.scored == 4
    assert all(i.layers["support"] == "ok" for i in report.items)
    assert all(0.0 <= i.score <= 1.0 for i in report.items)
