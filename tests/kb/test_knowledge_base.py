"""Ingest, update, delete and search: what a knowledge base user sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.config import KnowledgeBaseConfig
from guard.errors import KnowledgeBaseError
from guard.kb import KnowledgeBase
from tests.kb.conftest import ERROR_DESCRIPTIONS


@pytest.fixture
def kb_config(any_kb_config: KnowledgeBaseConfig) -> KnowledgeBaseConfig:
    """Every test here runs on both backends."""
    return any_kb_config


def _ids(hits) -> list[str]:
    return [h.chunk.id for h in hits]


def test_ingest_then_search_finds_the_right_chunk(kb):
    hits = kb.search("How many days do I have to send an item back?", k=3)

    assert hits[0].chunk.id == "refund_policy.md#c0"
    assert "within 30 days of delivery" in hits[0].chunk.text


def test_every_supported_format_is_searchable(kb):
    assert kb.search("how long does standard delivery take", k=1)[0].chunk.title == "Shipping times"
    assert kb.search("I forgot my password", k=1)[0].chunk.id == "faq.jsonl:password-reset#c0"
    assert kb.search("is water damage covered by the warranty", k=1)[0].chunk.id == "warranty.txt#c0"


def test_chunk_keeps_its_source_title_heading_offsets_and_metadata(kb, docs):
    chunk = kb.search("refund issued to the original payment method", k=1)[0].chunk

    source = (docs / "refund_policy.md").read_text()
    assert chunk.path == str(docs / "refund_policy.md")
    assert chunk.title == "Refund policy"
    assert chunk.heading == "Refund policy > Processing"
    assert source[chunk.start:chunk.end] == chunk.text
    assert chunk.metadata == {"audience": "customers"}


def test_jsonl_record_metadata_reaches_its_chunks(kb):
    chunk = kb.search("export my data as a zip", k=1)[0].chunk

    assert chunk.id == "faq.jsonl:data-export#c0"
    assert chunk.metadata == {"team": "support"}


def test_readding_unchanged_files_does_nothing(kb, docs):
    before = kb.stats()

    report = kb.add([docs])

    assert report.added == report.updated == report.removed == []
    assert len(report.unchanged) == 5 and report.chunks_added == 0
    assert kb.stats().generation == before.generation


def test_changed_file_replaces_its_chunks(kb, docs):
    policy = docs / "refund_policy.md"
    policy.write_text(policy.read_text().replace("within 30 days", "within 60 days"))

    report = kb.add([policy])

    assert report.updated == [str(policy)] and report.chunks_removed == report.chunks_added
    texts = [h.chunk.text for h in kb.search("how many days to return an item", k=10)]
    assert any("within 60 days" in t for t in texts)
    assert not any("within 30 days" in t for t in texts)


def test_chunk_ids_are_stable_across_an_update(kb, docs):
    before = _ids(kb.search("refund policy", k=20))
    policy = docs / "refund_policy.md"
    policy.write_text(policy.read_text().replace("5 business days", "7 business days"))

    kb.add([policy])

    assert sorted(_ids(kb.search("refund policy", k=20))) == sorted(before)


def test_removed_file_is_no_longer_found(kb, docs):
    report = kb.remove([docs / "warranty.txt"])

    assert report.removed == [str(docs / "warranty.txt")] and report.chunks_removed == 1
    assert "warranty.txt#c0" not in _ids(kb.search("two year warranty on devices", k=10))
    assert kb.stats().files == 4


def test_removing_an_unknown_path_reports_it(kb, tmp_path):
    report = kb.remove([tmp_path / "never-added.md"])

    assert report.removed == [] and report.not_found == [str(tmp_path / "never-added.md")]


def test_adding_a_folder_again_removes_its_files_deleted_from_disk(kb, docs):
    (docs / "warranty.txt").unlink()

    report = kb.add([docs])

    assert report.removed == [str(docs / "warranty.txt")]
    assert "warranty.txt#c0" not in _ids(kb.search("two year warranty on devices", k=10))


def test_new_chunk_settings_rechunk_unchanged_files(kb_config, docs, kb):
    chunks_before = kb.stats().chunks
    smaller = KnowledgeBase.open(kb_config.model_copy(update={"chunk_size": 150, "chunk_overlap": 0}))

    report = smaller.add([docs])

    assert len(report.updated) == 5 and report.unchanged == []
    assert smaller.stats().chunks > chunks_before
    smaller.close()


def test_exact_code_is_found_through_the_lexical_side(kb):
    hits = kb.search("ERR-4012", k=len(ERROR_DESCRIPTIONS))
    dense_order = sorted(hits, key=lambda h: -h.dense)

    assert _ids(dense_order).index("errors.md#c4") > 0  # dense alone ranks it below another code
    assert hits[0].chunk.id == "errors.md#c4"
    assert hits[0].lexical is not None and hits[0].relevance == 1.0


def test_relevance_floor_drops_unrelated_chunks(kb):
    assert kb.search("what is the boiling point of mercury", k=5, min_relevance=0.3) == []


def test_bad_file_leaves_the_knowledge_base_unchanged(kb, docs):
    (docs / "broken.jsonl").write_text('{"title": "no text here"}\n')
    (docs / "new.md").write_text("# New\n\nA brand new page.\n")
    before = kb.stats()

    with pytest.raises(KnowledgeBaseError, match=r"broken.jsonl:1: each line must be an object with a string 'text'"):
        kb.add([docs])

    assert kb.stats() == before


def test_other_embedding_model_is_refused(kb, kb_config):
    with pytest.raises(KnowledgeBaseError, match="was built with embedding model 'all-MiniLM-L6-v2'"):
        KnowledgeBase.open(kb_config.model_copy(update={"embedding_model": "some/other-model"}))


def test_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "kb").write_text("not a folder")

    with pytest.raises(KnowledgeBaseError, match="is a file, not a folder"):
        KnowledgeBase.open(KnowledgeBaseConfig(path=tmp_path / "kb"))


def test_empty_query_is_a_clear_error(kb):
    with pytest.raises(ValueError, match="query is empty"):
        kb.search("   ")


def test_an_open_knowledge_base_sees_another_writers_ingest(kb, kb_config, tmp_path):
    other = KnowledgeBase.open(kb_config)
    page = tmp_path / "loyalty.md"
    page.write_text("# Loyalty points\n\nEvery order earns one loyalty point per euro spent.\n")

    other.add([page])

    assert kb.search("how do I earn loyalty points", k=1)[0].chunk.id == "loyalty.md#c0"
    other.close()


def test_same_file_name_in_two_folders_gets_distinct_ids(kb, tmp_path: Path):
    copy = tmp_path / "archive" / "refund_policy.md"
    copy.parent.mkdir()
    copy.write_text("# Old refund policy\n\nIn 2019 refunds took 14 days.\n")

    kb.add([copy])

    assert kb.search("how long did refunds take in 2019", k=1)[0].chunk.id == "archive/refund_policy.md#c0"


def test_folder_holding_something_else_is_refused(tmp_path: Path):
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "chunks.sqlite3").write_bytes(b"these are not the bytes of a database" * 100)

    with pytest.raises(KnowledgeBaseError, match="not a guard knowledge base"):
        KnowledgeBase.open(KnowledgeBaseConfig(path=tmp_path / "kb"))
