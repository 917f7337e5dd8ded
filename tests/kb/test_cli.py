"""``guard kb``: add, remove, search and stats from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from guard.adapters.kb_cli import kb_app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _config_from_files_only(monkeypatch):
    """These tests configure through guard.yaml, which the test-wide GUARD_KNOWLEDGE_BASE__PATH would override."""
    monkeypatch.delenv("GUARD_KNOWLEDGE_BASE__PATH", raising=False)


@pytest.fixture
def kb_config(any_kb_config):
    """The commands work the same on both backends."""
    return any_kb_config


@pytest.fixture
def config_file(kb_config, tmp_path: Path) -> Path:
    path = tmp_path / "guard.yaml"
    path.write_text(yaml.safe_dump({"knowledge_base": kb_config.model_dump(
        mode="json", include={"backend", "path", "database", "name", "chunk_size", "chunk_overlap"})}))
    return path


def _run(*args: str):
    return runner.invoke(kb_app, list(args), terminal_width=200)


def test_add_reports_added_files_then_unchanged_ones(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hours.md").write_text("# Opening hours\n\nThe shop opens at nine.\n")
    (tmp_path / "guard.yaml").write_text(f"knowledge_base:\n  path: {tmp_path / 'kb'}\n")

    first = _run("add", str(tmp_path / "docs"), "--config", str(tmp_path / "guard.yaml"))
    again = _run("add", str(tmp_path / "docs"), "--config", str(tmp_path / "guard.yaml"))

    assert first.exit_code == 0 and "added 1, updated 0, unchanged 0, removed 0 files; 1 chunks added" in first.output
    assert again.exit_code == 0 and "added 0, updated 0, unchanged 1, removed 0 files" in again.output


def _row(output: str, name: str) -> str:
    return next(line.split("│")[2].strip() for line in output.splitlines() if line.startswith(f"│ {name} "))


def test_config_is_read_from_guard_yaml_in_the_working_directory(config_file, kb, monkeypatch):
    monkeypatch.chdir(config_file.parent)

    result = _run("stats")

    assert result.exit_code == 0 and _row(result.output, "files") == str(kb.stats().files) == "5"


def test_search_shows_the_chunk_and_its_scores(config_file):
    result = _run("search", "ERR-4012", "-k", "2", "--config", str(config_file))

    assert result.exit_code == 0
    assert "errors.md#c4" in result.output and "1.000" in result.output
    assert result.output.count("errors.md#c") == 2


def test_search_lists_rows_in_the_order_of_their_relevance(config_file):
    result = _run("search", "How long is the warranty and what does shipping cost?", "-k", "5",
                  "--config", str(config_file))

    relevance = [float(line.split("│")[3]) for line in result.output.splitlines() if "#c" in line]
    assert result.exit_code == 0 and len(relevance) > 1
    assert relevance == sorted(relevance, reverse=True)


def test_stats_shows_files_chunks_and_index(config_file, kb, kb_config):
    result = _run("stats", "--config", str(config_file))

    assert result.exit_code == 0
    assert _row(result.output, "files") == "5"
    assert _row(result.output, "chunks") == str(kb.stats().chunks)
    assert _row(result.output, "index") == {"local": "exact", "postgres": "hnsw"}[kb_config.backend]
    assert _row(result.output, "embedding model") == "all-MiniLM-L6-v2"


def test_remove_reports_what_it_removed_and_what_it_did_not_know(config_file, docs):
    result = _run("remove", str(docs / "warranty.txt"), str(docs / "never.md"), "--config", str(config_file))

    assert result.exit_code == 0
    assert "removed 1 files; 0 chunks added, 1 removed" in result.output
    assert "not in the knowledge base" in result.output and "never.md" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["stats", "--config", "missing.yaml"], "config file not found: missing.yaml"),
    (["add", "no/such/folder"], "no/such/folder: no such file or folder"),
    (["search", " "], "the search query is empty"),
])
def test_bad_input_ends_with_a_clear_error(args: list[str], message: str):
    result = _run(*args)

    assert result.exit_code == 1
    assert message in result.output
