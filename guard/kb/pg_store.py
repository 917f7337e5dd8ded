"""The PostgreSQL backend: a named knowledge base in pgvector tables, shared by every worker and host.

Writes. Each document is replaced in a transaction of its own (old chunks out,
new ones in, the knowledge base's counters updated), holding the knowledge
base's row lock so writers of one knowledge base take turns. A search sees a
document's previous version until that transaction commits, and every worker
sees the new one as soon as it has: an ingest that dies half-way leaves each
document whole, old or new.

Dense side. Vectors live in one ``vector`` column; each knowledge base has a
partial HNSW index (``guard.kb.pg_schema``), searched at every size
(``exact_search_max`` is the local backend's): an exact scan fetches every
vector from TOAST storage, p50 51 ms at 12k chunks against 8.9 ms through the
graph at recall@10 0.98 (``benchmarks/kb_backends.py``, synthetic vectors);
``hnsw_ef_search`` buys more recall. While the index is being built the
search scans, exact.

Lexical side. A stored ``tsvector`` (English stemming; title weighted B,
heading and text A; words split at every character that is not a letter or
digit, as the local tokenizer splits them) under a partial GIN index per
knowledge base. The question becomes the same phrases as the local BM25 query (``guard.kb.lexical``: rarest first within the scoring
budget), each a ``phraseto_tsquery``, OR'ed; matches are ordered by
``ts_rank`` with weights B=0.5 and A=1 (title half as much as heading and
text, as locally) and length normalisation 1 (divided by 1 + log of the
chunk's length in words). ts_rank is not BM25 (no inverse document
frequency), but only its order counts: fusion uses ranks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from guard.config import KnowledgeBaseConfig
from guard.errors import KnowledgeBaseError
from guard.kb import lexical, pg_schema
from guard.kb.backend import DocumentVersion, IndexFigures
from guard.kb.store import Chunk, FileRecord
from guard.store.engine import database_url

BULK_LOAD = 10_000  # a commit adding more chunks than this and than the knowledge base holds rebuilds its indexes
_TS_WEIGHTS = "{0, 0, 0.5, 1}"  # ts_rank's {D, C, B, A}: title (B) half of heading and text (A)


class PostgresBackend:
    def __init__(self, config: KnowledgeBaseConfig, engine: Engine, kb_id: int):
        self.config = config
        self.engine = engine
        self.kb_id = int(kb_id)  # written into SQL as a literal: the planner matches the partial HNSW index
        self._dim: int | None = None

    @classmethod
    def open(cls, config: KnowledgeBaseConfig) -> PostgresBackend:
        """The knowledge base ``config.name`` in ``config.database``; creates the schema and the name if missing."""
        pg_schema.prepare(config)
        engine = pg_schema.connect(config)
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO guard_kb (name) VALUES (:name) ON CONFLICT (name) DO NOTHING"),
                             {"name": config.name})
                kb_id = conn.execute(text("SELECT id FROM guard_kb WHERE name = :name"), {"name": config.name}).scalar_one()
        except OperationalError as exc:
            engine.dispose()
            raise pg_schema.unreachable(config, exc) from None
        return cls(config, engine, kb_id)

    @staticmethod
    def counts_at(config: KnowledgeBaseConfig) -> tuple[int, int] | None:
        """(files, chunks) of ``config.name`` without creating anything; None when there is none or no server."""
        engine = create_engine(database_url(config.database or ""), connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                if conn.execute(text("SELECT to_regclass('guard_kb')")).scalar() is None:
                    return None
                row = conn.execute(text("SELECT files, chunks FROM guard_kb WHERE name = :name"),
                                   {"name": config.name}).first()
                return (int(row[0]), int(row[1])) if row is not None else None
        except DBAPIError:
            return None
        finally:
            engine.dispose()

    # -- reading --------------------------------------------------------------

    def recorded_model(self) -> tuple[str, int] | None:
        row = self._one("SELECT embedding_model, dim FROM guard_kb WHERE id = :kb")
        return (row[0], int(row[1])) if row[0] and row[1] else None

    def files(self) -> dict[str, FileRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, path, doc_key, content_hash, chunking FROM guard_kb_files "
                                     "WHERE kb_id = :kb"), {"kb": self.kb_id})
            return {row[1]: FileRecord(*row) for row in rows}

    def counts(self) -> tuple[int, int]:
        files, chunks = self._one("SELECT files, chunks FROM guard_kb WHERE id = :kb")
        return int(files), int(chunks)

    def generation(self) -> int:
        return int(self._one("SELECT generation FROM guard_kb WHERE id = :kb")[0])

    def dense(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        dim = self._dimensions()
        if dim is None:
            return []
        column = f"embedding::vector({dim})"
        with self.engine.begin() as conn:
            conn.execute(text(f"SET LOCAL hnsw.ef_search = {min(max(self.config.hnsw_ef_search, k), 1000)}"))
            rows = conn.execute(text(
                f"SELECT id, 1 - ({column} <=> :q) FROM guard_kb_chunks WHERE kb_id = {self.kb_id} "
                f"ORDER BY {column} <=> :q LIMIT :k"), {"q": np.asarray(vector, dtype=np.float32), "k": k})
            return [(int(row), float(cosine)) for row, cosine in rows]

    def lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        with self.engine.connect() as conn:
            def matches(phrase: str, cap: int) -> int:
                return int(conn.execute(text(
                    f"SELECT count(*) FROM (SELECT 1 FROM guard_kb_chunks WHERE kb_id = {self.kb_id} "
                    "AND tsv @@ phraseto_tsquery('english', :p) LIMIT :cap) AS found"),
                    {"p": phrase.strip('"'), "cap": cap}).scalar_one())

            chosen = lexical.affordable(lexical.query_phrases(query), matches)
            if not chosen:
                return []
            tsquery = " || ".join(f"phraseto_tsquery('english', :p{n})" for n in range(len(chosen)))
            rows = conn.execute(text(
                f"SELECT id, ts_rank('{_TS_WEIGHTS}', tsv, q, 1) AS rank FROM guard_kb_chunks, (SELECT {tsquery}) AS query(q) "
                f"WHERE kb_id = {self.kb_id} AND tsv @@ q ORDER BY rank DESC, id LIMIT :k"),
                {"k": k, **{f"p{n}": phrase.strip('"') for n, phrase in enumerate(chosen)}})
            return [(int(row), float(rank)) for row, rank in rows]

    def chunks(self, row_ids: Sequence[int], query: np.ndarray) -> dict[int, tuple[Chunk, float]]:
        if not row_ids:
            return {}
        return {row[0]: (row[1], float(row[2])) for row in self._chunk_rows(
            f"-(c.embedding::vector({self._dimensions()}) <#> :q)", "c.id = ANY(:ids)",
            {"ids": [int(i) for i in row_ids], "q": np.asarray(query, dtype=np.float32)})}

    def documents(self) -> Iterator[DocumentVersion]:
        for record in self.files().values():
            with self.engine.connect() as conn:
                size = conn.execute(text("SELECT bytes FROM guard_kb_files WHERE id = :id"), {"id": record.id}).scalar()
            rows = self._chunk_rows("c.embedding", "c.file_id = :file ORDER BY c.id", {"file": record.id})
            if rows:  # none: removed meanwhile
                yield DocumentVersion(record.path, record.doc_key, record.content_hash, record.chunking, int(size or 0),
                                      [chunk for _, chunk, _ in rows], np.vstack([_array(v) for _, _, v in rows]))

    def figures(self) -> IndexFigures:
        chunks = self.counts()[1]
        kind = "none" if chunks == 0 else "hnsw"
        size = self._one("SELECT coalesce(sum(pg_column_size(c.*)), 0) FROM guard_kb_chunks c WHERE kb_id = :kb")[0]
        return IndexFigures(location=pg_schema.location(self.config), index=kind, indexed_vectors=chunks, bytes=int(size))

    # -- writing --------------------------------------------------------------

    def commit(self, versions: Sequence[DocumentVersion], gone: Sequence[FileRecord], planned_at: int) -> int:
        """One transaction per document; a document changed by another writer since the plan was read is refused."""
        removed = 0
        if sum(len(v.chunks) for v in versions) > max(self.counts()[1], BULK_LOAD):
            self._indexes(build=False)  # a bulk load: inserting into the graph costs ~25x building it after
        try:
            for version in versions:
                with self.engine.begin() as conn:
                    removed += self._replace(conn, version)
            for record in gone:
                with self.engine.begin() as conn:
                    removed += self._forget(conn, record)
        except IntegrityError as exc:
            raise KnowledgeBaseError(f"another process changed the knowledge base during this ingest ({exc.orig}); "
                                     "run it again") from None
        finally:
            self._indexes(build=True)
        return removed

    def close(self) -> None:
        self.engine.dispose()

    # -- internals ------------------------------------------------------------

    def _chunk_rows(self, extra: str, where: str, params: dict[str, Any]) -> list[tuple[int, Chunk, Any]]:
        """(row id, chunk, ``extra`` column) of this knowledge base's chunks matching ``where``."""
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT c.id, c.chunk_id, c.title, c.heading, c.text, f.path, c.start_char, c.end_char, c.metadata, "
                f"{extra} FROM guard_kb_chunks c JOIN guard_kb_files f ON f.id = c.file_id "
                f"WHERE c.kb_id = {self.kb_id} AND {where}"), params)
            return [(row[0], Chunk(*row[1:8], row[8]), row[9]) for row in rows]

    def _dimensions(self) -> int | None:
        """The knowledge base's dimensions, fixed once its first vectors are stored."""
        if self._dim is None:
            recorded = self.recorded_model()
            self._dim = recorded[1] if recorded else None
        return self._dim

    def _one(self, sql: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), {"kb": self.kb_id}).one()

    def _lock(self, conn: Connection) -> tuple[int | None]:
        """Take the knowledge base's row lock (writers of one knowledge base take turns); its dimensions."""
        return conn.execute(text("SELECT dim FROM guard_kb WHERE id = :kb FOR UPDATE"), {"kb": self.kb_id}).one()

    def _current(self, conn: Connection, path: str) -> FileRecord | None:
        row = conn.execute(text("SELECT id, path, doc_key, content_hash, chunking FROM guard_kb_files "
                                "WHERE kb_id = :kb AND path = :path"), {"kb": self.kb_id, "path": path}).first()
        return FileRecord(*row) if row is not None else None

    def _replace(self, conn: Connection, version: DocumentVersion) -> int:
        (dim,) = self._lock(conn)
        current = self._current(conn, version.path)
        if _state(current) == (version.content_hash, version.chunking):
            return 0  # another writer stored this very version meanwhile
        if _state(current) != _state(version.previous):
            raise KnowledgeBaseError(f"{version.path} changed in another process during this ingest; run it again")
        removed = self._delete_chunks(conn, current)
        values = {"kb": self.kb_id, "path": version.path, "doc_key": version.doc_key, "hash": version.content_hash,
                  "chunking": version.chunking, "bytes": version.size, "at": time.time()}
        if current is None:
            file_id = conn.execute(text(
                "INSERT INTO guard_kb_files (kb_id, path, doc_key, content_hash, chunking, bytes, ingested_at) "
                "VALUES (:kb, :path, :doc_key, :hash, :chunking, :bytes, :at) RETURNING id"), values).scalar_one()
        else:
            file_id = current.id
            conn.execute(text("UPDATE guard_kb_files SET content_hash = :hash, chunking = :chunking, bytes = :bytes, "
                              "ingested_at = :at WHERE id = :id"), {**values, "id": file_id})
        if version.chunks:
            dim = self._record_model(conn, dim, version.vectors.shape[1])
            conn.execute(text(
                "INSERT INTO guard_kb_chunks (kb_id, file_id, chunk_id, title, heading, start_char, end_char, text, "
                "metadata, embedding) VALUES (:kb, :file, :chunk_id, :title, :heading, :start, :end, :text, "
                "CAST(:metadata AS jsonb), :embedding)"),
                [{"kb": self.kb_id, "file": file_id, "chunk_id": c.id, "title": c.title, "heading": c.heading,
                  "start": c.start, "end": c.end, "text": c.text.replace("\x00", "\ufffd"),
                  "metadata": json.dumps(c.metadata), "embedding": vector}
                 for c, vector in zip(version.chunks, np.asarray(version.vectors, dtype=np.float32))])
        self._count(conn, files=int(current is None), chunks=len(version.chunks) - removed)
        return removed

    def _forget(self, conn: Connection, record: FileRecord) -> int:
        self._lock(conn)
        current = self._current(conn, record.path)
        if current is None:
            return 0  # another writer removed it meanwhile
        removed = self._delete_chunks(conn, current)
        conn.execute(text("DELETE FROM guard_kb_files WHERE id = :id"), {"id": current.id})
        self._count(conn, files=-1, chunks=-removed)
        return removed

    def _delete_chunks(self, conn: Connection, record: FileRecord | None) -> int:
        if record is None:
            return 0
        return conn.execute(text("DELETE FROM guard_kb_chunks WHERE file_id = :id"), {"id": record.id}).rowcount

    def _count(self, conn: Connection, files: int, chunks: int) -> None:
        conn.execute(text("UPDATE guard_kb SET generation = generation + 1, files = files + :files, "
                          "chunks = chunks + :chunks WHERE id = :kb"), {"kb": self.kb_id, "files": files, "chunks": chunks})

    def _indexes(self, build: bool) -> None:
        dim = self._dimensions()
        if dim is not None:
            (pg_schema.build_indexes if build else pg_schema.drop_indexes)(self.engine, self.config, self.kb_id, dim)

    def _record_model(self, conn: Connection, dim: int | None, vectors_dim: int) -> int:
        """The first vectors fix the model and dimensions (its indexes are built once they are stored)."""
        if dim is not None:
            if dim != vectors_dim:
                raise KnowledgeBaseError(f"vectors of {vectors_dim} dimensions cannot join a knowledge base of {dim}")
            return dim
        conn.execute(text("UPDATE guard_kb SET embedding_model = :model, dim = :dim WHERE id = :kb"),
                     {"model": self.config.embedding_model, "dim": vectors_dim, "kb": self.kb_id})
        return vectors_dim


def _state(record: FileRecord | None) -> tuple[str, str] | None:
    return (record.content_hash, record.chunking) if record is not None else None


def _array(vector: Any) -> np.ndarray:
    """pgvector's ``Vector`` (or an array, by version) as float32."""
    return np.asarray(vector.to_numpy() if hasattr(vector, "to_numpy") else vector, dtype=np.float32)
