"""An interrupted ingest leaves the previous knowledge base whole and searchable."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from guard.kb import KnowledgeBase
from guard.kb import index as index_module

LOYALTY = "# Loyalty points\n\nEvery order earns one loyalty point per euro spent.\n"
OLD_QUESTION = "How many days do I have to send an item back?"


@pytest.fixture
def new_page(tmp_path: Path) -> Path:
    page = tmp_path / "loyalty.md"
    page.write_text(LOYALTY)
    return page


def _index_files(kb_config) -> list[str]:
    return sorted(p.name for p in Path(kb_config.path).iterdir() if "vectors" in p.name)


def _assert_previous_state(kb_config, generation: int) -> None:
    reopened = KnowledgeBase.open(kb_config)
    assert reopened.stats().generation == generation
    assert reopened.search(OLD_QUESTION, k=1)[0].chunk.id == "refund_policy.md#c0"
    assert all(h.chunk.id != "loyalty.md#c0" for h in reopened.search("loyalty points", k=5))
    reopened.close()


def test_failure_after_the_temp_file_is_written_keeps_the_previous_index(kb, kb_config, new_page, monkeypatch):
    generation = kb.stats().generation

    def crash(source, target):
        assert Path(source).stat().st_size > 0  # the new index was fully written to its temp file
        raise OSError("disk vanished")

    monkeypatch.setattr(index_module.os, "replace", crash)
    with pytest.raises(OSError, match="disk vanished"):
        kb.add([new_page])
    monkeypatch.undo()

    assert kb.search(OLD_QUESTION, k=1)[0].chunk.id == "refund_policy.md#c0"  # the open instance still answers
    _assert_previous_state(kb_config, generation)


def test_failure_after_the_new_file_is_in_place_but_before_commit_keeps_the_previous_index(
        kb, kb_config, new_page, monkeypatch):
    generation = kb.stats().generation
    real_fsync = index_module._fsync

    def crash_on_folder_sync(path):
        if Path(path).is_dir():
            raise OSError("power cut")
        real_fsync(path)

    monkeypatch.setattr(index_module, "_fsync", crash_on_folder_sync)
    with pytest.raises(OSError, match="power cut"):
        kb.add([new_page])
    monkeypatch.undo()

    assert len(_index_files(kb_config)) == 2  # the uncommitted next generation is on disk...
    _assert_previous_state(kb_config, generation)  # ...and ignored


def test_process_killed_mid_write_leaves_the_previous_index_usable(kb, kb_config, docs):
    generation = kb.stats().generation
    script = textwrap.dedent(f"""
        import os
        from guard.config import KnowledgeBaseConfig
        from guard.kb import KnowledgeBase, index

        def die(source, target):
            os._exit(17)  # killed between writing the next index and moving it into place

        index.os.replace = die
        kb = KnowledgeBase.open(KnowledgeBaseConfig(**{kb_config.model_dump(mode="json")!r}))
        kb.remove([{str(docs / "warranty.txt")!r}])
    """)
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)

    assert killed.returncode == 17, killed.stderr
    assert any(name.endswith(".tmp") for name in _index_files(kb_config))  # the dead writer's half-done file
    reopened = KnowledgeBase.open(kb_config)
    assert reopened.stats().generation == generation
    assert reopened.search("is water damage covered by the warranty", k=1)[0].chunk.id == "warranty.txt#c0"
    reopened.close()


def test_next_ingest_clears_files_left_by_an_interrupted_one(kb, kb_config, new_page):
    Path(kb_config.path, ".vectors-0123abcd.tmp").write_bytes(b"partial")
    Path(kb_config.path, "vectors-00000099.faiss").write_bytes(b"uncommitted")

    kb.add([new_page])

    assert _index_files(kb_config) == [f"vectors-{kb.stats().generation:08d}.faiss"]


def test_missing_index_file_is_rebuilt_from_the_stored_vectors(kb_config, docs):
    for name in _index_files(kb_config):
        Path(kb_config.path, name).unlink()

    rebuilt = KnowledgeBase.open(kb_config)

    assert rebuilt.search(OLD_QUESTION, k=1)[0].chunk.id == "refund_policy.md#c0"
    assert _index_files(kb_config) == [f"vectors-{rebuilt.stats().generation:08d}.faiss"]
    rebuilt.close()
