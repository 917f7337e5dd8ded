"""One bad request must not stop the others: what a client sends is stored as the database can hold it.

The issue's reproduction, through the proxy on each backend: a chat message with ``\\u0000`` (valid JSON,
refused by PostgreSQL's text and JSONB) under ``review.policy: block``, then an ordinary request.
"""

from __future__ import annotations

import httpx

from tests.server.conftest import MODEL, start_proxy  # noqa: F401 - the fixture
from tests.support.fake_upstream import Reply

HELD = {"enabled": True, "policy": "block", "tiers": ["low"]}


def test_a_nul_in_a_held_chat_message_is_queued_and_the_next_request_works(start_proxy, upstream, database):
    proxy = start_proxy(telemetry={"database": database}, review=HELD)
    upstream.script["fake-model"] = [Reply(text="Ninety\u0000 days."), Reply(text="Thirty days.")]
    client = proxy.client()

    bad = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Refund\u0000 window?"}])
    after = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Refund window?"}])

    bad_id, after_id = (r.model_extra["guard"]["request_id"] for r in (bad, after))
    assert [r.model_extra["guard"]["review"]["status"] for r in (bad, after)] == ["pending", "pending"]
    feedback = httpx.post(proxy.url + "/v1/feedback", json={"request_id": after_id, "rating": 1}, timeout=20)
    assert feedback.status_code == 200  # its record reached the store: nothing queues behind the bad one
    assert proxy.guard.writer.flush(timeout=20)
    assert proxy.guard.store.get_request(bad_id).question == "Refund\ufffd window?"
    assert proxy.guard.review_for(bad_id).draft == "Ninety\ufffd days."
