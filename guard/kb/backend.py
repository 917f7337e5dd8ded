"""What a knowledge base keeps its documents in: the interface the local and PostgreSQL stores both implement.

``KnowledgeBase`` plans ingests, embeds and fuses search results the same way
whatever the backend; a backend stores whole document versions and answers the
two candidate searches (dense, lexical) and the lookup of chunks by row id.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from guard.kb.store import Chunk, FileRecord


@dataclass
class DocumentVersion:
    """A file's chunks and their vectors, as one ingest cut them: written, or replaced, as a whole."""

    path: str
    doc_key: str
    content_hash: str
    chunking: str  # the chunking signature it was cut with
    size: int
    chunks: list[Chunk]
    vectors: np.ndarray  # one row per chunk
    previous: FileRecord | None = None  # the version it replaces, as the ingest plan saw it


@dataclass(frozen=True)
class IndexFigures:
    location: str  # a folder, or a database URL (password hidden) and the knowledge base's name
    index: str  # "exact", "hnsw" or "none" (empty)
    indexed_vectors: int
    bytes: int  # on disk, or in the database


class Backend(Protocol):
    def recorded_model(self) -> tuple[str, int] | None:
        """(embedding model, dimensions) the stored vectors were made with; None before the first."""

    def files(self) -> dict[str, FileRecord]: ...

    def counts(self) -> tuple[int, int]:
        """(files, chunks)."""

    def generation(self) -> int:
        """A number every committed change increases."""

    def commit(self, versions: Sequence[DocumentVersion], gone: Sequence[FileRecord], planned_at: int) -> int:
        """Store ``versions`` and forget ``gone``; refuses (``KnowledgeBaseError``) when what they replace changed
        since ``planned_at`` (a generation). Returns how many chunks were removed."""

    def dense(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk row id, cosine) of the ``k`` nearest chunks, best first."""

    def lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        """(chunk row id, lexical score) of the ``k`` best full-text matches, best first."""

    def chunks(self, row_ids: Sequence[int], query: np.ndarray) -> dict[int, tuple[Chunk, float]]:
        """The chunks with these row ids that still exist, with the cosine of their vector to ``query``."""

    def documents(self) -> Iterator[DocumentVersion]:
        """Every stored document with its vectors: what ``guard kb migrate`` copies."""

    def figures(self) -> IndexFigures: ...

    def close(self) -> None: ...
