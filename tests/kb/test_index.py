"""The faiss index: exact up to a size, HNSW past it, deletions, and its files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from guard.config import KnowledgeBaseConfig
from guard.kb.index import IndexFiles, VectorIndex

DIM = 16


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _config(exact_search_max: int) -> KnowledgeBaseConfig:
    return KnowledgeBaseConfig(exact_search_max=exact_search_max, hnsw_m=8, hnsw_ef_construction=40, hnsw_ef_search=64)


def _build(n: int, exact_search_max: int) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    ids, vectors = np.arange(1, n + 1, dtype=np.int64), _vectors(n)
    return VectorIndex.build(ids, vectors, _config(exact_search_max)), ids, vectors


def test_index_is_exact_up_to_exact_search_max_and_hnsw_past_it():
    assert _build(100, exact_search_max=100)[0].kind == "exact"
    assert _build(101, exact_search_max=100)[0].kind == "hnsw"


def test_search_returns_the_nearest_chunk_ids_best_first():
    index, ids, vectors = _build(50, exact_search_max=100)

    results = index.search(vectors[7], k=3, ef_search=64)

    assert results[0][0] == ids[7] and results[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in results] == sorted((s for _, s in results), reverse=True)


def test_growing_past_exact_search_max_rebuilds_as_hnsw():
    index, ids, vectors = _build(90, exact_search_max=100)
    extra_ids, extra = np.arange(1000, 1020, dtype=np.int64), _vectors(20, seed=1)
    everything = (np.concatenate([ids, extra_ids]), np.vstack([vectors, extra]))

    grown = index.updated(extra_ids, extra, np.zeros(0, np.int64), _config(100), lambda: everything)

    assert grown.kind == "hnsw" and grown.live == 110
    assert grown.search(extra[3], k=1, ef_search=64)[0][0] == 1003


def test_exact_index_deletes_removed_chunks():
    index, ids, vectors = _build(50, exact_search_max=100)

    smaller = index.updated(np.zeros(0, np.int64), vectors[:0], ids[:5], _config(100), lambda: pytest.fail("no rebuild"))

    assert smaller.size == smaller.live == 45
    assert all(i not in ids[:5] for i, _ in smaller.search(vectors[0], k=45, ef_search=64))


def test_hnsw_search_skips_removed_chunks_as_tombstones():
    index, ids, vectors = _build(200, exact_search_max=10)

    smaller = index.updated(np.zeros(0, np.int64), vectors[:0], ids[:10], _config(10), lambda: pytest.fail("no rebuild"))

    assert smaller.size == 200 and smaller.live == 190
    found = [i for i, _ in smaller.search(vectors[0], k=20, ef_search=64)]
    assert len(found) == 20 and not set(found) & set(ids[:10].tolist())


def test_hnsw_is_rebuilt_once_tombstones_pass_a_fifth():
    index, ids, vectors = _build(200, exact_search_max=10)

    rebuilt = index.updated(np.zeros(0, np.int64), vectors[:0], ids[:41], _config(10),
                            lambda: (ids[41:], vectors[41:]))

    assert rebuilt.size == rebuilt.live == 159 and rebuilt.tombstones.size == 0


def test_update_leaves_the_current_index_untouched():
    index, ids, vectors = _build(50, exact_search_max=100)

    index.updated(ids[:0], vectors[:0], ids[:10], _config(100), lambda: pytest.fail("no rebuild"))

    assert index.size == 50


def test_restored_hnsw_index_recovers_its_tombstones():
    index, ids, _ = _build(200, exact_search_max=10)

    restored = VectorIndex.restore(index.index, live_ids=ids[3:])

    assert restored is not None and sorted(restored.tombstones.tolist()) == ids[:3].tolist()


def test_index_missing_a_live_chunk_is_not_restored():
    index, ids, _ = _build(20, exact_search_max=100)

    assert VectorIndex.restore(index.index, live_ids=np.append(ids, 999)) is None


def test_index_file_round_trips_and_old_generations_are_pruned(tmp_path: Path):
    files = IndexFiles(tmp_path)
    index, ids, vectors = _build(20, exact_search_max=100)
    files.write(index, 1)
    files.write(index, 2)
    (tmp_path / ".vectors-leftover.tmp").write_bytes(b"half a file")

    files.prune(keep={2})

    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors-00000002.faiss"]
    loaded = VectorIndex.restore(files.read(2), ids)
    assert loaded.search(vectors[4], k=1, ef_search=64)[0][0] == ids[4]


def test_unreadable_index_file_reads_as_missing(tmp_path: Path):
    files = IndexFiles(tmp_path)
    files.path(3).write_bytes(b"not a faiss index")

    assert files.read(3) is None and files.read(4) is None
