"""A private PostgreSQL 16 with pgvector for the test session, from the ``pgserver`` wheel (dev extra).

Debian's PostgreSQL (``GUARD_TEST_POSTGRES_URL``) has no pgvector, so the
knowledge base's PostgreSQL cases run on this one: started on first use in a
temporary folder, reached through its Unix socket, deleted when the session
ends. Without pgserver they skip, except under CI (``CI`` set), where they fail.
As root, pgserver runs the server as a system user ``pgserver`` it creates.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def pgvector_server() -> Iterator[str]:
    """The URL of a fresh server with pgvector available (not yet created in its database)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR, it falls back to /tmp
            import pgserver
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("pgserver is not installed: CI must run the PostgreSQL knowledge base tests (pip install -e .[dev])")
        pytest.skip("pgserver is not installed (pip install -e .[dev]): PostgreSQL knowledge base tests skipped")
    server = pgserver.get_server(Path(tempfile.mkdtemp(prefix="guard-pgvector-")), cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
