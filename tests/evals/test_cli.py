"""``guard eval run`` and ``guard eval compare`` as CI sees them: exit status, files written, output."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from guard.evals.cli import eval_app
from guard.evals.report import build_report, write_report
from guard.evals.results import DetectionResult
from guard.evals.suite import load_suite
from tests.evals.conftest import DETECTION_ROWS, write_suite

runner = CliRunner()
ROWS = DETECTION_ROWS[:3]


def _run(*args: str):
    return runner.invoke(eval_app, ["run", *map(str, args)])


def test_a_failed_threshold_exits_1_and_the_report_says_so(tmp_path):
    suite = write_suite(tmp_path, ROWS, thresholds={"latency_p95_ms": "< 0"})
    result = _run(suite, "--report", tmp_path / "out.json")
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["passed"] is False
    assert report["thresholds"]["latency_p95_ms"]["pass"] is False


def test_met_thresholds_exit_0_with_json_and_html_reports(tmp_path):
    suite = write_suite(tmp_path, ROWS, thresholds={"error_rate": "<= 0"})
    result = _run(suite, "--report", tmp_path / "out.json", "--html", tmp_path / "out.html")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["passed"] is True
    assert report["thresholds"]["error_rate"] == {"target": "<= 0", "value": 0.0, "pass": True}
    assert [item["id"] for item in report["items"]] == ["a", "b", "c"]
    assert report["dataset_hash"].startswith("sha256:") and report["config_hash"].startswith("sha256:")
    assert "<svg" in (tmp_path / "out.html").read_text()


def test_the_checkpoint_is_removed_once_the_report_is_written(tmp_path):
    suite = write_suite(tmp_path, ROWS)
    assert _run(suite, "--report", tmp_path / "out.json").exit_code == 0
    assert not (tmp_path / "out.checkpoint.jsonl").exists()


def test_limit_runs_only_the_first_items(tmp_path):
    suite = write_suite(tmp_path, DETECTION_ROWS)
    assert _run(suite, "--report", tmp_path / "out.json", "--limit", "2").exit_code == 0
    assert [i["id"] for i in json.loads((tmp_path / "out.json").read_text())["items"]] == ["a", "b"]


@pytest.mark.parametrize("breakage, message", [
    ({"thresholds": {"auroc": "0.75"}}, "is not a threshold"),
    ({"dataset": "../data/missing.jsonl"}, "dataset not found"),
    ({"kind": "ranking"}, "kind"),
])
def test_a_broken_suite_exits_2_with_the_reason(tmp_path, breakage, message):
    result = _run(write_suite(tmp_path, ROWS, **breakage))
    assert result.exit_code == 2
    assert message in result.output


def test_a_suite_file_that_is_not_yaml_exits_2(tmp_path):
    path = tmp_path / "suite.yaml"
    path.write_text("kind: detection\n  dataset: [\n")
    assert _run(path).exit_code == 2


def test_a_dataset_with_invalid_rows_exits_2(tmp_path):
    result = _run(write_suite(tmp_path, [{"id": "x", "response": "no sources", "label": "faithful"}]))
    assert result.exit_code == 2
    assert "line 1: sources" in result.output


def test_a_missing_guard_config_exits_2(tmp_path):
    result = _run(write_suite(tmp_path, ROWS), "--config", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "config file not found" in result.output


def test_config_b_runs_both_arms_on_the_same_items(tmp_path):
    other = tmp_path / "strict.yaml"
    other.write_text(yaml.safe_dump({"support": {"threshold": 0.9}}))
    suite = write_suite(tmp_path, ROWS)
    result = _run(suite, "--report", tmp_path / "ab.json", "--config-b", other)
    assert result.exit_code == 0, result.output
    a = json.loads((tmp_path / "ab.json").read_text())
    b = json.loads((tmp_path / "ab.b.json").read_text())
    assert (a["arm"], b["arm"]) == ("a", "b")
    assert [i["id"] for i in a["items"]] == [i["id"] for i in b["items"]]
    assert a["config_hash"] != b["config_hash"]
    assert "paired items" in result.output


def _report_file(tmp_path, name: str, flags: dict[str, bool]):
    """A report whose items carry the given calls (True = called hallucinated) on DETECTION_ROWS."""
    suite = load_suite(write_suite(tmp_path, DETECTION_ROWS))
    items = [DetectionResult(id=row["id"], hallucinated=row["label"] == "hallucinated", confidence=0.5, score=0.5,
                             flagged=flags[row["id"]], latency_ms=1.0) for row in DETECTION_ROWS]
    report = build_report(suite, items, config_hash="sha256:x", dataset_hash="sha256:d")
    write_report(report, tmp_path / name)
    return tmp_path / name


def test_compare_lists_the_items_whose_verdict_changed(tmp_path):
    calls = {"a": False, "b": True, "c": False, "d": False, "e": True, "f": True}
    a = _report_file(tmp_path, "a.json", calls)
    b = _report_file(tmp_path, "b.json", {**calls, "d": True, "a": True})
    result = runner.invoke(eval_app, ["compare", str(a), str(b), "--json", str(tmp_path / "cmp.json")])
    assert result.exit_code == 0, result.output
    assert "2 item(s) changed verdict" in result.output
    changed = {c["id"]: c for c in json.loads((tmp_path / "cmp.json").read_text())["changed"]}
    assert changed["d"]["effect"] == "fixed" and changed["a"]["effect"] == "broken"


def test_compare_of_a_file_that_is_not_a_report_exits_2(tmp_path):
    bogus = tmp_path / "bogus.json"
    bogus.write_text("{}")
    result = runner.invoke(eval_app, ["compare", str(bogus), str(bogus)])
    assert result.exit_code == 2
    assert "not an eval report" in " ".join(result.output.split())  # rich wraps long temp paths
