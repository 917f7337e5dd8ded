"""The local backend: chunks, vectors and the BM25 index in one SQLite file, the dense index in faiss files.

Folder layout: ``chunks.sqlite3`` (metadata, vectors, BM25 index; the source of
truth) and ``vectors-<generation>.faiss`` (the dense index, derived from it).
One process writes at a time (SQLite's write lock); any number search, and a
long-running process picks up another process's ingest on its next search.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from guard.config import KnowledgeBaseConfig
from guard.errors import KnowledgeBaseError
from guard.kb import lexical
from guard.kb.backend import DocumentVersion, IndexFigures
from guard.kb.index import IndexFiles, VectorIndex
from guard.kb.store import Chunk, FileRecord, Store, Writer
from guard.logs import get_logger

DATABASE = "chunks.sqlite3"

log = get_logger()


class LocalBackend:
    def __init__(self, config: KnowledgeBaseConfig, store: Store, folder: Path):
        self.config = config
        self.folder = folder
        self.store = store
        self._files = IndexFiles(folder)
        self._lock = threading.Lock()  # one writer or index swap at a time in this process
        self._index: VectorIndex | None = None
        self._generation = -1
        self._refresh()

    @classmethod
    def open(cls, config: KnowledgeBaseConfig) -> LocalBackend:
        """The knowledge base at ``config.path``, creating an empty one if the folder does not exist."""
        folder = Path(config.path).expanduser()
        if folder.exists() and not folder.is_dir():
            raise KnowledgeBaseError(f"knowledge base path {folder} is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        return cls(config, Store(folder / DATABASE), folder)

    @staticmethod
    def counts_at(config: KnowledgeBaseConfig) -> tuple[int, int] | None:
        """(files, chunks) at ``config.path`` without creating anything; None when none was built there."""
        database = Path(config.path).expanduser() / DATABASE
        if not database.is_file():
            return None
        store = Store(database)
        try:
            return store.counts()
        finally:
            store.close()

    # -- reading --------------------------------------------------------------

    def recorded_model(self) -> tuple[str, int] | None:
        model, dim = self.store.meta("embedding_model"), self.store.meta("dim")
        return (model, int(dim)) if model and dim else None

    def files(self) -> dict[str, FileRecord]:
        return self.store.files()

    def counts(self) -> tuple[int, int]:
        return self.store.counts()

    def generation(self) -> int:
        self._refresh()
        return self._generation

    def dense(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        self._refresh()
        index = self._index
        return index.search(vector, k, self.config.hnsw_ef_search) if index is not None else []

    def lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        return lexical.search(self.store, query, k)

    def chunks(self, row_ids: Sequence[int], query: np.ndarray) -> dict[int, tuple[Chunk, float]]:
        return {row: (chunk, float(vector @ query)) for row, (chunk, vector) in self.store.chunks(row_ids).items()}

    def documents(self) -> Iterator[DocumentVersion]:
        recorded = self.recorded_model()
        for record in self.store.files().values():
            rows = self.store.read("SELECT id FROM chunks WHERE file_id = ? ORDER BY id", (record.id,))
            found = self.store.chunks([row for row, in rows])
            pairs = [found[row] for row, in rows]
            (size, ingested), = self.store.read("SELECT bytes, ingested_at FROM files WHERE id = ?", (record.id,))
            vectors = np.vstack([v for _, v in pairs]) if pairs else np.zeros((0, recorded[1] if recorded else 0),
                                                                              dtype=np.float32)
            yield DocumentVersion(record.path, record.doc_key, record.content_hash, record.chunking, size,
                                  [c for c, _ in pairs], vectors)

    def figures(self) -> IndexFigures:
        self._refresh()
        index = self._index
        return IndexFigures(location=str(self.folder), index=index.kind if index is not None else "none",
                            indexed_vectors=index.size if index is not None else 0,
                            bytes=sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file()))

    # -- writing --------------------------------------------------------------

    def commit(self, versions: Sequence[DocumentVersion], gone: Sequence[FileRecord], planned_at: int) -> int:
        """Apply every change in one transaction, with the next index file in place before it commits."""
        with self._lock, self.store.write() as writer:
            if writer.generation() != planned_at:
                raise KnowledgeBaseError("the knowledge base changed in another process during this ingest; "
                                         "nothing was changed, run it again")
            replaced = [v.previous for v in versions if v.previous is not None]
            old_rows = np.array(writer.chunk_rows_of(r.id for r in [*replaced, *gone]), dtype=np.int64)
            writer.delete_chunks(r.id for r in [*replaced, *gone])
            writer.delete_files(r.id for r in gone)
            now = time.time()
            file_ids = {v.path: writer.save_file(v.path, v.doc_key, v.content_hash, v.chunking, v.size, now)
                        for v in versions}
            chunks = [c for v in versions for c in v.chunks]
            vectors = (np.vstack([v.vectors for v in versions if len(v.chunks)]) if chunks
                       else np.zeros((0, 0), dtype=np.float32))
            new_rows = writer.insert_chunks(file_ids, chunks, vectors)
            index = self._next_index(writer, new_rows, vectors, old_rows)
            self._files.prune(keep={planned_at})
            if index is not None:
                self._files.write(index, planned_at + 1)
                if vectors.size:
                    writer.set_meta("embedding_model", self.config.embedding_model)
                    writer.set_meta("dim", str(vectors.shape[1]))
            writer.set_meta("generation", str(planned_at + 1))
        self._index, self._generation = index, planned_at + 1
        self._files.prune(keep={planned_at + 1})
        return len(old_rows)

    def close(self) -> None:
        self.store.close()

    # -- internals ------------------------------------------------------------

    def _next_index(self, writer: Writer, new_rows: np.ndarray, vectors: np.ndarray,
                    old_rows: np.ndarray) -> VectorIndex | None:
        dim = self._dim(vectors)
        if dim is None:
            return None
        if self._index is None:
            return VectorIndex.build(*writer.vectors(dim), self.config)
        return self._index.updated(new_rows, vectors, old_rows, self.config, lambda: writer.vectors(dim))

    def _dim(self, vectors: np.ndarray) -> int | None:
        recorded = self.store.meta("dim")
        if recorded:
            return int(recorded)
        return int(vectors.shape[1]) if vectors.size else None

    def _refresh(self) -> None:
        """Load the committed index if it is not the one in memory (first use, or another process wrote)."""
        if self.store.generation() == self._generation:
            return
        with self._lock:
            generation = self.store.generation()
            if generation == self._generation:
                return
            self._index = self._load(generation)
            self._generation = generation

    def _load(self, generation: int) -> VectorIndex | None:
        dim = self.store.meta("dim")
        if generation == 0 or not dim:
            return None
        raw = self._files.read(generation)
        loaded = VectorIndex.restore(raw, self.store.row_ids()) if raw is not None else None
        if loaded is not None:
            return loaded
        if self.store.generation() != generation:
            return self._load(self.store.generation())  # a newer ingest committed and pruned the file meanwhile
        return self._repair(generation, int(dim))

    def _repair(self, generation: int, dim: int) -> VectorIndex:
        """Rebuild a missing or damaged index file from the stored vectors."""
        log.warning("kb_index_rebuild", path=str(self.folder), generation=generation)
        with self.store.write() as writer:
            index = VectorIndex.build(*writer.vectors(dim), self.config)
            if writer.generation() == generation:
                self._files.write(index, generation)
        return index
