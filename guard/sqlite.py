"""A SQLite connection that many threads and processes can share safely."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class Database:
    """One SQLite file in WAL mode; each statement runs under a lock so threads never interleave writes."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")

    def ensure_schema(self, schema: str) -> None:
        with self._lock:
            self._conn.executescript(schema)

    def execute(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
