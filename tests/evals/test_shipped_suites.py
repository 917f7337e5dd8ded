"""The suites shipped in evals/suites load, and their data points at what exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guard.evals.cli import eval_app
from guard.evals.suite import load_rows, load_suite

SUITES = Path(__file__).resolve().parents[2] / "evals" / "suites"


@pytest.mark.parametrize("name", ["wice-dev", "halueval-qa", "examples-kb"])
def test_a_shipped_suite_loads_with_its_dataset(name):
    path = SUITES / f"{name}.yaml"
    raw_dataset = SUITES / next(line.split(":", 1)[1].strip() for line in path.read_text().splitlines()
                                if line.startswith("dataset:"))
    if not raw_dataset.exists():
        pytest.skip(f"{raw_dataset} is outside this checkout")
    suite = load_suite(path)
    assert suite.name == name
    assert len(load_rows(suite)) > 0


def test_the_generation_suites_expected_sources_are_documents_of_its_knowledge_base():
    suite = load_suite(SUITES / "examples-kb.yaml")
    documents = {p.name for p in suite.documents.iterdir()}
    for row in load_rows(suite):
        assert set(row.expected_sources) <= documents, row.id


@pytest.mark.local_model
def test_the_generation_suite_runs_offline_on_the_local_model(tmp_path):
    result = CliRunner().invoke(eval_app, ["run", str(SUITES / "examples-kb.yaml"), "--limit", "1",
                                           "--report", str(tmp_path / "gen.json")])
    assert result.exit_code in (0, 1), result.output
    item = json.loads((tmp_path / "gen.json").read_text())["items"][0]
    assert item["error"] is None and item["answer"] and item["fact_recall"] is not None
