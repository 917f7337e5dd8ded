"""A database that goes away and comes back: a real PostgreSQL, the test's own, stopped and started under load.

Answers that need no store keep flowing while it is down; records written before, during and after the
outage are all there once it is back; what guard acknowledged (a held draft, a decision) is never lost,
and the app is still told about decisions. A held answer asked for while the store is down is refused
(``StoreUnavailable``), never acknowledged and then lost.
"""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, update

from guard import Guard
from guard.errors import StoreUnavailable
from guard.store import open_store
from guard.store.engine import database_url
from guard.store.schema import outbox
from tests.spec.receiver import SECRET, Receiver
from tests.store.test_guard_recording import QUESTION, make_config, wait_for
from tests.support.postgres_server import PrivatePostgres


@pytest.fixture
def private_postgres():
    server = PrivatePostgres()
    server.start()
    yield server
    server.remove()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_postgresql_restarted_under_load_loses_nothing_and_answers_keep_flowing(upstream, private_postgres):
    port = free_port()  # the app's webhook endpoint: down at first, like the database will be
    level = {"confidence": 0.2}  # low: held for review (block), until the load starts
    config = make_config(private_postgres.url, telemetry={"batch_size": 5},
                         review={"policy": "block", "webhook_url": f"http://127.0.0.1:{port}/hook",
                                 "webhook_secret": SECRET, "webhook_max_attempts": 20})
    guard = Guard(config, layers=[], confidence=lambda signals: level["confidence"])
    decided_before = await guard.acomplete(QUESTION)
    # another conversation: the same one sent again would join the first's item (review.repeat_window_s)
    pending_through = await guard.acomplete([{"role": "user", "content": "And the warranty on the stand?"}])
    await guard.adecide(decided_before.guard.review.id, "approved", reviewer="ana")  # acknowledged, not yet told
    level["confidence"] = 0.9  # answers now go straight to the user: the load
    answered: list[str] = []

    async def load(requests: int) -> None:
        for _ in range(requests):
            answered.append((await guard.acomplete(QUESTION)).guard.request_id)

    async def under_load(action=None) -> None:
        work = [load(5) for _ in range(4)]
        await asyncio.gather(*work, *([asyncio.to_thread(action)] if action else []))

    await under_load()  # before
    await under_load(private_postgres.stop)  # while it goes down
    await under_load()  # while it is down
    level["confidence"] = 0.2
    with pytest.raises(StoreUnavailable):  # a held draft cannot be kept now: refused, not acknowledged
        await guard.acomplete(QUESTION)
    level["confidence"] = 0.9
    await under_load(private_postgres.start)  # while it comes back
    await under_load()  # after
    assert await asyncio.to_thread(guard.writer.flush, 60)
    await guard.aclose()  # guard restarts too (a deploy): what it had not told the app must survive that
    with create_engine(database_url(private_postgres.url)).begin() as conn:  # its retry is due: time has passed
        conn.execute(update(outbox).values(next_attempt_at=datetime.now(timezone.utc)))
    receiver = Receiver(port=port)
    try:
        guard = Guard(config, layers=[], confidence=lambda signals: level["confidence"])
        await guard.adecide(pending_through.guard.review.id, "edited", reviewer="ben", final_text="Two years.")
        assert await asyncio.to_thread(wait_for, lambda: len(receiver.received) == 2, 60)
        await guard.aclose()
    finally:
        receiver.close()

    store = open_store(private_postgres.url)
    assert len(answered) == 100  # every answer under load was given
    held = [decided_before.guard, pending_through.guard]
    assert [rid for rid in answered + [h.request_id for h in held] if store.get_request(rid) is None] == []
    assert [store.get_review(h.review.id).status for h in held] == ["approved", "edited"]
    told = sorted((json.loads(body)["review_id"], json.loads(body)["status"]) for _, body in receiver.received)
    assert told == sorted([(held[0].review.id, "approved"), (held[1].review.id, "edited")])
    store.close()
