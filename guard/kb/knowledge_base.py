"""A knowledge base: open it, add and remove documents, search it, whichever backend keeps it.

``knowledge_base.backend`` picks where: ``local`` (a folder of faiss and SQLite
files, ``guard.kb.local``) or ``postgres`` (pgvector tables shared by every
worker, ``guard.kb.pg_store``). Planning an ingest, chunking, embedding and
fusing search results happen here, the same for both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from guard.config import KnowledgeBaseConfig
from guard.embeddings import Embedder, get_embedder
from guard.errors import KnowledgeBaseError
from guard.kb.backend import Backend, DocumentVersion
from guard.kb.ingest import build_chunks, chunking_signature, embedding_text, plan_ingest, plan_removal
from guard.kb.local import LocalBackend
from guard.kb.retrieval import Hit, hybrid_search

EMBED_BATCH = 256  # texts per progress step; the embedder batches further inside

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


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
    path: str  # the folder, or the database and the knowledge base's name
    files: int
    chunks: int
    index: str  # "exact", "hnsw" or "none" (empty)
    indexed_vectors: int  # local: chunks plus HNSW tombstones awaiting a rebuild
    embedding_model: str
    dim: int | None
    generation: int
    bytes_on_disk: int


def open_backend(config: KnowledgeBaseConfig) -> Backend:
    if config.backend == "postgres":
        from guard.kb.pg_store import PostgresBackend  # here: a local knowledge base never imports pgvector

        return PostgresBackend.open(config)
    return LocalBackend.open(config)


def location(config: KnowledgeBaseConfig) -> str:
    """Where the configured knowledge base lives, for people: its folder, or its database and name."""
    if config.backend == "postgres":
        from guard.kb.pg_schema import location as in_database

        return in_database(config)
    return str(config.path)


class KnowledgeBase:
    def __init__(self, config: KnowledgeBaseConfig, backend: Backend):
        self.config = config
        self.backend = backend
        recorded = backend.recorded_model()
        if recorded is not None and recorded[0] != config.embedding_model:
            raise KnowledgeBaseError(
                f"{backend.figures().location} was built with embedding model {recorded[0]!r} but the config says "
                f"{config.embedding_model!r}; set knowledge_base.embedding_model back, or delete it and ingest again")

    @classmethod
    def open(cls, config: KnowledgeBaseConfig) -> KnowledgeBase:
        """Open the configured knowledge base, creating an empty one if there is none."""
        return cls(config, open_backend(config))

    @staticmethod
    def counts_at(config: KnowledgeBaseConfig) -> tuple[int, int] | None:
        """(files, chunks) of the configured knowledge base, or None when none was built there.

        Creates nothing: for a server to say what it will ground answers in.
        """
        if config.backend == "postgres":
            from guard.kb.pg_store import PostgresBackend

            return PostgresBackend.counts_at(config)
        return LocalBackend.counts_at(config)

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
        return hybrid_search(query, vector, self.backend, k=k, min_relevance=min_relevance)

    @property
    def empty(self) -> bool:
        """True when there is no chunk to search."""
        return self.backend.counts()[1] == 0

    def stats(self) -> Stats:
        files, chunks = self.backend.counts()
        recorded = self.backend.recorded_model()
        figures = self.backend.figures()
        return Stats(path=figures.location, files=files, chunks=chunks, index=figures.index,
                     indexed_vectors=figures.indexed_vectors,
                     embedding_model=recorded[0] if recorded else self.config.embedding_model,
                     dim=recorded[1] if recorded else None, generation=self.backend.generation(),
                     bytes_on_disk=figures.bytes)

    # -- writing --------------------------------------------------------------

    def add(self, paths: Iterable[str | Path], progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders (recursively); a folder's files no longer on disk are removed."""
        started = time.perf_counter()
        generation = self.backend.generation()
        known = self.backend.files()
        signature = chunking_signature(self.config)
        plan = plan_ingest(paths, known, signature)
        report = IngestReport(unchanged=plan.unchanged, skipped=plan.skipped, removed=[r.path for r in plan.gone],
                              added=[str(c.path) for c in plan.changed if c.record is None],
                              updated=[str(c.path) for c in plan.changed if c.record is not None])
        if plan.changed or plan.gone:
            keys, chunks = build_chunks(plan.changed, known, self.config)
            vectors = self._embed([embedding_text(c) for c in chunks], progress)
            versions = [DocumentVersion(str(c.path), key, c.content_hash, signature, c.size, [], vectors[:0], c.record)
                        for c, key in zip(plan.changed, keys)]
            by_path = {v.path: v for v in versions}
            rows: dict[str, list[int]] = {}
            for row, chunk in enumerate(chunks):
                by_path[chunk.path].chunks.append(chunk)
                rows.setdefault(chunk.path, []).append(row)
            for path, taken in rows.items():
                by_path[path].vectors = vectors[taken]
            report.chunks_removed = self.backend.commit(versions, plan.gone, generation)
            report.chunks_added = len(chunks)
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, paths: Iterable[str | Path]) -> IngestReport:
        """Forget the documents at these paths (files or folders; they need not exist on disk any more)."""
        started = time.perf_counter()
        generation = self.backend.generation()
        gone, not_found = plan_removal(paths, self.backend.files())
        report = IngestReport(removed=[r.path for r in gone], not_found=not_found)
        if gone:
            report.chunks_removed = self.backend.commit([], gone, generation)
        report.seconds = time.perf_counter() - started
        return report

    def copy_from(self, source: KnowledgeBase, progress: Progress | None = None) -> int:
        """Copy every document of ``source`` here with its vectors (no re-embedding); returns the documents copied.

        Documents already here with the same content and chunking are left as they are, so a copy that
        stopped half-way is finished by running it again.
        """
        recorded, here = source.backend.recorded_model(), self.backend.recorded_model()
        if recorded is not None and here is not None and recorded != here:
            raise KnowledgeBaseError(f"cannot copy vectors of {recorded[0]!r} ({recorded[1]} dimensions) into a "
                                     f"knowledge base of {here[0]!r} ({here[1]} dimensions)")
        if recorded is not None and recorded[0] != self.config.embedding_model:
            raise KnowledgeBaseError(f"the source was built with {recorded[0]!r} but the config says "
                                     f"{self.config.embedding_model!r}")
        total = source.backend.counts()[0]
        copied = 0
        for done, version in enumerate(source.backend.documents(), 1):
            known = self.backend.files().get(version.path)
            if known is None or (known.content_hash, known.chunking) != (version.content_hash, version.chunking):
                version.previous = known
                self.backend.commit([version], [], self.backend.generation())
                copied += 1
            if progress is not None:
                progress(done, total)
        return copied

    def close(self) -> None:
        self.backend.close()

    # -- internals ------------------------------------------------------------

    def _embedder(self) -> Embedder:
        return get_embedder(self.config.embedding_model)

    def _embed(self, texts: Sequence[str], progress: Progress | None) -> np.ndarray:
        embedder = self._embedder()
        parts: list[np.ndarray] = []
        for start in range(0, len(texts), EMBED_BATCH):
            parts.append(embedder.encode(list(texts[start:start + EMBED_BATCH])))
            if progress is not None:
                progress(min(start + EMBED_BATCH, len(texts)), len(texts))
        return np.vstack(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)
