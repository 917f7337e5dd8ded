"""A store opened on first use, so that building a ``Guard`` leaves no trace in its host.

Opening a store creates its SQLite file (and the ``.guard/`` folder around it) and runs the
migrations. A script that builds a ``Guard`` only to ``check()`` an answer, or a test that
builds one and throws it away, should find its working directory as it was: the store opens
when something is first stored or read (a record batch, a review, feedback, a readiness ping).
"""

from __future__ import annotations

import threading
from typing import Any

from guard.store.engine import sqlite_file
from guard.store.store import Store, open_store


class LazyStore:
    """Stands in for the ``Store`` at ``url``; every attribute but ``close`` opens it (once, thread-safe)."""

    def __init__(self, url: str, *, busy_timeout_s: float = 5.0):
        self._url, self._busy_timeout_s = url, busy_timeout_s
        self._store: Store | None = None
        self._lock = threading.Lock()

    @property
    def opened(self) -> Store:
        """The real store; a failed open (``StoreUnavailable``) is raised here and tried again next time."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = open_store(self._url, busy_timeout_s=self._busy_timeout_s)
        return self._store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.opened, name)

    def active_calibration(self) -> dict[str, Any] | None:
        """A store never created holds no calibration: asking (a ``Guard`` does when built) must not create it."""
        file = sqlite_file(self._url)
        if self._store is None and file is not None and not file.exists():
            return None
        return self.opened.active_calibration()

    def close(self) -> None:
        """Release the store if it was ever opened; a store never opened stays unopened."""
        with self._lock:
            if self._store is not None:
                self._store.close()
