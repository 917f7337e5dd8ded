"""The review webhook: signed, retried on server errors, never in the caller's way."""

from __future__ import annotations

import json
import logging
import socket
import threading

import pytest

from guard.config import GuardConfig, ReviewConfig, load_config
from guard.errors import ConfigError
from guard.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, verify_signature
from tests.spec.receiver import SECRET, Receiver


def sender_for(url: str, attempts: int = 3, **kwargs) -> WebhookSender:
    review = ReviewConfig(webhook_url=url, webhook_secret=SECRET, webhook_max_attempts=attempts)
    return WebhookSender(review, **{"backoff_initial_s": 0.01, "backoff_max_s": 0.02, **kwargs})


def test_the_event_arrives_as_json_with_a_signature_the_receiver_can_verify(receiver):
    sender = sender_for(receiver.url)

    sender.send({"type": "review.decided", "review_id": "r1", "status": "approved"})
    sender.close(timeout=5)

    [(headers, body)] = receiver.received
    assert json.loads(body) == {"type": "review.decided", "review_id": "r1", "status": "approved"}
    assert headers[SIGNATURE_HEADER].startswith("sha256=")
    assert verify_signature(SECRET, body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER])


def test_a_tampered_body_a_wrong_secret_or_an_old_timestamp_fail_verification(receiver):
    sender = sender_for(receiver.url)
    sender.send({"review_id": "r1"})
    sender.close(timeout=5)
    [(headers, body)] = receiver.received
    ts, sig = headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]

    assert not verify_signature(SECRET, body.replace(b"r1", b"r2"), ts, sig)
    assert not verify_signature("other-secret", body, ts, sig)
    assert not verify_signature(SECRET, body, ts, sig, now=float(ts) + 3600)


def test_a_server_error_is_retried_with_the_same_delivery_id():
    receiver = Receiver(statuses=[500, 503])
    try:
        sender = sender_for(receiver.url, attempts=3)
        sender.send({"review_id": "r1"})
        sender.close(timeout=5)
    finally:
        receiver.close()

    assert len(receiver.received) == 3
    assert len({headers[DELIVERY_HEADER] for headers, _ in receiver.received}) == 1
    assert receiver.got.is_set()


def test_a_client_error_is_not_retried():
    receiver = Receiver(statuses=[400])
    try:
        sender = sender_for(receiver.url, attempts=3)
        sender.send({"review_id": "r1"})
        sender.close(timeout=5)
    finally:
        receiver.close()

    assert len(receiver.received) == 1


def test_it_gives_up_after_the_configured_attempts_and_keeps_sending_later_events():
    receiver = Receiver(statuses=[500, 500])
    try:
        sender = sender_for(receiver.url, attempts=2)
        sender.send({"review_id": "lost"})
        sender.send({"review_id": "next"})
        sender.close(timeout=5)
    finally:
        receiver.close()

    assert [json.loads(body)["review_id"] for _, body in receiver.received] == ["lost", "lost", "next"]


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/hook"


def test_send_returns_while_the_endpoint_has_not_answered():
    release = threading.Event()
    receiver = Receiver(hold=release)
    try:
        sender = sender_for(receiver.url)
        for i in range(20):
            sender.send({"review_id": f"r{i}"})
        assert receiver.entered.wait(5) and not receiver.received  # every send returned before the first answer
        release.set()
        sender.close(timeout=5)
    finally:
        receiver.close()

    assert len(receiver.received) == 20


def test_a_dead_endpoint_is_logged_and_close_gives_up_on_what_is_left(caplog):
    sender = sender_for(_dead_url(), attempts=20, backoff_initial_s=30, backoff_max_s=30)

    with caplog.at_level(logging.ERROR, logger="guard"):
        for i in range(5):
            sender.send({"review_id": f"r{i}"})
        sender.close(timeout=0.2)

    messages = [record.getMessage() for record in caplog.records if record.name == "guard"]
    assert len(messages) == 5  # one error per event: failed after its attempts, or never tried
    assert all("webhook_failed" in m or "closed before delivery" in m for m in messages)
    assert not any(t.name == "guard-webhook" and t.is_alive() for t in threading.enumerate())


def test_without_a_url_send_does_nothing():
    sender = WebhookSender(GuardConfig())

    sender.send({"review_id": "r1"})
    sender.close()

    assert not any(t.name == "guard-webhook" and t.is_alive() for t in threading.enumerate())


def test_the_secret_comes_from_the_environment_and_is_never_shown(tmp_path, monkeypatch):
    (tmp_path / "guard.yaml").write_text("review: {webhook_url: 'https://app.example/hook'}\n")
    monkeypatch.setenv("GUARD_REVIEW__WEBHOOK_SECRET", SECRET)

    config = load_config(tmp_path / "guard.yaml")

    assert config.review.webhook_secret.get_secret_value() == SECRET
    assert SECRET not in repr(config) and SECRET not in config.model_dump_json()


def test_a_url_without_a_secret_is_a_config_error():
    with pytest.raises(ConfigError, match="webhook_secret"):
        load_config(review={"webhook_url": "https://app.example/hook"})
