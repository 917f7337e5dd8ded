"""Knowledge bases in PostgreSQL: named knowledge bases, their files, and chunks with a pgvector embedding.

The embedding column has no fixed dimension, so knowledge bases built with
different models share the table; each knowledge base gets its own partial
HNSW index (``embedding::vector(dim)``, ``WHERE kb_id = ...``) and GIN index
(``tsv``) after its first load (``guard.kb.pg_store``). The lexical side is a
stored ``tsvector`` (English stemming, title weighted B, heading and text A) of
the text split at every character that is not a letter or digit,
as SQLite's unicode61 tokenizer splits it locally: ``ERR-4012`` is the words
``err`` and ``4012`` (PostgreSQL's own parser would read ``-4012`` as a number).

Revision ID: kb0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "kb0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute("""
        CREATE TABLE guard_kb (
            id SERIAL PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            embedding_model TEXT,
            dim INTEGER,
            generation BIGINT NOT NULL DEFAULT 0,
            files BIGINT NOT NULL DEFAULT 0,
            chunks BIGINT NOT NULL DEFAULT 0
        )""")
    op.execute("""
        CREATE TABLE guard_kb_files (
            id BIGSERIAL PRIMARY KEY,
            kb_id INTEGER NOT NULL REFERENCES guard_kb(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            doc_key TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            chunking TEXT NOT NULL,
            bytes BIGINT NOT NULL,
            ingested_at DOUBLE PRECISION NOT NULL,
            UNIQUE (kb_id, path),
            UNIQUE (kb_id, doc_key)
        )""")
    op.execute("""
        CREATE TABLE guard_kb_chunks (
            id BIGSERIAL PRIMARY KEY,
            kb_id INTEGER NOT NULL REFERENCES guard_kb(id) ON DELETE CASCADE,
            file_id BIGINT NOT NULL REFERENCES guard_kb_files(id) ON DELETE CASCADE,
            chunk_id TEXT NOT NULL,
            title TEXT NOT NULL,
            heading TEXT NOT NULL,
            start_char INTEGER NOT NULL,
            end_char INTEGER NOT NULL,
            text TEXT NOT NULL,
            metadata JSONB NOT NULL,
            embedding vector NOT NULL,
            tsv tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english', regexp_replace(title, '[^[:alnum:]]+', ' ', 'g')), 'B') ||
                setweight(to_tsvector('english', regexp_replace(heading, '[^[:alnum:]]+', ' ', 'g')), 'A') ||
                setweight(to_tsvector('english', regexp_replace(text, '[^[:alnum:]]+', ' ', 'g')), 'A')) STORED,
            UNIQUE (kb_id, chunk_id)
        )""")
    op.execute("CREATE INDEX guard_kb_chunks_file ON guard_kb_chunks (file_id)")


def downgrade() -> None:
    op.execute("DROP TABLE guard_kb_chunks")
    op.execute("DROP TABLE guard_kb_files")
    op.execute("DROP TABLE guard_kb")
