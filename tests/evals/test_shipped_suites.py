"""The suites shipped in evals/suites load, and their data points at what exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import guard.evals
from guard.evals.cli import eval_app
from guard.evals.suite import load_rows, load_suite

SUITES = Path(guard.evals.__file__).parent / "suites"  # where the installed package keeps them


@pytest.mark.parametrize("name", ["wice-dev", "halueval-qa", "examples-kb"])
def test_a_shipped_suite_reads_only_files_inside_the_package(name):
    suite = load_suite(SUITES / f"{name}.yaml")
    assert suite.dataset.is_relative_to(SUITES) and suite.dataset.is_file()
    assert suite.documents is None or suite.documents.is_relative_to(SUITES)
    assert len(load_rows(suite)) > 0


def test_a_detection_suite_runs_from_the_package_alone(tmp_path):
    result = CliRunner().invoke(eval_app, ["run", str(SUITES / "wice-dev.yaml"), "--limit", "3",
                                           "--report", str(tmp_path / "wice.json")])
    assert result.exit_code in (0, 1), result.output  # 1: three items cannot pass the gates
    items = json.loads((tmp_path / "wice.json").read_text())["items"]
    assert len(items) == 3 and all(i["error"] is None for i in items)


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
