"""The PostgreSQL knowledge base's database side: connecting, the pgvector extension, migrations and indexes.

Tables come from the knowledge base's own Alembic chain (``guard/kb/migrations``).
Indexes are per knowledge base and partial (``WHERE kb_id = ...``): its HNSW
graph on ``embedding::vector(dim)`` (cosine; ``m`` and ``ef_construction``
from the config) and a GIN index on its ``tsv``. They are built from the rows
after a knowledge base's first load, and again after a bulk load: pgvector
inserts into an HNSW graph row by row ~25x slower than it builds one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError

from guard.config import KnowledgeBaseConfig
from guard.errors import KnowledgeBaseError
from guard.extras import require
from guard.store.engine import database_url, display_name, migrate

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "guard_kb_alembic_version"
MIGRATION_LOCK = 0x67756172646B62  # "guardkb": held while creating the extension or migrating
BUILD_MEMORY = "512MB"  # maintenance_work_mem for an index build: the graph of ~200k 384-d chunks fits


def location(config: KnowledgeBaseConfig) -> str:
    """The database (password hidden) and the knowledge base's name, for people."""
    return f"{display_name(config.database or '')} (knowledge base {config.name!r})"


def connect(config: KnowledgeBaseConfig) -> Engine:
    """An engine whose connections bind numpy arrays as pgvector's type (and read it back)."""
    require("postgres", "psycopg", "pgvector", purpose="knowledge_base.backend: postgres")
    from pgvector.psycopg import register_vector

    engine = create_engine(database_url(config.database or ""), pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        register_vector(dbapi_connection)

    return engine


def prepare(config: KnowledgeBaseConfig) -> None:
    """The pgvector extension (created when this role may) and the knowledge base tables, migrated to the head."""
    engine = create_engine(database_url(config.database or ""))
    try:
        with engine.connect() as conn:
            present = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")).first()
        if present is None:
            try:
                with engine.begin() as conn:  # under the migration lock: two workers starting at once never race
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                    conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            except DBAPIError as exc:
                if isinstance(exc, OperationalError) and exc.connection_invalidated:
                    raise
                reason = str(exc.orig).strip().splitlines()[0]
                raise KnowledgeBaseError(
                    f"{display_name(config.database or '')}: the knowledge base needs the pgvector extension, and "
                    f"this role cannot create it ({reason}). Run CREATE EXTENSION vector in this database as its "
                    "owner or a superuser (the server must have pgvector installed), then try again") from None
        migrate(engine, MIGRATIONS, VERSION_TABLE, MIGRATION_LOCK)
    except OperationalError as exc:
        raise unreachable(config, exc) from None
    finally:
        engine.dispose()


def unreachable(config: KnowledgeBaseConfig, exc: OperationalError) -> KnowledgeBaseError:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return KnowledgeBaseError(f"cannot reach the knowledge base database {display_name(config.database or '')}: {reason}")


def indexes(config: KnowledgeBaseConfig, kb_id: int, dim: int) -> dict[str, str]:
    """A knowledge base's partial indexes: name to definition."""
    return {
        f"guard_kb_chunks_hnsw_{kb_id}":
            f"USING hnsw ((embedding::vector({dim})) vector_cosine_ops) WITH (m = {config.hnsw_m}, "
            f"ef_construction = {config.hnsw_ef_construction}) WHERE kb_id = {kb_id}",
        f"guard_kb_chunks_tsv_{kb_id}": f"USING gin (tsv) WHERE kb_id = {kb_id}",
    }


def build_indexes(engine: Engine, config: KnowledgeBaseConfig, kb_id: int, dim: int) -> None:
    """Build a knowledge base's missing indexes from its rows (none missing: one query).

    Concurrently: other knowledge bases keep writing, and searches here scan its rows meanwhile (exact, only
    slower). An index a dead build left invalid is dropped and built again.
    """
    wanted = indexes(config, kb_id, dim)
    with engine.connect() as conn:
        valid = dict(conn.execute(text("SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c "
                                       "ON c.oid = i.indexrelid WHERE c.relname = ANY(:names)"),
                                  {"names": list(wanted)}).all())
    missing = [name for name in wanted if not valid.get(name)]
    if not missing:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"SET maintenance_work_mem = '{BUILD_MEMORY}'"))
        for name in missing:
            if name in valid:
                conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
            conn.execute(text(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON guard_kb_chunks {wanted[name]}"))
        conn.execute(text("ANALYZE guard_kb_chunks"))  # the planner learns the new rows and picks the indexes


def drop_indexes(engine: Engine, config: KnowledgeBaseConfig, kb_id: int, dim: int) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in indexes(config, kb_id, dim):
            conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
