"""Feedback, the review queue and a request's stored verdict, over HTTP."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.server.conftest import ADMIN_KEY, APP_KEY, MODEL
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
