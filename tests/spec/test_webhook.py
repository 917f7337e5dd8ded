"""The review webhook: events from the store's outbox, signed, retried, never lost, never in the caller's way."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from guard import Guard, GuardConfig
from guard.config import ReviewConfig, load_config
from guard.errors import ConfigError
from guard.review import record_decision
from guard.store import open_store
from guard.store.schema import outbox
from guard.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, verify_signature
from tests.spec.receiver import SECRET, Receiver
from tests.store.conftest import item


@pytest.fixture
def store(tmp_path):
    opened = open_store(str(tmp_path / "guard.db"))
    yield opened
    opened.close()


def sender_for(url: str | None, store, attempts: int = 3, **kwargs) -> WebhookSender:
    review = ReviewConfig(webhook_url=url, webhook_secret=SECRET if url else None, webhook_max_attempts=attempts)
    return WebhookSender(review, store, **{"backoff_initial_s": 0.01, "backoff_max_s": 0.02, "poll_s": 0.02,
                                           **kwargs})


def held(store, sender, review_id: str = "rv_1", decision: str = "approved") -> None:
    """A held answer, decided: its event is in the outbox, the sender woken."""
    store.submit_review(item(review_id, request_id="gr_" + review_id, policy="block"))
    record_decision(store, sender, review_id, decision, reviewer="ana")


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_event_arrives_as_json_with_a_signature_the_receiver_can_verify(receiver, store):
    sender = sender_for(receiver.url, store)

    held(store, sender)
    sender.close(timeout=5)

    [(headers, body)] = receiver.received
    event = json.loads(body)
    assert (event["type"], event["review_id"], event["status"], event["answer"]) == (
        "review.decided", "rv_1", "approved", "Refunds take 30 days.")
    assert headers[SIGNATURE_HEADER].startswith("sha256=")
    assert verify_signature(SECRET, body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER])
    assert [e.status for e in store.outbox_events()] == ["delivered"]


def test_a_tampered_body_a_wrong_secret_or_an_old_timestamp_fail_verification(receiver, store):
    sender = sender_for(receiver.url, store)
    held(store, sender)
    sender.close(timeout=5)
    [(headers, body)] = receiver.received
    ts, sig = headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]

    assert not verify_signature(SECRET, body.replace(b"rv_1", b"rv_2"), ts, sig)
    assert not verify_signature("other-secret", body, ts, sig)
    assert not verify_signature(SECRET, body, ts, sig, now=float(ts) + 3600)


def test_a_server_error_is_retried_with_the_same_delivery_id(store):
    receiver = Receiver(statuses=[500, 503])
    try:
        sender = sender_for(receiver.url, store, attempts=3)
        held(store, sender)
        assert receiver.got.wait(10)
        sender.close(timeout=5)
    finally:
        receiver.close()

    assert len(receiver.received) == 3
    assert len({headers[DELIVERY_HEADER] for headers, _ in receiver.received}) == 1
    assert [(e.status, e.attempts) for e in store.outbox_events()] == [("delivered", 3)]


def test_a_client_error_is_not_retried(store):
    receiver = Receiver(statuses=[400])
    try:
        sender = sender_for(receiver.url, store, attempts=3)
        held(store, sender)
        assert wait_for(lambda: store.outbox_events()[0].status == "failed")
        sender.close(timeout=5)
    finally:
        receiver.close()

    assert len(receiver.received) == 1
    assert store.outbox_events()[0].last_error == "HTTP 400"


def test_it_gives_up_after_the_configured_attempts_and_keeps_sending_later_events(store):
    receiver = Receiver(statuses=[500, 500])
    try:
        sender = sender_for(receiver.url, store, attempts=2)
        held(store, sender, "rv_lost")
        assert wait_for(lambda: store.outbox_events()[0].status == "failed")
        held(store, sender, "rv_next")
        assert receiver.got.wait(10)
        sender.close(timeout=5)
    finally:
        receiver.close()

    assert [json.loads(body)["review_id"] for _, body in receiver.received] == ["rv_lost", "rv_lost", "rv_next"]


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/hook"


def test_deciding_returns_while_the_endpoint_has_not_answered(store):
    release = threading.Event()
    receiver = Receiver(hold=release)
    try:
        sender = sender_for(receiver.url, store)
        for i in range(5):
            held(store, sender, f"rv_{i}")
        assert receiver.entered.wait(5) and not receiver.received  # every decision returned before the first answer
        release.set()
        assert wait_for(lambda: len(receiver.received) == 5)
        sender.close(timeout=5)
    finally:
        receiver.close()


def test_an_event_not_delivered_before_shutdown_is_delivered_by_the_next_sender(store, receiver):
    down = sender_for(_dead_url(), store, attempts=20, backoff_initial_s=30, backoff_max_s=30)
    held(store, down)
    assert wait_for(lambda: store.outbox_events()[0].attempts == 1)
    down.close(timeout=0.2)
    assert not any(t.name == "guard-webhook" and t.is_alive() for t in threading.enumerate())
    with store.engine.begin() as conn:  # the retry is due now (not in 30 s), as after a restart some time later
        conn.execute(update(outbox).values(next_attempt_at=datetime.now(timezone.utc)))

    restarted = sender_for(receiver.url, store)
    assert receiver.got.wait(10)
    restarted.close(timeout=5)

    [(_, body)] = receiver.received
    assert json.loads(body)["review_id"] == "rv_1"
    assert [(e.status, e.attempts) for e in store.outbox_events()] == [("delivered", 2)]


def test_a_held_answer_past_its_time_is_sent_as_expired_without_anyone_reading_the_queue(store, receiver):
    store.submit_review(item("rv_late", request_id="gr_late", policy="block", expires_in=timedelta(seconds=-1)))

    sender = sender_for(receiver.url, store)
    assert receiver.got.wait(10)
    sender.close(timeout=5)

    [(_, body)] = receiver.received
    event = json.loads(body)
    assert (event["type"], event["review_id"], event["status"], event["answer"]) == (
        "review.expired", "rv_late", "expired", None)


def test_without_a_url_no_thread_runs_and_events_wait_in_the_outbox(store):
    sender = sender_for(None, store)

    held(store, sender)
    sender.close()

    assert not any(t.name == "guard-webhook" and t.is_alive() for t in threading.enumerate())
    assert [e.status for e in store.outbox_events()] == ["pending"]


def test_the_secret_comes_from_the_environment_and_is_never_shown(tmp_path, monkeypatch):
    (tmp_path / "guard.yaml").write_text("review: {webhook_url: 'https://app.example/hook'}\n")
    monkeypatch.setenv("GUARD_REVIEW__WEBHOOK_SECRET", SECRET)

    config = load_config(tmp_path / "guard.yaml")

    assert config.review.webhook_secret.get_secret_value() == SECRET
    assert SECRET not in repr(config) and SECRET not in config.model_dump_json()


def test_a_url_without_a_secret_is_a_config_error():
    with pytest.raises(ConfigError, match="webhook_secret"):
        load_config(review={"webhook_url": "https://app.example/hook"})


def test_notify_by_webhook_without_a_url_is_a_config_error():
    with pytest.raises(ConfigError, match="review.notify"):
        load_config(review={"notify": "webhook"})


def _warnings(caplog, **config) -> list[str]:
    with caplog.at_level(logging.WARNING, logger="guard"):
        Guard(GuardConfig(**config), layers=[]).close()
    return [r.getMessage() for r in caplog.records
            if r.name == "guard" and "held_answers_need_polling" in r.getMessage()]


def test_held_answers_with_no_webhook_and_no_stated_way_to_learn_decisions_are_warned_about(caplog):
    assert len(_warnings(caplog, review={"policy": "block"})) == 1


@pytest.mark.parametrize("review", [{"policy": "block", "notify": "poll"}, {"policy": "flag"},
                                    {"policy": "block", "webhook_url": "https://app.example/hook",
                                     "webhook_secret": SECRET}])
def test_no_warning_when_the_app_is_told_polling_is_intended_or_nothing_is_held(caplog, review):
    assert _warnings(caplog, review=review) == []
