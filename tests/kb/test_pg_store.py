"""The PostgreSQL backend's own promises: named knowledge bases, per-document atomicity, the extension, migration."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from guard.adapters.kb_cli import kb_app
from guard.config import KnowledgeBaseConfig
from guard.errors import KnowledgeBaseError
from guard.kb import KnowledgeBase
from guard.kb import knowledge_base as knowledge_base_module
from guard.store.engine import database_url
from tests.kb.conftest import postgres_copy

POSTGRES_URL = os.environ.get("GUARD_TEST_POSTGRES_URL")  # Debian's, without pgvector; read at import: the
# autouse fixture clears GUARD_*


@pytest.fixture
def pg_config(local_kb_config: KnowledgeBaseConfig, pgvector_url: str) -> KnowledgeBaseConfig:
    """An empty knowledge base of its own in the session's pgvector server."""
    return local_kb_config.model_copy(update={"backend": "postgres", "database": pgvector_url,
                                              "name": f"test-{uuid.uuid4().hex[:12]}"})


def _ids(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.chunk.id for hit in kb.search(query, k=10)]


def test_named_knowledge_bases_in_one_database_keep_their_own_documents(pg_config, docs):
    first = KnowledgeBase.open(pg_config)
    second = KnowledgeBase.open(pg_config.model_copy(update={"name": pg_config.name + "-other"}))

    first.add([docs / "warranty.txt"])
    second.add([docs / "refund_policy.md"])

    assert first.stats().files == second.stats().files == 1
    assert not any(i.startswith("refund_policy") for i in _ids(first, "how many days to return an item"))
    assert not any(i.startswith("warranty") for i in _ids(second, "is water damage covered by the warranty"))
    first.close()
    second.close()


def test_ingest_killed_between_documents_leaves_every_document_whole(pg_config, docs):
    kb = KnowledgeBase.open(pg_config)
    kb.add([docs])
    for name, old, new in [("refund_policy.md", "within 30 days", "within 60 days"),
                           ("warranty.txt", "two year warranty", "five year warranty")]:
        page = docs / name
        page.write_text(page.read_text().replace(old, new))
    script = textwrap.dedent(f"""
        import os
        from guard.config import KnowledgeBaseConfig
        from guard.kb import KnowledgeBase, pg_store

        replace, done = pg_store.PostgresBackend._replace, []
        def replace_once(self, conn, version):
            if done:
                os._exit(17)  # killed while the second document's transaction is open
            done.append(version.path)
            return replace(self, conn, version)

        pg_store.PostgresBackend._replace = replace_once
        kb = KnowledgeBase.open(KnowledgeBaseConfig(**{pg_config.model_dump(mode="json")!r}))
        kb.add([{str(docs / "refund_policy.md")!r}, {str(docs / "warranty.txt")!r}])
    """)
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)

    assert killed.returncode == 17, killed.stderr
    texts = [hit.chunk.text for hit in kb.search("how long is the warranty and how many days to return", k=10)]
    assert any("within 60 days" in t for t in texts) and not any("within 30 days" in t for t in texts)
    assert any("two year warranty" in t for t in texts)  # the unfinished document: its previous version
    report = kb.add([docs / "refund_policy.md", docs / "warranty.txt"])  # the next ingest finishes the job
    assert report.unchanged == [str(docs / "refund_policy.md")] and report.updated == [str(docs / "warranty.txt")]
    kb.close()


def test_role_that_may_not_create_the_extension_is_told_to_run_create_extension(pgvector_url, local_kb_config):
    role, database = f"kb_{uuid.uuid4().hex[:8]}", f"kb_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url(pgvector_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"CREATE DATABASE {database} OWNER {role}"))
    admin.dispose()
    url = pgvector_url.replace("postgresql://postgres:@/postgres", f"postgresql://{role}@/{database}")
    config = local_kb_config.model_copy(update={"backend": "postgres", "database": url})

    with pytest.raises(KnowledgeBaseError, match="Run CREATE EXTENSION vector in this database"):
        KnowledgeBase.open(config)


def test_migrate_copies_a_local_knowledge_base_without_embedding_again(kb_config, pg_config, tmp_path, monkeypatch):
    monkeypatch.delenv("GUARD_KNOWLEDGE_BASE__PATH", raising=False)
    config_file = tmp_path / "guard.yaml"
    config_file.write_text(f"knowledge_base:\n  path: {kb_config.path}\n  database: '{pg_config.database}'\n"
                           f"  name: {pg_config.name}\n  chunk_size: {kb_config.chunk_size}\n"
                           f"  chunk_overlap: {kb_config.chunk_overlap}\n")
    local = KnowledgeBase.open(kb_config)
    expected = local.stats()
    query = "How many days do I have to send an item back?"
    local_ids = _ids(local, query)
    local.close()

    def no_embedding(name):
        raise AssertionError("migrate must copy the stored vectors, not embed again")

    monkeypatch.setattr(knowledge_base_module, "get_embedder", no_embedding)
    first = CliRunner().invoke(kb_app, ["migrate", "--from", "local", "--to", "postgres", "-c", str(config_file)])
    again = CliRunner().invoke(kb_app, ["migrate", "--from", "local", "--to", "postgres", "-c", str(config_file)])
    monkeypatch.undo()

    assert first.exit_code == 0, first.output
    assert f"copied {expected.files} files" in first.output and "copied 0 files" in again.output
    migrated = KnowledgeBase.open(pg_config)
    assert (migrated.stats().files, migrated.stats().chunks) == (expected.files, expected.chunks)
    assert _ids(migrated, query)[0] == local_ids[0] == "refund_policy.md#c0"
    migrated.close()


def test_migrate_to_postgres_without_a_database_is_a_clear_error(kb_config, tmp_path, monkeypatch):
    monkeypatch.delenv("GUARD_KNOWLEDGE_BASE__PATH", raising=False)
    config_file = tmp_path / "guard.yaml"
    config_file.write_text(f"knowledge_base:\n  path: {kb_config.path}\n")

    result = CliRunner().invoke(kb_app, ["migrate", "--from", "local", "--to", "postgres", "-c", str(config_file)])

    assert result.exit_code == 1
    assert "knowledge_base.backend postgres needs knowledge_base.database" in result.output


def test_a_request_naming_a_knowledge_base_gets_that_name_in_the_same_database():
    from guard.config import GuardConfig, SettingsOverrides
    from guard.derive import derive_config

    base = GuardConfig(knowledge_base={"backend": "postgres", "database": "postgresql://db/guard", "name": "main"},
                       server={"knowledge_bases": {"faq": "faq"}})

    picked = derive_config(base, SettingsOverrides(knowledge_base="faq")).knowledge_base

    assert (picked.backend, picked.database, picked.name) == ("postgres", "postgresql://db/guard", "faq")


def test_a_knowledge_base_gets_its_own_hnsw_and_full_text_indexes_with_its_first_ingest(pg_config, docs):
    kb = KnowledgeBase.open(pg_config)
    kb.add([docs])

    assert kb.stats().index == "hnsw"
    assert kb.search("How many days do I have to send an item back?", k=3)[0].chunk.id == "refund_policy.md#c0"
    with create_engine(database_url(pg_config.database)).connect() as conn:
        indexes = conn.execute(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE :like"),
                               {"like": f"guard_kb_chunks_%_{kb.backend.kb_id}"}).scalars().all()
    assert sorted(indexes) == [f"guard_kb_chunks_hnsw_{kb.backend.kb_id}", f"guard_kb_chunks_tsv_{kb.backend.kb_id}"]
    kb.close()


def test_a_database_that_cannot_be_reached_is_a_clear_error(tmp_path):
    config = KnowledgeBaseConfig(backend="postgres", database=f"postgresql://guard@/guard?host={tmp_path / 'nowhere'}")

    with pytest.raises(KnowledgeBaseError, match="cannot reach the knowledge base database postgresql://guard@/guard"):
        KnowledgeBase.open(config)
    assert KnowledgeBase.counts_at(config) is None  # start-up says there is none, rather than failing


def test_an_eval_suites_documents_go_to_a_local_knowledge_base_never_the_shared_one(tmp_path):
    from rich.console import Console

    from guard.config import GuardConfig
    from guard.evals.knowledge import eval_knowledge_base

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hours.md").write_text("# Opening hours\n\nThe shop opens at nine.\n")
    shared = GuardConfig(knowledge_base={"backend": "postgres", "database": "postgresql://guard@/guard?host=/nowhere"})

    grounded = eval_knowledge_base(shared, tmp_path / "docs", Console(quiet=True)).knowledge_base

    assert grounded.backend == "local" and KnowledgeBase.counts_at(grounded) == (1, 1)


def test_workers_opening_a_fresh_database_at_once_all_get_the_knowledge_base(pgvector_url):
    database = f"kb_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url(pgvector_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {database}"))
    admin.dispose()
    config = KnowledgeBaseConfig(backend="postgres", database=pgvector_url.replace("/postgres?", f"/{database}?"))
    start = threading.Barrier(4)

    def open_at_once(_: int) -> tuple[int, int]:
        start.wait()
        kb = KnowledgeBase.open(config)
        try:
            return kb.backend.counts()
        finally:
            kb.close()

    with ThreadPoolExecutor(4) as pool:  # none fails creating the extension or the tables another just created
        assert list(pool.map(open_at_once, range(4))) == [(0, 0)] * 4


def test_migrate_back_from_postgres_to_a_new_local_folder_gives_the_same_search(local_kb_config, pgvector_url,
                                                                                tmp_path, monkeypatch):
    source_config = postgres_copy(local_kb_config, pgvector_url)
    monkeypatch.delenv("GUARD_KNOWLEDGE_BASE__PATH", raising=False)
    config_file = tmp_path / "guard.yaml"
    config_file.write_text(f"knowledge_base:\n  path: {tmp_path / 'copy'}\n  database: '{source_config.database}'\n"
                           f"  name: {source_config.name}\n")

    result = CliRunner().invoke(kb_app, ["migrate", "--from", "postgres", "--to", "local", "-c", str(config_file)])

    assert result.exit_code == 0, result.output
    copy, source = (KnowledgeBase.open(KnowledgeBaseConfig(path=tmp_path / "copy")), KnowledgeBase.open(source_config))
    query = "Customer got ERR-4012, what now?"
    assert (copy.stats().chunks, _ids(copy, query)[0]) == (source.stats().chunks, _ids(source, query)[0])
    copy.close()
    source.close()


def test_a_bulk_load_rebuilds_the_indexes_and_search_keeps_working(pg_config, docs, monkeypatch):
    from guard.kb import pg_store

    kb = KnowledgeBase.open(pg_config)
    kb.add([docs / "warranty.txt"])
    monkeypatch.setattr(pg_store, "BULK_LOAD", 1)  # adding more chunks than the knowledge base holds: a bulk load

    kb.add([docs])

    assert kb.search("How many days do I have to send an item back?", k=3)[0].chunk.id == "refund_policy.md#c0"
    with create_engine(database_url(pg_config.database)).connect() as conn:
        valid = conn.execute(text("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                  "WHERE c.relname LIKE :like AND i.indisvalid"),
                             {"like": f"guard_kb_chunks_%_{kb.backend.kb_id}"}).scalar_one()
    assert valid == 2
    kb.close()


def test_a_server_without_pgvector_is_told_to_run_create_extension(local_kb_config):
    url = POSTGRES_URL
    if not url:
        if os.environ.get("CI"):
            pytest.fail("GUARD_TEST_POSTGRES_URL is not set: CI must run this test against Debian's PostgreSQL")
        pytest.skip("GUARD_TEST_POSTGRES_URL is not set (.ci/run sets it up)")
    engine = create_engine(database_url(url))
    with engine.connect() as conn:
        available = conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).first()
    engine.dispose()
    if available:
        pytest.skip("this server has pgvector")
    config = local_kb_config.model_copy(update={"backend": "postgres", "database": url})

    with pytest.raises(KnowledgeBaseError, match=r'\(extension "vector" is not available\)\. Run CREATE EXTENSION vector'):
        KnowledgeBase.open(config)
