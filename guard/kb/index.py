"""The dense side: chunk vectors in faiss, searched by inner product (cosine, as vectors are normalised).

Up to ``exact_search_max`` chunks the index is exact (``IndexFlatIP``); past it,
HNSW. HNSW cannot delete, so a removed chunk becomes a tombstone that searches
filter out, and the graph is rebuilt from the stored vectors once tombstones
pass a fifth of it. The ids are the chunks' SQLite row ids.

An index is never changed in place: an ingest builds the next one beside the
current, so searches keep answering from a whole index while it runs.

Files are numbered by the knowledge base's generation (``vectors-00000007.faiss``)
and each is written to a temporary file, flushed, then moved into place with
``os.replace``. The generation in SQLite is committed only after the move, so
whatever stops an ingest, the committed generation names a complete file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

from guard.config import KnowledgeBaseConfig

Kind = Literal["exact", "hnsw"]
TOMBSTONE_LIMIT = 0.2
_EMPTY = np.zeros(0, dtype=np.int64)


class VectorIndex:
    def __init__(self, index: faiss.IndexIDMap2, tombstones: np.ndarray = _EMPTY):
        self.index = index
        self.tombstones = tombstones
        self.kind: Kind = "hnsw" if isinstance(faiss.downcast_index(index.index), faiss.IndexHNSW) else "exact"
        self._selector = None
        if tombstones.size:
            self._dead = faiss.IDSelectorBatch(tombstones)  # kept: the Not selector only points at it
            self._selector = faiss.IDSelectorNot(self._dead)

    @property
    def size(self) -> int:
        """Vectors held, tombstones included."""
        return int(self.index.ntotal)

    @property
    def live(self) -> int:
        return self.size - int(self.tombstones.size)

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, config: KnowledgeBaseConfig) -> VectorIndex:
        dim = vectors.shape[1]
        if len(ids) <= config.exact_search_max:
            inner: faiss.Index = faiss.IndexFlatIP(dim)
        else:
            inner = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = config.hnsw_ef_construction
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        return cls(index)

    def updated(self, add_ids: np.ndarray, add_vectors: np.ndarray, remove_ids: np.ndarray,
                config: KnowledgeBaseConfig, all_vectors: Callable[[], tuple[np.ndarray, np.ndarray]]) -> VectorIndex:
        """The next index: this one plus and minus some chunks, or rebuilt from ``all_vectors`` when due."""
        live_after = self.live + len(add_ids) - len(remove_ids)
        kind_after: Kind = "exact" if live_after <= config.exact_search_max else "hnsw"
        tombstones = np.union1d(self.tombstones, remove_ids) if self.kind == "hnsw" else _EMPTY
        if kind_after != self.kind or tombstones.size > TOMBSTONE_LIMIT * (self.size + len(add_ids)):
            return VectorIndex.build(*all_vectors(), config)
        index = faiss.clone_index(self.index)
        if self.kind == "exact" and len(remove_ids):
            index.remove_ids(np.asarray(remove_ids, dtype=np.int64))
        if len(add_ids):
            index.add_with_ids(np.ascontiguousarray(add_vectors, dtype=np.float32), add_ids)
        return VectorIndex(index, tombstones)

    @classmethod
    def restore(cls, index: faiss.IndexIDMap2, live_ids: np.ndarray) -> VectorIndex | None:
        """The loaded index with its tombstones, or None when it does not hold exactly the live chunks."""
        ids = faiss.vector_to_array(index.id_map)
        if not np.isin(live_ids, ids).all():
            return None
        restored = cls(index, np.setdiff1d(ids, live_ids))
        return None if restored.kind == "exact" and restored.tombstones.size else restored

    def search(self, query: np.ndarray, k: int, ef_search: int) -> list[tuple[int, float]]:
        """(chunk row id, cosine) for the ``k`` nearest chunks, best first."""
        if self.live == 0:
            return []
        params = None
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW()
            params.efSearch = max(ef_search, k)
            if self._selector is not None:
                params.sel = self._selector
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32),
                                        min(k, self.live), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]


class IndexFiles:
    """Generation-numbered index files in the knowledge base's folder."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, generation: int) -> Path:
        return self.folder / f"vectors-{generation:08d}.faiss"

    def read(self, generation: int) -> faiss.IndexIDMap2 | None:
        path = self.path(generation)
        if not path.exists():
            return None
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:
            return None  # unreadable: the caller rebuilds from the stored vectors
        return index if isinstance(index, faiss.IndexIDMap2) else None

    def write(self, index: VectorIndex, generation: int) -> None:
        """Atomically: a reader sees the old file or the whole new one, never part of it."""
        temp = str(self.folder / f".vectors-{uuid.uuid4().hex}.tmp")
        try:
            faiss.write_index(index.index, temp)
            _fsync(temp)
            os.replace(temp, self.path(generation))
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _fsync(self.folder)

    def prune(self, keep: set[int]) -> None:
        """Delete index files of other generations and temporary files left by interrupted writes."""
        keep_names = {self.path(g).name for g in keep}
        for path in [*self.folder.glob("vectors-*.faiss"), *self.folder.glob(".vectors-*.tmp")]:
            if path.name not in keep_names:
                path.unlink(missing_ok=True)


def _fsync(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
