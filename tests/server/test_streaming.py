"""Streams through the proxy: provisional with the verdict last, buffered under block, and a client that leaves."""

from __future__ import annotations

import time

import httpx

from guard.review import HELD_MESSAGE
from tests.server.conftest import MODEL
from tests.support.fake_upstream import Reply

QUESTION = [{"role": "user", "content": "What is the refund window?"}]


def test_provisional_stream_sends_tokens_then_the_verdict_chunk(proxy, upstream):
    upstream.script["fake-model"] = [Reply(stream_pieces=["Thirty ", "days."])]

    chunks = list(proxy.client().chat.completions.create(model=MODEL, messages=QUESTION, stream=True))

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Thirty days."
    verdict = chunks[-1]
    assert verdict.choices == [] and verdict.model_extra["guard"]["tier"] in ("high", "medium", "low")
    assert verdict.usage is None  # the client did not ask for usage
    assert upstream.requests[-1]["stream_options"] == {"include_usage": True}  # ...but guard always does


def test_usage_is_kept_when_the_client_asks_for_it(proxy, upstream):
    chunks = list(proxy.client().chat.completions.create(model=MODEL, messages=QUESTION, stream=True,
                                                         stream_options={"include_usage": True}))

    assert chunks[-1].usage.prompt_tokens == 12 and chunks[-1].usage.completion_tokens == 5


def test_stream_ends_with_done_after_the_verdict(proxy):
    with httpx.stream("POST", proxy.url + "/v1/chat/completions",
                      json={"model": MODEL, "messages": QUESTION, "stream": True}) as response:
        events = [line for line in response.iter_lines() if line.startswith("data: ")]

    assert response.headers["x-guard-request-id"].startswith("gr_")
    assert events[-1] == "data: [DONE]"
    assert '"guard":' in events[-2]


def test_block_policy_buffers_the_stream_and_sends_only_the_holding_message(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "policy": "block", "tiers": ["low"]})
    upstream.script["fake-model"] = [Reply(text="An unverified answer.")]

    chunks = list(proxy.client().chat.completions.create(model=MODEL, messages=QUESTION, stream=True))

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == HELD_MESSAGE
    assert "unverified" not in text
    assert "stream" not in upstream.requests[-1] or not upstream.requests[-1]["stream"]  # generated, then verified
    review = chunks[-1].model_extra["guard"]["review"]
    assert review["required"] is True and review["policy"] == "block" and review["status"] == "pending"


def test_a_client_that_stops_reading_cancels_the_upstream_stream_and_the_partial_is_recorded(proxy, upstream):
    upstream.script["fake-model"] = [Reply(stream_pieces=[f"word{i} " for i in range(200)], chunk_delay_s=0.02)]

    with httpx.stream("POST", proxy.url + "/v1/chat/completions",
                      json={"model": MODEL, "messages": QUESTION, "stream": True}) as response:
        request_id = response.headers["x-guard-request-id"]
        lines = response.iter_lines()
        received = [next(lines) for _ in range(6)]
    assert any("word" in line for line in received)

    assert upstream.stream_cut.wait(5), "the upstream kept streaming to a client that had left"
    record = _wait_for_record(proxy, request_id)
    assert record.answer.startswith("word0 ") and len(record.answer.split()) < 200
    assert record.delivered is False


def _wait_for_record(proxy, request_id, timeout=5.0):
    """The abandoned stream is recorded beside the cancelled request: poll for it briefly."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proxy.guard.writer.flush(timeout=1)
        record = proxy.guard.store.get_request(request_id)
        if record is not None:
            return record
        time.sleep(0.05)
    raise AssertionError(f"no record for {request_id}")
