"""The spec through Guard: personal data never reaches the store, a decided held answer reaches the app."""

from __future__ import annotations

import json
import logging

import pytest

from guard import Guard, GuardConfig
from guard import logs as guard_logs
from guard.logs import configure_logging
from guard.messages import last_user_text
from guard.store import open_store
from guard.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from tests.spec.receiver import SECRET
from tests.support.fake_upstream import Reply

ANSWER = "We charged card 4111 1111 1111 1111 and will call (415) 555-2671 or mail ana@example.com; $3.99, SKU LUM-200."
QUESTION = [{"role": "user", "content": "I am ana@example.com, phone +44 20 7946 0958. Where is order LUM-200?"}]


def make_guard(tmp_path, **sections) -> Guard:
    """Held for review (high risk, fixed low confidence), no verification layers: the test picks the path."""
    config = GuardConfig(models={"default": "openai/primary-model", "max_attempts": 1, "timeout_s": 10},
                         telemetry={"database": str(tmp_path / "guard.db")}, **sections)
    return Guard(config, layers=[], confidence=lambda signals: 0.2)


async def test_under_redact_the_stored_answer_question_and_review_are_masked(upstream, tmp_path):
    upstream.script["primary-model"] = [Reply(text=ANSWER)]
    guard = make_guard(tmp_path, product={"risk": "high", "pii_handling": "redact"})

    reply = await guard.acomplete(QUESTION)
    await guard.aclose()

    store = open_store(str(tmp_path / "guard.db"))
    record, item = store.get_request(reply.guard.request_id), store.get_review(reply.guard.review.id)
    masked = "We charged card [CARD] and will call [PHONE] or mail [EMAIL]; $3.99, SKU LUM-200."
    assert record.answer == masked and item.draft == masked
    assert record.question == item.question == "I am [EMAIL], phone [PHONE]. Where is order LUM-200?"
    store.close()


async def test_without_redact_the_stored_answer_is_verbatim(upstream, tmp_path):
    upstream.script["primary-model"] = [Reply(text=ANSWER)]
    guard = make_guard(tmp_path, product={"risk": "high"})

    reply = await guard.acomplete(QUESTION)
    await guard.aclose()

    store = open_store(str(tmp_path / "guard.db"))
    assert store.get_request(reply.guard.request_id).answer == ANSWER
    store.close()


async def test_deciding_a_held_answer_posts_a_signed_event_to_the_webhook(upstream, tmp_path, receiver):
    upstream.script["primary-model"] = [Reply(text="The warranty is two years.")]
    guard = make_guard(tmp_path, product={"risk": "high"},
                       review={"webhook_url": receiver.url, "webhook_secret": SECRET})
    reply = await guard.acomplete(QUESTION)

    await guard.adecide(reply.guard.review.id, "approved", reviewer="ana")
    await guard.aclose()

    [(headers, body)] = receiver.received
    assert verify_signature(SECRET, body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER])
    event = json.loads(body)
    assert (event["request_id"], event["status"], event["answer"]) == (
        reply.guard.request_id, "approved", "The warranty is two years.")


class QuotingBrokenLayer:
    """A layer failing with an error that quotes the user's question, as exceptions often do."""

    name, phase = "quoting", "after_model"

    async def run(self, state) -> None:
        raise ValueError(f"cannot parse {last_user_text(state.messages)!r}")


@pytest.fixture
def guard_logging(monkeypatch):
    """configure_logging changes the ``guard`` logger; put it back for the next test."""
    logger = logging.getLogger("guard")
    for attr in ("handlers", "level", "propagate"):
        monkeypatch.setattr(logger, attr, getattr(logger, attr))
    for key, value in guard_logs._console.items():
        monkeypatch.setitem(guard_logs._console, key, value)


async def test_under_redact_the_log_events_are_masked(upstream, tmp_path, capsys, guard_logging):
    upstream.script["primary-model"] = [Reply(text=ANSWER)]
    config = GuardConfig(models={"default": "openai/primary-model", "max_attempts": 1, "timeout_s": 10},
                         telemetry={"database": str(tmp_path / "guard.db")}, logging={"format": "json"},
                         product={"pii_handling": "redact"})
    guard = Guard(config, layers=[QuotingBrokenLayer()], confidence=lambda signals: 0.9)
    configure_logging(config.logging)

    await guard.acomplete(QUESTION)
    await guard.aclose()

    err = capsys.readouterr().err
    events = {e["event"]: e for e in map(json.loads, filter(None, err.splitlines()))}
    assert {"layer_error", "guarded_completion"} <= events.keys()
    assert "ana@example.com" not in err and "7946 0958" not in err
    assert "I am [EMAIL], phone [PHONE]." in events["layer_error"]["error"]
