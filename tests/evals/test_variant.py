"""``guard eval run SUITE --variant EXPERIMENT/VARIANT``: a suite gates a variant before it sees users."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from guard.adapters.cli import app
from tests.evals.conftest import write_suite
from tests.support.fake_upstream import Reply

runner = CliRunner()
CONCISE = "Answer in at most two sentences."
ROWS = [{"id": "warranty", "question": "How long is the Lumen warranty?",
         "reference_answer": "The Lumen lamp has a two-year warranty."}]


@pytest.fixture
def setup(tmp_path, upstream):
    upstream.script["fake-model"] = [Reply(text="I am not sure, maybe ninety days.")]
    upstream.script["fake-model-b"] = [Reply(text="The Lumen lamp has a two-year warranty.")]
    config = tmp_path / "guard.yaml"
    config.write_text(yaml.safe_dump({
        "models": {"default": "openai/fake-model", "max_attempts": 1}, "grounding": {"enabled": False},
        "support": {"verifier": "offline"}, "telemetry": {"database": str(tmp_path / "guard.db")},
        "experiments": [{"name": "concise-prompt", "variants": [
            {"name": "control"},
            {"name": "concise", "system_prompt": "concise-v2", "models": {"default": "openai/fake-model-b"}}]}],
        "prompts": {"concise-v2": CONCISE}}))
    return write_suite(tmp_path, ROWS, kind="generation"), config


def _run(suite, config, out, *more: str):
    return runner.invoke(app, ["eval", "run", str(suite), "--config", str(config), "--report", str(out), *more])


def test_a_variant_runs_with_its_model_and_system_prompt(setup, tmp_path, upstream):
    suite, config = setup
    result = _run(suite, config, tmp_path / "concise.json", "--variant", "concise-prompt/concise")
    assert result.exit_code == 0, result.output
    (call,) = [r for r in upstream.requests if r.get("model") == "fake-model-b"]
    assert call["messages"][0] == {"role": "system", "content": CONCISE}
    report = json.loads((tmp_path / "concise.json").read_text())
    assert report["arm"] == "concise-prompt/concise"
    assert report["items"][0]["answer"] == "The Lumen lamp has a two-year warranty."


def test_compare_shows_the_variant_beside_control(setup, tmp_path):
    suite, config = setup
    assert _run(suite, config, tmp_path / "control.json", "--variant", "concise-prompt/control").exit_code == 0
    assert _run(suite, config, tmp_path / "concise.json", "--variant", "concise-prompt/concise").exit_code == 0

    result = runner.invoke(app, ["eval", "compare", str(tmp_path / "control.json"), str(tmp_path / "concise.json"),
                                 "--json", str(tmp_path / "diff.json")])

    assert result.exit_code == 0, result.output
    assert "fact_recall" in result.output
    recall = json.loads((tmp_path / "diff.json").read_text())["deltas"]["fact_recall"]
    assert recall["b"] > recall["a"]  # the variant's model states the warranty; control's does not


def test_an_unknown_variant_is_a_clear_error(setup, tmp_path):
    suite, config = setup
    result = _run(suite, config, tmp_path / "x.json", "--variant", "concise-prompt/shorter")
    assert result.exit_code == 2
    assert "no variant 'shorter'" in result.output
