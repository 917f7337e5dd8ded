"""The store suite runs once per backend: a SQLite file, and PostgreSQL when ``GUARD_TEST_POSTGRES_URL`` is set.

Without that variable the PostgreSQL cases skip, except under CI (``CI`` set),
where a missing server is a failure: ``.ci/run`` installs and starts one.
Each PostgreSQL test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select, text

from guard.store import RequestRecord, ReviewItem, Store, open_store
from guard.store.engine import database_url
from guard.store.schema import metadata

BACKENDS = ["sqlite", "postgresql"]
# Read at import: the suite-wide autouse fixture clears every GUARD_* variable before each test.
POSTGRES_URL = os.environ.get("GUARD_TEST_POSTGRES_URL")


def postgres_url() -> str:
    url = POSTGRES_URL
    if not url:
        if os.environ.get("CI"):
            pytest.fail("GUARD_TEST_POSTGRES_URL is not set: CI must run the store suite against PostgreSQL")
        pytest.skip("GUARD_TEST_POSTGRES_URL is not set: PostgreSQL store tests skipped (.ci/run sets it up)")
    return url


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database(backend: str, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL for this test."""
    if backend == "sqlite":
        yield str(tmp_path / "guard.db")
        return
    url = postgres_url()
    schema = "guard_test_" + uuid.uuid4().hex[:12]
    admin = create_engine(database_url(url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    opened = open_store(database)
    yield opened
    opened.close()


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def record(request_id: str = "gr_1", *, at: datetime = NOW, answer: str = "Refunds take 30 days.",
           **fields) -> RequestRecord:
    return RequestRecord(request_id=request_id, created_at=at, product="shop", answer=answer, **fields)


def item(review_id: str = "rv_1", *, request_id: str = "gr_1", policy: str = "flag", tier: str = "low",
         at: datetime | None = None, expires_in: timedelta | None = timedelta(days=3),
         draft: str = "Refunds take 30 days.", **fields) -> ReviewItem:
    created = at or datetime.now(timezone.utc)
    return ReviewItem(id=review_id, request_id=request_id, created_at=created, policy=policy, tier=tier, draft=draft,
                      expires_at=None if expires_in is None else created + expires_in, **fields)


def everything_stored(store: Store, *, but: tuple[str, ...] = ()) -> str:
    """Every row of every table (``but`` some) as text: to show that some text is stored nowhere."""
    with store.reading() as conn:
        return "\n".join(f"{table.name}: {list(conn.execute(select(table)))}" for table in metadata.sorted_tables
                         if table.name not in but)
