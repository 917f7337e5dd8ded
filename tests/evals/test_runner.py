"""Running items: concurrency, failures kept per item, and resuming from the checkpoint."""

from __future__ import annotations

import asyncio

from rich.console import Console

from guard.evals.checkpoint import Checkpoint
from guard.evals.results import DetectionResult
from guard.evals.runner import run_items
from guard.evals.suite import DetectionRow
from tests.evals.conftest import DETECTION_ROWS

ROWS = [DetectionRow.model_validate(r) for r in DETECTION_ROWS]
IDENTITY = {"suite": "tiny", "config_hash": "sha256:1"}


class CountingEvaluator:
    """Records which rows it was asked to evaluate; raises for the ids it is told to fail."""

    def __init__(self, failing: set[str] = frozenset()):
        self.seen: list[str] = []
        self.failing = failing
        self.in_flight = self.max_in_flight = 0

    async def evaluate(self, row: DetectionRow) -> DetectionResult:
        self.seen.append(row.id)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        if row.id in self.failing:
            raise TimeoutError("model took too long")
        return DetectionResult(id=row.id, hallucinated=row.hallucinated, confidence=0.5, score=0.5, flagged=False)

    def failure(self, row: DetectionRow, error: str) -> DetectionResult:
        return DetectionResult(id=row.id, hallucinated=row.hallucinated, error=error)


def _run(rows, evaluator, checkpoint, concurrency=4):
    return asyncio.run(run_items(rows, evaluator, checkpoint, concurrency=concurrency, console=Console(quiet=True)))


def test_results_come_back_in_row_order(tmp_path):
    results = _run(ROWS, CountingEvaluator(), Checkpoint(tmp_path / "c.jsonl", IDENTITY))
    assert [r.id for r in results] == [r.id for r in ROWS]


def test_items_run_concurrently_up_to_the_limit(tmp_path):
    evaluator = CountingEvaluator()
    _run(ROWS, evaluator, Checkpoint(tmp_path / "c.jsonl", IDENTITY), concurrency=3)
    assert evaluator.max_in_flight == 3


def test_a_failing_item_is_recorded_with_its_error_and_the_run_goes_on(tmp_path):
    results = _run(ROWS, CountingEvaluator(failing={"c"}), Checkpoint(tmp_path / "c.jsonl", IDENTITY))
    failed = {r.id: r.error for r in results if not r.ok}
    assert failed == {"c": "TimeoutError: model took too long"}
    assert sum(r.ok for r in results) == 5


def test_resume_skips_finished_items(tmp_path):
    checkpoint = Checkpoint(tmp_path / "c.jsonl", IDENTITY)
    _run(ROWS[:4], CountingEvaluator(), checkpoint)  # a run that stopped after four items

    evaluator = CountingEvaluator()
    results = _run(ROWS, evaluator, Checkpoint(tmp_path / "c.jsonl", IDENTITY))
    assert sorted(evaluator.seen) == ["e", "f"]
    assert [r.id for r in results] == [r.id for r in ROWS]


def test_failed_items_are_retried_on_resume(tmp_path):
    _run(ROWS, CountingEvaluator(failing={"b"}), Checkpoint(tmp_path / "c.jsonl", IDENTITY))
    evaluator = CountingEvaluator()
    results = _run(ROWS, evaluator, Checkpoint(tmp_path / "c.jsonl", IDENTITY))
    assert evaluator.seen == ["b"]
    assert all(r.ok for r in results)


def test_a_checkpoint_from_another_config_is_not_reused(tmp_path):
    _run(ROWS, CountingEvaluator(), Checkpoint(tmp_path / "c.jsonl", IDENTITY))
    evaluator = CountingEvaluator()
    _run(ROWS, evaluator, Checkpoint(tmp_path / "c.jsonl", {**IDENTITY, "config_hash": "sha256:2"}))
    assert len(evaluator.seen) == len(ROWS)


def test_a_line_cut_short_by_a_crash_is_redone(tmp_path):
    path = tmp_path / "c.jsonl"
    _run(ROWS[:2], CountingEvaluator(), Checkpoint(path, IDENTITY))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][:25])  # the second result was half written

    evaluator = CountingEvaluator()
    results = _run(ROWS[:3], evaluator, Checkpoint(path, IDENTITY))
    assert sorted(evaluator.seen) == ["b", "c"]
    assert all(r.ok for r in results)
    assert len(Checkpoint(path, IDENTITY).resume()[0]) == 3
