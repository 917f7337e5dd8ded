"""Nothing kept forever: records and ended review items past their retention are purged, pending ones never."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from typer.testing import CliRunner

from guard import Guard, GuardConfig
from guard.adapters.cli import app
from guard.store import utcnow
from tests.store.conftest import item, record

runner = CliRunner()
OLD, RECENT = utcnow() - timedelta(days=60), utcnow() - timedelta(days=1)
CUTOFF = utcnow() - timedelta(days=30)


def seed(store) -> None:
    """An old and a recent record with feedback; old items decided, pending and held-with-event; a recent one."""
    store.write_requests([record("gr_old", at=OLD), record("gr_new", at=RECENT)])
    store.record_feedback("gr_old", rating=1)
    store.record_feedback("gr_new", rating=-1)
    for review_id, at, policy in (("rv_old", OLD, "block"), ("rv_old_pending", OLD, "flag"),
                                  ("rv_new", RECENT, "flag")):
        store.submit_review(item(review_id, request_id="gr_" + review_id, at=at, policy=policy, expires_in=None))
    store.decide_review("rv_old", "approved", reviewer="ana")
    store.decide_review("rv_new", "approved", reviewer="ana")


def back_date_feedback(store) -> None:
    """Feedback is stamped now; the old record's feedback is as old as its record."""
    from sqlalchemy import update

    from guard.store.schema import feedback, outbox, reviews

    with store.engine.begin() as conn:
        conn.execute(update(feedback).where(feedback.c.request_id == "gr_old").values(created_at=OLD))
        conn.execute(update(outbox).values(status="delivered"))
        conn.execute(update(reviews).where(reviews.c.id == "rv_old").values(created_at=OLD))


def test_purging_records_deletes_the_old_ones_with_their_feedback_and_keeps_the_recent(store):
    seed(store)
    back_date_feedback(store)

    assert store.purge_records(CUTOFF) == 1

    assert store.get_request("gr_old") is None and store.feedback_events("gr_old") == []
    assert store.get_request("gr_new") is not None and len(store.feedback_events("gr_new")) == 1


def test_purging_reviews_deletes_ended_old_items_with_their_history_and_sent_events_never_pending_ones(store):
    seed(store)
    back_date_feedback(store)

    assert store.purge_reviews(CUTOFF) == 1

    assert store.get_review("rv_old") is None and store.review_events("rv_old") == []
    assert store.outbox_events(review_id="rv_old") == []
    assert store.get_review("rv_old_pending").status == "pending"
    assert store.get_review("rv_new").status == "approved"


def test_an_event_not_yet_delivered_outlives_the_purge_of_its_item(store):
    seed(store)

    store.purge_reviews(utcnow() + timedelta(days=1))

    assert [e.status for e in store.outbox_events(review_id="rv_old")] == ["pending"]


def test_a_guard_with_a_retention_purges_in_the_background(store, database):
    seed(store)
    back_date_feedback(store)
    config = GuardConfig(telemetry={"database": database, "retention_days": 30}, review={"retention_days": 30})

    guard = Guard(config, layers=[])
    deadline = time.monotonic() + 20
    while store.get_request("gr_old") is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    guard.close()

    assert store.get_request("gr_old") is None and store.get_review("rv_old") is None
    assert store.get_request("gr_new") is not None and store.get_review("rv_old_pending") is not None


def test_without_a_retention_a_guard_purges_nothing(store, database):
    seed(store)
    back_date_feedback(store)

    guard = Guard(GuardConfig(telemetry={"database": database}), layers=[])
    running = [t.name for t in threading.enumerate()]
    guard.close()

    assert "guard-purge" not in running
    assert store.get_request("gr_old") is not None


def test_guard_purge_deletes_what_is_older_than_the_date(store, database):
    seed(store)
    back_date_feedback(store)

    result = runner.invoke(app, ["purge", "--before", CUTOFF.date().isoformat(), "--yes", "--database", database])

    assert result.exit_code == 0, result.output
    assert "deleted 1 records and 1 review items" in result.output
    assert store.get_request("gr_old") is None and store.get_review("rv_old") is None
    assert store.get_request("gr_new") is not None


def test_guard_purge_asks_first_and_deletes_nothing_when_told_no(store, database):
    seed(store)

    result = runner.invoke(app, ["purge", "--before", "30d", "--database", database], input="n\n")

    assert result.exit_code == 1
    assert store.get_request("gr_old") is not None
