"""A knowledge base folder: open it, add and remove documents, search it.

Folder layout: ``chunks.sqlite3`` (metadata, vectors, BM25 index; the source of
truth) and ``vectors-<generation>.faiss`` (the dense index, derived from it).
One process writes at a time (SQLite's write lock); any number search, and a
long-running process picks up another process's ingest on its next search.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from guard.config import KnowledgeBaseConfig
from guard.embeddings import Embedder, get_embedder
from guard.errors import KnowledgeBaseError
from guard.kb.index import IndexFiles, VectorIndex
from guard.kb.ingest import IngestPlan, build_chunks, chunking_signature, embedding_text, plan_ingest, plan_removal
from guard.kb.retrieval import Hit, hybrid_search
from guard.kb.store import Chunk, FileRecord, Store, Writer
from guard.logs import get_logger

DATABASE = "chunks.sqlite3"
EMBED_BATCH = 256  # texts per progress step; the embedder batches further inside

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)
log = get_logger()


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files in added folders of a type guard does not read
    not_found: list[str] = field(default_factory=list)  # paths given to remove that match no document
    chunks_added: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Stats:
    path: str
    files: int
    chunks: int
    index: str  # "exact", "hnsw" or "none" (empty)
    indexed_vectors: int  # chunks plus HNSW tombstones awaiting a rebuild
    embedding_model: str
    dim: int | None
    generation: int
    bytes_on_disk: int


class KnowledgeBase:
    def __init__(self, config: KnowledgeBaseConfig, store: Store, folder: Path):
        self.config = config
        self.folder = folder
        self.store = store
        self._files = IndexFiles(folder)
        self._lock = threading.Lock()  # one writer or index swap at a time in this process
        self._index: VectorIndex | None = None
        self._generation = -1
        recorded = store.meta("embedding_model")
        if recorded is not None and recorded != config.embedding_model:
            raise KnowledgeBaseError(
                f"{folder} was built with embedding model {recorded!r} but the config says {config.embedding_model!r}; "
                f"set knowledge_base.embedding_model back, or delete the folder and ingest again")
        self._refresh()

    @classmethod
    def open(cls, config: KnowledgeBaseConfig) -> KnowledgeBase:
        """Open the knowledge base at ``config.path``, creating an empty one if the folder does not exist."""
        folder = Path(config.path).expanduser()
        if folder.exists() and not folder.is_dir():
            raise KnowledgeBaseError(f"knowledge base path {folder} is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        return cls(config, Store(folder / DATABASE), folder)

    @staticmethod
    def counts_at(config: KnowledgeBaseConfig) -> tuple[int, int] | None:
        """(files, chunks) of the knowledge base at ``config.path``, or None when none was built there.

        Reads only its metadata and creates nothing: for a server to say what it will ground answers in.
        """
        database = Path(config.path).expanduser() / DATABASE
        if not database.is_file():
            return None
        store = Store(database)
        try:
            return store.counts()
        finally:
            store.close()

    # -- reading --------------------------------------------------------------

    def search(self, query: str, k: int = 5, min_relevance: float = 0.0) -> list[Hit]:
        """The ``k`` best chunks for ``query`` whose relevance reaches ``min_relevance`` (see ``retrieval``)."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError("the search query is empty")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if self.empty:
            return []
        vector = self._embedder().encode([query])[0]
        return hybrid_search(query, vector, self._index, self.store, k=k, min_relevance=min_relevance,
                             ef_search=self.config.hnsw_ef_search)

    @property
    def empty(self) -> bool:
        """True when there is no chunk to search."""
        self._refresh()
        return self._index is None or self._index.live == 0

    def stats(self) -> Stats:
        self._refresh()
        files, chunks = self.store.counts()
        dim = self.store.meta("dim")
        return Stats(
            path=str(self.folder), files=files, chunks=chunks,
            index=self._index.kind if self._index is not None else "none",
            indexed_vectors=self._index.size if self._index is not None else 0,
            embedding_model=self.store.meta("embedding_model") or self.config.embedding_model,
            dim=int(dim) if dim else None, generation=self._generation,
            bytes_on_disk=sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file()),
        )

    # -- writing --------------------------------------------------------------

    def add(self, paths: Iterable[str | Path], progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders (recursively); a folder's files no longer on disk are removed."""
        started = time.perf_counter()
        self._refresh()
        generation = self._generation
        known = self.store.files()
        plan = plan_ingest(paths, known, chunking_signature(self.config))
        report = IngestReport(unchanged=plan.unchanged, skipped=plan.skipped, removed=[r.path for r in plan.gone],
                              added=[str(c.path) for c in plan.changed if c.record is None],
                              updated=[str(c.path) for c in plan.changed if c.record is not None])
        if plan.changed or plan.gone:
            keys, chunks = build_chunks(plan.changed, known, self.config)
            vectors = self._embed([embedding_text(c) for c in chunks], progress)
            report.chunks_removed = self._commit(generation, plan, keys, chunks, vectors)
            report.chunks_added = len(chunks)
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, paths: Iterable[str | Path]) -> IngestReport:
        """Forget the documents at these paths (files or folders; they need not exist on disk any more)."""
        started = time.perf_counter()
        self._refresh()
        generation = self._generation
        gone, not_found = plan_removal(paths, self.store.files())
        report = IngestReport(removed=[r.path for r in gone], not_found=not_found)
        if gone:
            report.chunks_removed = self._commit(generation, IngestPlan(gone=gone), [], [], np.zeros((0, 0), np.float32))
        report.seconds = time.perf_counter() - started
        return report

    def close(self) -> None:
        self.store.close()

    # -- internals ------------------------------------------------------------

    def _embedder(self) -> Embedder:
        return get_embedder(self.config.embedding_model)

    def _embed(self, texts: list[str], progress: Progress | None) -> np.ndarray:
        embedder = self._embedder()
        parts: list[np.ndarray] = []
        for start in range(0, len(texts), EMBED_BATCH):
            parts.append(embedder.encode(texts[start:start + EMBED_BATCH]))
            if progress is not None:
                progress(min(start + EMBED_BATCH, len(texts)), len(texts))
        return np.vstack(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)

    def _commit(self, generation: int, plan: IngestPlan, keys: list[str], chunks: list[Chunk],
                vectors: np.ndarray) -> int:
        """Apply a plan in one transaction, with the next index file in place before it commits.

        Returns how many chunks were removed.
        """
        with self._lock, self.store.write() as writer:
            if writer.generation() != generation:
                raise KnowledgeBaseError("the knowledge base changed in another process during this ingest; "
                                         "nothing was changed, run it again")
            replaced: list[FileRecord] = [c.record for c in plan.changed if c.record is not None]
            old_rows = np.array(writer.chunk_rows_of(r.id for r in [*replaced, *plan.gone]), dtype=np.int64)
            writer.delete_chunks(r.id for r in [*replaced, *plan.gone])
            writer.delete_files(r.id for r in plan.gone)
            now = time.time()
            file_ids = {str(c.path): writer.save_file(str(c.path), key, c.content_hash, chunking_signature(self.config),
                                                      c.size, now) for c, key in zip(plan.changed, keys)}
            new_rows = writer.insert_chunks(file_ids, chunks, vectors)
            index = self._next_index(writer, new_rows, vectors, old_rows)
            self._files.prune(keep={generation})
            if index is not None:
                self._files.write(index, generation + 1)
                self._record_model(writer, vectors)
            writer.set_meta("generation", str(generation + 1))
        self._index, self._generation = index, generation + 1
        self._files.prune(keep={generation + 1})
        return len(old_rows)

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

    def _record_model(self, writer: Writer, vectors: np.ndarray) -> None:
        if vectors.size:
            writer.set_meta("embedding_model", self.config.embedding_model)
            writer.set_meta("dim", str(vectors.shape[1]))

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
