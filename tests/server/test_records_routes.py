"""Feedback, the review queue and a request's stored verdict, over HTTP."""

from __future__ import annotations

import json
import threading

import httpx
import openai
import pytest

from tests.server.conftest import ADMIN_KEY, APP_KEY, MODEL
from tests.spec.receiver import SECRET, Receiver
from tests.store.conftest import everything_stored
from tests.store.test_guard_recording import wait_for
from tests.support.fake_upstream import Reply

QUESTION = [{"role": "user", "content": "What is the refund window?"}]
ADMIN = {"authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def held(start_proxy, upstream):
    """A proxy under block review, and one held answer through it."""
    proxy = start_proxy(server={"api_keys": [APP_KEY], "admin_keys": [ADMIN_KEY]},
                        review={"enabled": True, "policy": "block", "tiers": ["low"]})
    upstream.script["fake-model"] = [Reply(text="Ninety days, no questions asked.")]
    reply = proxy.client(APP_KEY).chat.completions.create(model=MODEL, messages=QUESTION)
    return proxy, reply.model_extra["guard"]


def test_a_held_answer_is_delivered_through_the_request_route_once_approved(held):
    proxy, verdict = held
    path = f"/v1/requests/{verdict['request_id']}"
    app = {"authorization": f"Bearer {APP_KEY}"}

    pending = httpx.get(proxy.url + path, headers=app).json()
    assert pending["status"] == "pending" and pending["answer"] is None

    review_id = verdict["review"]["id"]
    listed = httpx.get(proxy.url + "/v1/reviews", headers=ADMIN).json()["data"]
    assert [item["id"] for item in listed] == [review_id]
    shown = httpx.get(proxy.url + f"/v1/reviews/{review_id}", headers=ADMIN).json()
    assert shown["draft"] == "Ninety days, no questions asked." and shown["question"] == QUESTION[0]["content"]

    edited = httpx.post(proxy.url + f"/v1/reviews/{review_id}/edit", headers=ADMIN, json={"final_text": "Thirty days."})
    assert edited.status_code == 200 and edited.json()["status"] == "edited"
    assert httpx.get(proxy.url + path, headers=app).json()["answer"] == "Thirty days."


def test_deciding_twice_is_a_409_conflict(held):
    proxy, verdict = held
    review_id = verdict["review"]["id"]
    client = proxy.client(ADMIN_KEY)

    client.post(f"/reviews/{review_id}/approve", body={}, cast_to=object)
    with pytest.raises(openai.ConflictError) as caught:
        client.post(f"/reviews/{review_id}/reject", body={"reason": "wrong"}, cast_to=object)

    assert "already approved" in caught.value.message


def test_an_edit_without_final_text_is_a_400(held):
    proxy, verdict = held

    response = httpx.post(proxy.url + f"/v1/reviews/{verdict['review']['id']}/edit", headers=ADMIN, json={})

    assert response.status_code == 400 and response.json()["error"]["param"] == "final_text"


def test_unknown_review_and_request_are_404s(held):
    proxy, _ = held

    assert httpx.get(proxy.url + "/v1/reviews/rv_missing", headers=ADMIN).status_code == 404
    assert httpx.post(proxy.url + "/v1/reviews/rv_missing/approve", headers=ADMIN, json={}).status_code == 404
    assert httpx.get(proxy.url + "/v1/requests/gr_missing", headers=ADMIN).status_code == 404


def test_feedback_is_recorded_and_unknown_requests_are_404(held):
    proxy, verdict = held
    app = {"authorization": f"Bearer {APP_KEY}"}

    ok = httpx.post(proxy.url + "/v1/feedback", headers=app,
                    json={"request_id": verdict["request_id"], "rating": -1, "final_text": "Thirty days."})
    assert ok.status_code == 200 and ok.json()["rating"] == -1 and ok.json()["edited"] is True

    missing = httpx.post(proxy.url + "/v1/feedback", headers=app, json={"request_id": "gr_nope", "rating": 1})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_metrics_are_prometheus_text_for_admins(held):
    proxy, _ = held

    response = httpx.get(proxy.url + "/metrics", headers=ADMIN)

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert "guard_review_queue_depth 1.0" in response.text


EMAIL = "ana@example.com"
BLOCK = {"enabled": True, "policy": "block", "tiers": ["low"]}


def held_with_personal_data(start_proxy, upstream, **review):
    """A proxy under block review masking personal data, and one held answer naming an e-mail address."""
    proxy = start_proxy(server={"api_keys": [APP_KEY], "admin_keys": [ADMIN_KEY]}, review={**BLOCK, **review},
                        product={"pii_handling": "redact"})
    upstream.script["fake-model"] = [Reply(text=f"We wrote to {EMAIL}.")]
    verdict = proxy.client(APP_KEY).chat.completions.create(model=MODEL, messages=QUESTION).model_extra["guard"]
    return proxy, verdict, f"{proxy.url}/v1/requests/{verdict['request_id']}"


def test_a_polled_held_answer_reaches_the_app_as_written_once_and_the_store_keeps_it_masked(start_proxy, upstream):
    proxy, verdict, path = held_with_personal_data(start_proxy, upstream)
    app = {"authorization": f"Bearer {APP_KEY}"}
    httpx.post(proxy.url + f"/v1/reviews/{verdict['review']['id']}/approve", headers=ADMIN, json={})

    looked = httpx.get(path, headers=ADMIN).json()["answer"]  # an operator's look is not the delivery
    delivered = httpx.get(path, headers=app).json()["answer"]
    again = httpx.get(path, headers=app).json()["answer"]

    assert (looked, delivered, again) == (f"We wrote to {EMAIL}.",) * 2 + ("We wrote to [EMAIL].",)
    assert EMAIL not in everything_stored(proxy.guard.store)


def test_a_held_answer_reaches_the_webhook_and_the_poll_route_as_written_until_the_webhook_delivers_it(
        start_proxy, upstream):
    hold = threading.Event()
    receiver = Receiver(hold=hold)
    try:
        proxy, verdict, path = held_with_personal_data(start_proxy, upstream, webhook_url=receiver.url,
                                                       webhook_secret=SECRET)
        app = {"authorization": f"Bearer {APP_KEY}"}
        httpx.post(proxy.url + f"/v1/reviews/{verdict['review']['id']}/approve", headers=ADMIN, json={})
        assert receiver.entered.wait(10)  # the event is on its way: the receiver has not answered yet

        polled = httpx.get(path, headers=app).json()["answer"]
        hold.set()
        assert receiver.got.wait(10)

        [(_, body)] = receiver.received
        assert (polled, json.loads(body)["answer"]) == (f"We wrote to {EMAIL}.",) * 2
        store = proxy.guard.store
        assert wait_for(lambda: [e.status for e in store.outbox_events()] == ["delivered"])
        assert EMAIL not in everything_stored(store)
    finally:
        hold.set()
        receiver.close()
