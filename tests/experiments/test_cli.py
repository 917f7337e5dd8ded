"""``guard experiment``: start, pause, end and report from the command line, on the store every worker reads."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from guard.adapters.cli import app
from guard.experiments import definitions
from tests.experiments.conftest import write_traffic

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["experiment", *args])


def test_start_pause_and_end_change_what_the_store_says(config_file, store):
    assert "concise-prompt: running" in _run("start", "concise-prompt", "-c", str(config_file)).output
    assert "concise-prompt: paused" in _run("pause", "concise-prompt", "-c", str(config_file)).output
    assert definitions.get_experiment(store, "concise-prompt").status == "paused"
    ended = _run("end", "concise-prompt", "--ship", "concise", "-c", str(config_file))
    assert "everyone gets concise" in ended.output
    assert definitions.get_experiment(store, "concise-prompt").winner == "concise"


def test_ending_with_a_variant_the_experiment_lacks_is_refused(config_file):
    result = _run("end", "concise-prompt", "--ship", "shorter", "-c", str(config_file))
    assert result.exit_code == 1
    assert "no variant 'shorter'" in result.output


def test_an_unknown_experiment_is_a_clear_error(config_file):
    result = _run("start", "nope", "-c", str(config_file))
    assert result.exit_code == 1 and "no experiment 'nope'" in result.output


def test_the_json_report_has_the_documented_keys(config_file, store):
    write_traffic(store, edit_rates={"control": 0.5, "concise": 0.2}, per_variant=80)

    result = _run("report", "concise-prompt", "--since", "1d", "--json", "-c", str(config_file))

    report = json.loads(result.output)
    assert {"name", "primary_metric", "variants", "verdict", "method"} <= set(report)
    control = report["variants"]["control"]
    assert {"requests", "users", "metrics"} <= set(control)
    assert set(control["metrics"]["edit_rate"]) >= {"value", "ci95"}
    assert report["verdict"] == "ship concise"


def test_the_terminal_report_shows_the_verdict(config_file, store):
    write_traffic(store, edit_rates={"control": 0.5, "concise": 0.2}, per_variant=80)
    result = _run("report", "concise-prompt", "--since", "1d", "-c", str(config_file))
    assert "verdict: ship concise" in result.output
