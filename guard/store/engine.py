"""From a ``telemetry.database`` setting to a migrated SQLAlchemy engine, for SQLite or PostgreSQL.

SQLite is tuned for durability: WAL (readers never block the writer), ``synchronous=FULL``
(a committed decision survives power loss, not just a crash), a busy timeout so
concurrent writers wait instead of failing, and ``BEGIN IMMEDIATE`` for write
transactions so a read-then-write never dies on a stale snapshot.

The one exception is the batches of request records (``RECORDS``): they commit
with ``synchronous=NORMAL``, which survives a process crash but not an OS crash
or power loss until the next full commit or checkpoint syncs the log. Records are
best-effort telemetry already (queued ones die with the process), and the fsync
of every batch was the largest CPU cost of serving a request on a busy proxy.
JSON columns are written by orjson for the same reason: four per record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL, Connection

from guard.extras import require

MIGRATIONS = Path(__file__).with_name("migrations")
WRITE = {"guard_write": True}  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)
RECORDS = {**WRITE, "guard_records": True}  # a batch of request records (SQLite: synchronous=NORMAL)
_MIGRATION_LOCK = 0x6775617264  # "guard": the PostgreSQL advisory lock key held while migrating
VERSION_TABLE = "guard_alembic_version"  # not alembic_version: the host app may run its own Alembic on this database


def database_url(database: str) -> URL:
    """A URL for a file path, a ``sqlite:///`` URL or a ``postgresql://`` URL (driven by psycopg 3)."""
    if "://" not in database:
        path = Path(database).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return URL.create("sqlite", database=str(path))
    url = make_url(database)
    if url.drivername in ("postgresql", "postgres"):
        require("postgres", "psycopg", purpose="a PostgreSQL database")
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return url


def sqlite_file(database: str) -> Path | None:
    """The file behind a SQLite store (path or ``sqlite:///`` URL), without creating anything; None otherwise."""
    if "://" not in database:
        return Path(database).expanduser().resolve() if database != ":memory:" else None
    url = make_url(database)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).expanduser().resolve()
    return None


def display_name(database: str) -> str:
    """How a store is named to a person: the file, or the URL with its password hidden."""
    file = sqlite_file(database)
    return str(file) if file is not None else make_url(database).render_as_string(hide_password=True)


def create_store_engine(database: str, *, busy_timeout_s: float = 5.0) -> Engine:
    url = database_url(database)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False}, json_serializer=_json)
        _tune_sqlite(engine, busy_timeout_s)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=_json)


def _json(value: Any) -> str:
    """Compact JSON (NaN as null, which PostgreSQL's JSONB requires anyway); read back by ``json.loads``.

    JSONB also refuses ``\\u0000``: NUL in any string becomes U+FFFD, as in text columns (``StoredText``).
    Looked for in the encoded text first, so the common case costs one search.
    """
    encoded = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    if b"\\u0000" in encoded:  # also matches an escaped backslash before "u0000": then the re-encoding changes nothing
        encoded = orjson.dumps(_without_nul(value), option=orjson.OPT_NON_STR_KEYS)
    return encoded.decode()


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_nul(v) for v in value]
    return value


def _tune_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below), so DDL is transactional too
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
        record.info["synchronous"] = "FULL"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if not options.get("guard_write", False):
            connection.exec_driver_sql("BEGIN")
            return
        synchronous = "NORMAL" if options.get("guard_records", False) else "FULL"
        if connection.info.get("synchronous") != synchronous:  # set per connection, so only when it changes
            connection.exec_driver_sql(f"PRAGMA synchronous = {synchronous}")
            connection.info["synchronous"] = synchronous
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine, migrations: Path = MIGRATIONS, version_table: str = VERSION_TABLE,
            lock: int = _MIGRATION_LOCK) -> None:
    """Bring the schema to the newest revision; a no-op when it is there already.

    ``migrations``, ``version_table`` and ``lock`` name another chain sharing this machinery (the knowledge base's).
    """
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["version_table"] = version_table
    head = ScriptDirectory.from_config(config).get_current_head()
    if current_revision(engine, version_table) == head:
        return  # the common case: no write lock taken at start-up
    with engine.execution_options(**WRITE).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(engine: Engine, version_table: str = VERSION_TABLE) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(
            connection, opts={"version_table": version_table}).get_current_revision()
