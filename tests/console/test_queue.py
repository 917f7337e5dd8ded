"""The queue's labels and filters: how long an item waited, which expire soon, which ages a filter keeps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from guard.adapters.server.console.queue import Filters, expiry_note, waited
from guard.store import ReviewItem

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def item(age: timedelta, expires_in: timedelta | None = None) -> ReviewItem:
    return ReviewItem(id="rv_1", request_id="gr_1", created_at=NOW - age, policy="block", tier="low", draft="Hi.",
                      expires_at=None if expires_in is None else NOW + expires_in)


def test_an_item_expiring_within_the_hour_is_marked():
    assert expiry_note(item(timedelta(days=2), expires_in=timedelta(minutes=12)), NOW) == "expires in 12 min"


def test_an_item_with_time_left_is_not_marked():
    assert expiry_note(item(timedelta(hours=1), expires_in=timedelta(days=2)), NOW) is None


def test_waiting_time_reads_in_words():
    assert waited(item(timedelta(hours=3, minutes=5)), NOW) == "3 h 5 min"


def test_the_age_filter_keeps_only_items_that_waited_long_enough():
    old, new = item(timedelta(hours=2)), item(timedelta(minutes=5))
    filters = Filters.from_query({"age": "gt1h"})

    assert [filters.keep(i, NOW) for i in (old, new)] == [True, False]


def test_unknown_filter_values_are_ignored():
    filters = Filters.from_query({"tier": "purple", "policy": "maybe", "age": "forever", "model": "  "})

    assert not filters.active
