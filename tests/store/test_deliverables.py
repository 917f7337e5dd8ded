"""Under ``pii_handling: redact`` the store keeps masked copies, yet a held answer reaches its user as written.

The text as written waits apart (the ``deliverables`` table) until it is delivered, by the webhook or the app's
poll, and goes when the item is rejected, expires or is purged: afterwards no table holds it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from guard import Guard
from guard.review import HELD_MESSAGE
from guard.store import open_store, utcnow
from tests.spec.receiver import SECRET, Receiver
from tests.store.conftest import everything_stored, item
from tests.store.test_guard_recording import make_config, make_guard
from tests.support.fake_upstream import Reply

EMAIL = "ana@example.com"
QUESTION = [{"role": "user", "content": f"Mail {EMAIL} please"}]
DRAFT = f"We wrote to {EMAIL}."
REDACT = {"risk": "high", "pii_handling": "redact"}  # high risk: a low tier holds the answer (review.policy block)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def held_guard(database: str, **sections) -> Guard:
    return make_guard(database, confidence=0.2, product=REDACT, **sections)


async def test_an_approved_held_answer_reaches_the_webhook_as_written_and_the_store_keeps_it_masked(
        upstream, database, receiver):
    upstream.script["primary-model"] = [Reply(text=DRAFT)]
    guard = held_guard(database, review={"webhook_url": receiver.url, "webhook_secret": SECRET})
    reply = await guard.acomplete(QUESTION)
    assert reply.choices[0].message.content == HELD_MESSAGE
    assert EMAIL not in everything_stored(guard.store, but=("deliverables",))

    await guard.adecide(reply.guard.review.id, "approved", reviewer="ben")

    assert await asyncio.to_thread(receiver.got.wait, 10)
    [(_, body)] = receiver.received
    assert json.loads(body)["answer"] == DRAFT
    await guard.aclose()
    store = open_store(database)
    assert EMAIL not in everything_stored(store)  # delivered: the text as written is gone, the outbox row masked
    assert store.outbox_events()[0].payload["answer"] == "We wrote to [EMAIL]."


async def test_a_reviewers_edit_reaches_the_user_as_written_and_is_stored_masked(upstream, database):
    upstream.script["primary-model"] = [Reply(text="We will write to you.")]
    guard = held_guard(database)  # no webhook_url: the app polls
    reply = await guard.acomplete(QUESTION)

    await guard.adecide(reply.guard.review.id, "edited", reviewer="ben", final_text=f"We wrote to {EMAIL} today.",
                        reason=f"the customer is {EMAIL}")

    stored = guard.store.get_review(reply.guard.review.id)
    assert (stored.final_text, stored.reason) == ("We wrote to [EMAIL] today.", "the customer is [EMAIL]")
    assert (await guard.areview_for(reply.guard.request_id)).final_text == f"We wrote to {EMAIL} today."
    assert EMAIL not in everything_stored(guard.store)  # the poll was its delivery
    await guard.aclose()


async def test_an_operators_look_is_not_the_delivery(upstream, database):
    upstream.script["primary-model"] = [Reply(text=DRAFT)]
    guard = held_guard(database)
    reply = await guard.acomplete(QUESTION)
    await guard.adecide(reply.guard.review.id, "approved", reviewer="ben")

    looked = await guard.areview_for(reply.guard.request_id, delivering=False)
    delivered = await guard.areview_for(reply.guard.request_id)
    again = await guard.areview_for(reply.guard.request_id)

    assert (looked.draft, delivered.draft, again.draft) == (DRAFT, DRAFT, "We wrote to [EMAIL].")
    await guard.aclose()


async def test_a_rejected_held_answer_leaves_nothing_unmasked(upstream, database):
    upstream.script["primary-model"] = [Reply(text=DRAFT)]
    guard = held_guard(database)
    reply = await guard.acomplete(QUESTION)

    await guard.adecide(reply.guard.review.id, "rejected", reviewer="ben", reason=f"never name {EMAIL}")

    assert (await guard.areview_for(reply.guard.request_id)).draft == "We wrote to [EMAIL]."
    assert EMAIL not in everything_stored(guard.store)
    await guard.aclose()


async def test_layer_reasons_and_the_feedback_user_are_masked_in_the_store(upstream, database):
    upstream.script["primary-model"] = [Reply(text=DRAFT)]

    class Quoting:
        """A layer whose failure quotes the answer, as an error message may."""

        name, phase = "quoting", "after_model"

        async def run(self, state) -> None:
            raise RuntimeError(f"could not check {state.answer!r}")

    guard = Guard(make_config(database, product={"pii_handling": "redact"}), layers=[Quoting()],
                  confidence=lambda signals: 0.9)
    reply = await guard.acomplete(QUESTION)
    assert reply.choices[0].message.content == DRAFT  # what the user receives is never masked
    await guard.afeedback(reply.guard.request_id, rating=1, user=EMAIL)
    await guard.aclose()

    store = open_store(database)
    assert "[EMAIL]" in store.get_request(reply.guard.request_id).layers["quoting"]["reason"]
    assert store.feedback_events(reply.guard.request_id)[0]["user"] == "[EMAIL]"
    assert EMAIL not in everything_stored(store)


# -- the store: the text as written, kept apart and deleted -----------------------------------------------------

def test_the_webhook_sends_the_text_as_written_and_its_delivery_deletes_it(store):
    store.submit_review(item("rv_1", policy="block", draft="[EMAIL]"), deliverable=EMAIL)
    store.decide_review("rv_1", "approved", reviewer="ben")

    event = store.claim_event(lease_s=60)
    assert event.payload["answer"] == EMAIL and store.outbox_events()[0].payload["answer"] == "[EMAIL]"
    store.event_delivered(event.id)

    assert store.deliverable("rv_1") is None


def test_an_edit_replaces_the_draft_as_written_and_an_edit_without_personal_data_needs_none(store):
    for review_id in ("rv_1", "rv_2"):
        store.submit_review(item(review_id, request_id="gr_" + review_id, policy="block", draft="[EMAIL]"),
                            deliverable=EMAIL)

    store.decide_review("rv_1", "edited", reviewer="ben", final_text="Hi [EMAIL]", deliverable=f"Hi {EMAIL}")
    store.decide_review("rv_2", "edited", reviewer="ben", final_text="Hi there")

    assert (store.deliverable("rv_1"), store.deliverable("rv_2")) == (f"Hi {EMAIL}", None)


def test_an_expired_held_answer_keeps_no_text_as_written(store):
    store.submit_review(item("rv_1", policy="block", draft="[EMAIL]", expires_in=timedelta(seconds=-1)),
                        deliverable=EMAIL)

    assert store.expire_reviews() == 1

    assert EMAIL not in everything_stored(store)


def test_purging_old_reviews_deletes_answers_as_written_never_delivered(store):
    old = utcnow() - timedelta(days=60)
    store.submit_review(item("rv_1", policy="block", draft="[EMAIL]", at=old, expires_in=None), deliverable=EMAIL)
    store.decide_review("rv_1", "approved", reviewer="ben")  # approved, but the app never came for it

    assert store.purge_reviews(utcnow() - timedelta(days=30)) == 1

    assert EMAIL not in everything_stored(store)
