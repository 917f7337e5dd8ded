"""Chunk metadata, vectors and the lexical index in one SQLite file: the knowledge base's source of truth.

The faiss index is derived from the vectors kept here, so it can always be
rebuilt. Searches read through their own connection (WAL lets them run while
an ingest writes); an ingest writes through another, in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from guard.errors import KnowledgeBaseError
from guard.kb import lexical
from guard.kb.chunking import section_label

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    doc_key TEXT NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    chunking TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    ingested_at REAL NOT NULL
);
-- AUTOINCREMENT: a chunk's row id is its faiss id and must never be reused.
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL REFERENCES files(id),
    chunk_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    heading TEXT NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks(file_id);
""" + lexical.SCHEMA


@dataclass(frozen=True)
class FileRecord:
    id: int
    path: str
    doc_key: str
    content_hash: str
    chunking: str


@dataclass(frozen=True)
class Chunk:
    id: str  # stable: "<document>#c<n>", e.g. "refund_policy.md#c2"
    title: str
    heading: str
    text: str
    path: str
    start: int  # character offsets in the document's text
    end: int
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def section(self) -> str:
        """Where the chunk sits, for people: "Refund policy > Eligibility"."""
        return section_label(self.title, self.heading)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, timeout=60, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class Store:
    def __init__(self, path: Path):
        try:
            self._reader = _connect(path)
            self._writer = _connect(path)
            self._writer.executescript(_SCHEMA)
            version = self._writer.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version is None:
                self._writer.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            elif version[0] != SCHEMA_VERSION:
                raise KnowledgeBaseError(f"{path}: knowledge base format {version[0]}, this guard reads {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise KnowledgeBaseError(f"{path}: not a guard knowledge base ({exc})") from None
        self.path = path
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()

    def read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    def meta(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def generation(self) -> int:
        return int(self.meta("generation") or 0)

    def files(self) -> dict[str, FileRecord]:
        rows = self.read("SELECT id, path, doc_key, content_hash, chunking FROM files")
        return {row[1]: FileRecord(*row) for row in rows}

    def counts(self) -> tuple[int, int]:
        (files, chunks), = self.read("SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM chunks)")
        return files, chunks

    def row_ids(self) -> np.ndarray:
        return np.array([r[0] for r in self.read("SELECT id FROM chunks")], dtype=np.int64)

    def chunks(self, row_ids: Sequence[int]) -> dict[int, tuple[Chunk, np.ndarray]]:
        """The chunks with these row ids that still exist, with their vectors."""
        if not row_ids:
            return {}
        marks = ",".join("?" * len(row_ids))
        rows = self.read(
            "SELECT c.id, c.chunk_id, c.title, c.heading, c.text, f.path, c.start_char, c.end_char, c.metadata, c.vector"
            f" FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id IN ({marks})", tuple(int(i) for i in row_ids))
        return {row[0]: (Chunk(*row[1:8], json.loads(row[8])), np.frombuffer(row[9], dtype=np.float32))
                for row in rows}

    @contextmanager
    def write(self) -> Iterator[Writer]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._write_lock:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise KnowledgeBaseError(f"{self.path}: another process kept the knowledge base locked ({exc}); "
                                         "nothing was changed, try again when it is done") from None
            try:
                yield Writer(self._writer)
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    def close(self) -> None:
        self._reader.close()
        self._writer.close()


class Writer:
    """Changes inside one ``Store.write`` transaction; reads here see them before they commit."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def generation(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def row_ids(self) -> np.ndarray:
        return np.array([r[0] for r in self._conn.execute("SELECT id FROM chunks")], dtype=np.int64)

    def chunk_rows_of(self, file_ids: Iterable[int]) -> list[int]:
        ids = list(file_ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return [r[0] for r in self._conn.execute(f"SELECT id FROM chunks WHERE file_id IN ({marks})", ids)]

    def delete_chunks(self, file_ids: Iterable[int]) -> None:
        self._conn.executemany("DELETE FROM chunks WHERE file_id = ?", [(i,) for i in file_ids])

    def delete_files(self, file_ids: Iterable[int]) -> None:
        """Forget files whose chunks are already deleted."""
        self._conn.executemany("DELETE FROM files WHERE id = ?", [(i,) for i in file_ids])

    def save_file(self, path: str, doc_key: str, content_hash: str, chunking: str, size: int, when: float) -> int:
        self._conn.execute(
            "INSERT INTO files (path, doc_key, content_hash, chunking, bytes, ingested_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(path) DO UPDATE SET content_hash = excluded.content_hash, chunking = excluded.chunking,"
            " bytes = excluded.bytes, ingested_at = excluded.ingested_at",
            (path, doc_key, content_hash, chunking, size, when))
        return int(self._conn.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()[0])

    def insert_chunks(self, file_ids: dict[str, int], chunks: Sequence[Chunk], vectors: np.ndarray) -> np.ndarray:
        """Insert in one statement batch (``file_ids`` maps each chunk's path); returns the new row ids (faiss ids)."""
        seq = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'chunks'").fetchone()
        first = (seq[0] if seq else 0) + 1
        row_ids = np.arange(first, first + len(chunks), dtype=np.int64)
        self._conn.executemany(
            "INSERT INTO chunks (id, file_id, chunk_id, title, heading, start_char, end_char, text, metadata, vector)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((int(row), file_ids[c.path], c.id, c.title, c.heading, c.start, c.end, c.text, json.dumps(c.metadata),
              vec.astype(np.float32).tobytes()) for row, c, vec in zip(row_ids, chunks, vectors)))
        return row_ids

    def vectors(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """Every chunk's (row id, vector), for rebuilding the index."""
        ids: list[int] = []
        blobs: list[bytes] = []
        for row_id, blob in self._conn.execute("SELECT id, vector FROM chunks ORDER BY id"):
            ids.append(row_id)
            blobs.append(blob)
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32)
        return np.array(ids, dtype=np.int64), matrix.reshape(len(ids), dim)
