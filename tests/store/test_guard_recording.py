"""Guard end to end against the fake upstream: what each answer leaves in the store, and when."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from guard import AsyncClient, Client, Guard, GuardConfig, ModelCallError
from guard.errors import StoreUnavailable, UnknownRequest
from guard.review import HELD_MESSAGE, labels
from guard.store import open_store
from tests.support.fake_upstream import Reply

PRIMARY = "openai/primary-model"
QUESTION = [{"role": "user", "content": "How long is the warranty?"}]


def make_config(database: str, **sections) -> GuardConfig:
    telemetry = {"database": database, **sections.pop("telemetry", {})}
    models = {"default": PRIMARY, "max_attempts": 1, "timeout_s": 10}
    return GuardConfig(models=models, telemetry=telemetry, product={"name": "shop", **sections.pop("product", {})},
                       **sections)


def make_guard(database: str, *, confidence: float = 0.9, **sections) -> Guard:
    """A guard without verification layers, whose confidence is fixed: the tier (and review) is the test's choice."""
    return Guard(make_config(database, **sections), layers=[], confidence=lambda signals: confidence)


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def failures(guard: Guard, reason: str) -> float:
    return guard.metrics.registry.get_sample_value("guard_store_write_failures_total", {"reason": reason}) or 0.0


async def test_every_answer_is_recorded_with_what_the_report_needs(upstream, database):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    guard = Guard(make_config(database))

    reply = await guard.acomplete(QUESTION)
    await guard.aclose()

    store = open_store(database)
    rec = store.get_request(reply.guard.request_id)
    assert (rec.product, rec.model_requested, rec.model_served) == ("shop", PRIMARY, reply.guard.model)
    assert (rec.tier, rec.confidence, rec.signals) == (reply.guard.tier, reply.guard.confidence, reply.guard.signals)
    assert set(rec.layers) == set(reply.guard.layers)
    assert (rec.prompt_tokens, rec.completion_tokens) == (12, 5)
    assert (rec.question, rec.answer, rec.streamed, rec.delivered) == ("How long is the warranty?", "Two years.", False, True)
    assert rec.latency_total_ms == reply.guard.usage.latency_ms.total
    assert rec.error_class is None
    store.close()


async def test_a_stream_records_its_time_to_first_token(upstream, database):
    upstream.script["primary-model"] = [Reply(stream_pieces=["Two ", "years."])]
    guard = make_guard(database, streaming={"mode": "provisional"})

    chunks = [chunk async for chunk in guard.astream(QUESTION)]
    await guard.aclose()

    rec = open_store(database).get_request(chunks[-1].guard.request_id)
    assert rec.streamed and rec.answer == "Two years." and rec.ttft_ms is not None


async def test_a_failed_model_call_is_recorded_and_raised(upstream, database):
    upstream.script["primary-model"] = [Reply(status=400, error_message="bad request")]
    guard = make_guard(database)

    with pytest.raises(ModelCallError):
        await guard.acomplete(QUESTION)
    await guard.aclose()

    (rec,) = open_store(database).requests_between(datetime(2000, 1, 1, tzinfo=timezone.utc), datetime.now(timezone.utc))
    assert rec.error_class and rec.tier is None and not rec.delivered


async def test_a_held_draft_is_in_the_store_before_the_answer_returns(upstream, database):
    upstream.script["primary-model"] = [Reply(text="It is ten years.")]
    guard = make_guard(database, confidence=0.2, product={"risk": "high"})

    reply = await guard.acomplete(QUESTION)

    assert reply.choices[0].message.content == HELD_MESSAGE
    other_process_view = open_store(database)
    item = other_process_view.get_review(reply.guard.review.id)
    assert (item.status, item.policy, item.draft, item.question) == ("pending", "block", "It is ten years.",
                                                                     "How long is the warranty?")
    assert set(item.context) == {"signals", "layers", "citations", "unsupported", "sources"}
    assert (await guard.areview_for(reply.guard.request_id)).id == item.id
    other_process_view.close()
    await guard.aclose()


def lock(path: str) -> sqlite3.Connection:
    """Another process holding the SQLite file's write lock."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


async def test_a_held_draft_that_cannot_be_stored_fails_the_call(upstream, tmp_path):
    database = str(tmp_path / "locked.db")
    guard = make_guard(database, confidence=0.2, product={"risk": "high"}, telemetry={"busy_timeout_s": 0.05})
    holder = lock(database)

    with pytest.raises(StoreUnavailable, match="could not be queued for review"):
        await guard.acomplete(QUESTION)

    holder.rollback()
    assert failures(guard, "review") == 1
    await guard.aclose()


async def test_a_locked_database_still_returns_the_answer_and_counts_the_failure(upstream, tmp_path):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    database = str(tmp_path / "locked.db")
    guard = make_guard(database, confidence=0.2, product={"risk": "low"}, telemetry={"busy_timeout_s": 0.05})
    holder = lock(database)

    reply = await guard.acomplete(QUESTION)

    assert reply.choices[0].message.content == "Two years."
    assert reply.guard.review.required and reply.guard.review.id is None
    assert failures(guard, "review") == 1
    assert wait_for(lambda: failures(guard, "StoreUnavailable") >= 1)  # the record's write failed, and is retried
    holder.rollback()
    await guard.aclose()
    assert open_store(database).get_request(reply.guard.request_id) is not None  # not dropped


async def test_with_telemetry_off_reviews_stay_durable(upstream, database):
    guard = make_guard(database, confidence=0.2, product={"risk": "high"}, telemetry={"enabled": False})

    reply = await guard.acomplete(QUESTION)
    await guard.aclose()

    reopened = open_store(database)
    assert reopened.get_review(reply.guard.review.id).status == "pending"
    assert reopened.get_request(reply.guard.request_id) is None
    reopened.close()


def test_feedback_from_the_client_measures_the_edit(upstream, database):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    with Client(guard=make_guard(database)) as client:
        reply = client.chat.completions.create(messages=QUESTION)

        fb = client.feedback(reply.guard.request_id, rating=+1, final_text="Two years, from the purchase date.")

        assert (fb.rating, fb.edited) == (1, True) and fb.edit_distance > 0
        with pytest.raises(UnknownRequest):
            client.feedback("gr_does_not_exist", rating=-1)


async def test_feedback_from_the_async_client_updates_the_same_row(upstream, database):
    client = AsyncClient(guard=make_guard(database))
    reply = await client.chat.completions.create(messages=QUESTION)

    await client.feedback(reply.guard.request_id, rating=-1)
    fb = await client.feedback(reply.guard.request_id, resolved=True)

    assert (fb.rating, fb.resolved) == (-1, True)
    assert len(client.guard.store.feedback_events(reply.guard.request_id)) == 2
    await client.aclose()


async def test_deciding_a_held_answer_queues_its_event_for_the_app_with_the_decision(upstream, database):
    upstream.script["primary-model"] = [Reply(text="It is ten years.")]
    guard = make_guard(database, confidence=0.2, product={"risk": "high"})
    reply = await guard.acomplete(QUESTION)

    await guard.adecide(reply.guard.review.id, "edited", reviewer="ana", final_text="It is two years.")

    (event,) = guard.store.outbox_events()
    assert (event.type, event.status) == ("review.decided", "pending")  # no webhook_url here: nobody sends it
    assert (event.payload["request_id"], event.payload["status"], event.payload["answer"]) == (
        reply.guard.request_id, "edited", "It is two years.")
    assert guard.review_for(reply.guard.request_id).edit_distance > 0
    await guard.aclose()


async def test_decisions_on_flagged_answers_queue_no_event_but_become_labels(upstream, database):
    guard = make_guard(database, confidence=0.2, product={"risk": "low"})
    # two conversations: the same one sent again would join its pending item (review.repeat_window_s)
    good, bad = [await guard.acomplete([{"role": "user", "content": q}]) for q in ("Warranty?", "Refunds?")]

    guard.decide(good.guard.review.id, "approved", reviewer="ana")
    guard.decide(bad.guard.review.id, "rejected", reviewer="ana", reason="wrong")

    assert guard.store.outbox_events() == []
    assert sorted(label for _, label in labels(guard.store)) == [0, 1]
    await guard.aclose()


async def test_personal_data_is_masked_in_what_is_stored(upstream, database):
    upstream.script["primary-model"] = [Reply(text="We wrote to ana@example.com.")]
    guard = make_guard(database, confidence=0.2, product={"risk": "high", "pii_handling": "redact"})

    reply = await guard.acomplete([{"role": "user", "content": "Mail ana@example.com please"}])
    await guard.aclose()

    store = open_store(database)
    assert "ana@example.com" not in store.get_request(reply.guard.request_id).model_dump_json()
    assert "ana@example.com" not in store.get_review(reply.guard.review.id).model_dump_json()


class SupportFindsNothing:
    """The support check, run and finding no unsupported claim: the answer is unflagged."""

    name, phase = "support", "after_model"

    async def run(self, state) -> None:
        pass


def auditing_guard(database: str, confidence: float) -> Guard:
    config = make_config(database, review={"audit_fraction": 1.0, "policy": "block"})
    return Guard(config, layers=[SupportFindsNothing()], confidence=lambda signals: confidence)


async def test_an_unflagged_answer_drawn_for_audit_is_queued_as_audit_and_never_held(upstream, database):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    guard = auditing_guard(database, confidence=0.9)

    reply = await guard.acomplete(QUESTION)

    assert reply.choices[0].message.content == "Two years."
    assert reply.guard.review.required is False  # the app is not asked to wait or act
    [item] = guard.store.list_reviews()
    assert (item.request_id, item.audit, item.policy, item.draft) == (reply.guard.request_id, True, "flag", "Two years.")
    await guard.aclose()


async def test_an_answer_routed_by_its_tier_and_drawn_for_audit_is_one_item_marked_audit(upstream, database):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    guard = auditing_guard(database, confidence=0.2)

    reply = await guard.acomplete(QUESTION)

    assert reply.choices[0].message.content == HELD_MESSAGE  # held because of its tier, as without the audit
    [item] = guard.store.list_reviews()
    assert (item.id, item.audit, item.policy) == (reply.guard.review.id, True, "block")
    await guard.aclose()


async def test_without_an_audit_fraction_unflagged_answers_are_not_queued(upstream, database):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    config = make_config(database, review={"audit_fraction": 0.0})
    guard = Guard(config, layers=[SupportFindsNothing()], confidence=lambda signals: 0.9)

    await guard.acomplete(QUESTION)

    assert guard.store.list_reviews() == []
    await guard.aclose()
