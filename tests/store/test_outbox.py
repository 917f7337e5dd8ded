"""The outbox: what the app is told about held answers, committed with the decision, sent by one worker at a time."""

from __future__ import annotations

import threading
from datetime import timedelta

from guard.store import utcnow
from tests.store.conftest import item


def test_a_decision_on_a_held_answer_commits_its_event_with_it(store):
    store.submit_review(item("rv_1", policy="block"))

    store.decide_review("rv_1", "edited", reviewer="ana", final_text="Refunds take 14 days.")

    (event,) = store.outbox_events()
    assert (event.type, event.review_id, event.status, event.attempts) == ("review.decided", "rv_1", "pending", 0)
    assert event.payload["answer"] == "Refunds take 14 days."


def test_a_decision_on_a_flagged_answer_tells_the_app_nothing(store):
    store.submit_review(item("rv_1", policy="flag"))

    store.decide_review("rv_1", "approved", reviewer="ana")

    assert store.outbox_events() == []


def test_a_held_answer_that_expires_queues_an_expired_event_and_a_flagged_one_does_not(store):
    late = timedelta(seconds=-1)
    store.submit_review(item("rv_held", request_id="gr_1", policy="block", expires_in=late))
    store.submit_review(item("rv_flag", request_id="gr_2", policy="flag", expires_in=late))

    assert store.expire_reviews() == 2

    (event,) = store.outbox_events()
    assert (event.type, event.review_id) == ("review.expired", "rv_held")
    assert (event.payload["status"], event.payload["answer"]) == ("expired", None)


def test_a_claimed_event_is_leased_to_one_sender_until_the_lease_ends(store):
    store.submit_review(item("rv_1", policy="block"))
    store.decide_review("rv_1", "approved", reviewer="ana")
    now = utcnow()

    first = store.claim_event(lease_s=60, now=now)
    meanwhile = store.claim_event(lease_s=60, now=now + timedelta(seconds=30))
    after_the_lease = store.claim_event(lease_s=60, now=now + timedelta(seconds=61))

    assert first is not None and meanwhile is None
    assert after_the_lease is not None and after_the_lease.delivery == first.delivery
    assert (first.attempts, after_the_lease.attempts) == (1, 2)


def test_senders_claiming_at_once_each_get_different_events(store):
    for n in range(12):
        store.submit_review(item(f"rv_{n}", request_id=f"gr_{n}", policy="block"))
        store.decide_review(f"rv_{n}", "approved", reviewer="ana")
    claimed: list[str] = []
    start = threading.Barrier(4)

    def sender() -> None:
        start.wait()
        while (event := store.claim_event(lease_s=60)) is not None:
            claimed.append(event.review_id)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(claimed) == sorted(f"rv_{n}" for n in range(12))


def test_a_delivered_event_is_not_claimed_again_and_a_failed_one_waits_for_its_retry(store):
    for n in (1, 2):
        store.submit_review(item(f"rv_{n}", request_id=f"gr_{n}", policy="block"))
        store.decide_review(f"rv_{n}", "approved", reviewer="ana")
    now = utcnow()
    delivered, failed = store.claim_event(60, now), store.claim_event(60, now)

    store.event_delivered(delivered.id)
    store.event_failed(failed.id, "HTTP 503", retry_at=now + timedelta(seconds=5))

    assert store.claim_event(60, now + timedelta(seconds=1)) is None
    assert store.claim_event(60, now + timedelta(seconds=6)).id == failed.id
