"""What ``guard serve`` says when it starts, whatever ``logging.level`` is (issue 24 items 2 and 9)."""

from __future__ import annotations

from guard.adapters.serve_cli import start_up_lines
from guard.config import GuardConfig


def test_start_up_names_address_models_store_and_what_readyz_waits_for(tmp_path):
    config = GuardConfig(models={"default": "openai/gpt-4o-mini"}, telemetry={"database": str(tmp_path / "g.db")},
                         server={"port": 8123}, logging={"level": "warning"})

    lines = start_up_lines(config)

    assert lines[0] == "guard serve: listening on http://127.0.0.1:8123/v1 (1 worker)"
    assert "  chat models: openai/gpt-4o-mini" in lines and "  embedding models: all-MiniLM-L6-v2" in lines
    assert f"  store: {tmp_path / 'g.db'}" in lines
    assert lines[-1].startswith("  /readyz: 200 once the store answers and the models are warmed up")


def test_a_configured_knowledge_base_that_is_missing_is_a_warning_with_the_command_that_builds_it(tmp_path):
    config = GuardConfig(knowledge_base={"path": str(tmp_path / "kb")})

    lines = start_up_lines(config)

    assert (f"  warning: knowledge base: none at {tmp_path / 'kb'}; answers are not grounded (their grounding "
            "layer says skipped). Build it: guard kb add DOCS") in lines
    assert not (tmp_path / "kb").exists()  # looking does not create it


def test_a_built_knowledge_base_is_shown_with_its_size(tmp_path):
    from guard.kb import KnowledgeBase

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hours.md").write_text("# Opening hours\n\nThe shop opens at nine.\n")
    config = GuardConfig(knowledge_base={"path": str(tmp_path / "kb")})
    kb = KnowledgeBase.open(config.knowledge_base)
    kb.add([tmp_path / "docs"])
    kb.close()

    assert f"  knowledge base: {tmp_path / 'kb'} (1 files, 1 chunks)" in start_up_lines(config)


def test_a_postgres_knowledge_base_is_shown_by_database_and_name_with_its_size(pgvector_url, tmp_path):
    from guard.kb import KnowledgeBase

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hours.md").write_text("# Opening hours\n\nThe shop opens at nine.\n")
    config = GuardConfig(knowledge_base={"backend": "postgres", "database": pgvector_url, "name": "shop-hours"})
    assert any(line.startswith("  warning: knowledge base: none at postgresql://") for line in start_up_lines(config))
    kb = KnowledgeBase.open(config.knowledge_base)
    kb.add([tmp_path / "docs"])
    kb.close()

    assert any(line.startswith("  knowledge base: postgresql://") and
               line.endswith("(knowledge base 'shop-hours') (1 files, 1 chunks)") for line in start_up_lines(config))


def test_several_workers_on_one_sqlite_file_are_warned_about():
    sqlite = start_up_lines(GuardConfig(server={"workers": 2}))
    postgres = start_up_lines(GuardConfig(server={"workers": 2}, telemetry={"database": "postgresql://db/guard"}))

    assert any(line.startswith("  warning: 2 workers share one SQLite file") for line in sqlite)
    assert not any("SQLite" in line for line in postgres)
