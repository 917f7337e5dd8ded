"""The drop-in client: same call as the openai SDK, OpenAI-shaped answers carrying `guard`."""

from __future__ import annotations

import json

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from guard import AsyncClient, Client, Guard
from tests.core.conftest import make_config
from tests.support.fake_upstream import Reply

QUESTION = [{"role": "user", "content": "How long is the warranty?"}]


def test_response_validates_as_an_openai_chat_completion(upstream):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    with Client(make_config()) as client:
        reply = client.chat.completions.create(model="openai/primary-model", messages=QUESTION, temperature=0)

    plain = ChatCompletion.model_validate(json.loads(reply.model_dump_json()))
    assert plain.choices[0].message.content == "Two years."
    assert reply.guard.request_id.startswith("gr_")
    assert reply.guard.tier in ("high", "medium", "low")


def test_every_layer_reports_its_status(upstream):
    with Client(make_config()) as client:
        reply = client.chat.completions.create(model="openai/primary-model", messages=QUESTION)

    assert set(reply.guard.layers) == {"grounding", "consistency", "support", "citations", "token_confidence"}
    for report in reply.guard.layers.values():
        assert report.status in ("ok", "skipped", "error")
        assert report.status == "ok" or report.reason


def test_unverified_answer_has_no_confidence_and_is_low_tier(upstream):
    with Client(make_config()) as client:
        reply = client.chat.completions.create(model="openai/primary-model", messages=QUESTION)

    assert reply.guard.signals == {} and reply.guard.confidence is None
    assert reply.guard.tier == "low"
    assert reply.guard.ux.disclaimer == "Low confidence. Please verify before using."


def test_provider_arguments_pass_through_to_the_model(upstream):
    with Client(make_config()) as client:
        client.chat.completions.create(model="openai/primary-model", messages=QUESTION, temperature=0.2, max_tokens=7)

    sent = upstream.requests[-1]
    assert sent["temperature"] == 0.2 and sent["max_tokens"] == 7


def test_streaming_yields_openai_chunks_and_ends_with_the_verdict(upstream):
    upstream.script["primary-model"] = [Reply(stream_pieces=["Two ", "years."])]
    with Client(make_config(streaming={"mode": "provisional"})) as client:
        chunks = list(client.chat.completions.create(model="openai/primary-model", messages=QUESTION, stream=True))

    for chunk in chunks:
        ChatCompletionChunk.model_validate(json.loads(chunk.model_dump_json()))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Two years."
    assert chunks[-1].choices == [] and chunks[-1].guard is not None
    assert all(c.guard is None for c in chunks[:-1])


def test_buffer_mode_streams_only_after_verification(upstream):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    with Client(make_config(streaming={"mode": "buffer"})) as client:
        chunks = list(client.chat.completions.create(model="openai/primary-model", messages=QUESTION, stream=True))

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Two years."
    assert chunks[-1].guard is not None
    assert "stream" not in upstream.requests[-1] or not upstream.requests[-1]["stream"]


def test_stream_usage_reaches_the_client_only_when_asked(upstream):
    with Client(make_config(streaming={"mode": "provisional"})) as client:
        silent = list(client.chat.completions.create(model="openai/primary-model", messages=QUESTION, stream=True))
        asked = list(client.chat.completions.create(model="openai/primary-model", messages=QUESTION, stream=True,
                                                    stream_options={"include_usage": True}))

    assert upstream.requests[0]["stream_options"]["include_usage"] is True  # always asked upstream
    assert all(c.usage is None for c in silent)
    assert asked[-1].usage.total_tokens == 17
    assert silent[-1].guard.usage.prompt_tokens == 12  # cost and tokens are recorded either way


async def test_async_client_matches_the_async_openai_call(upstream):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    client = AsyncClient(make_config())

    reply = await client.chat.completions.create(model="openai/primary-model", messages=QUESTION)

    assert reply.choices[0].message.content == "Two years."


async def test_every_answer_is_recorded_with_latency_tokens_and_tier(upstream, tmp_path):
    guard = Guard(make_config(telemetry={"database": str(tmp_path / "records.db")}))

    reply = await guard.acomplete(QUESTION)

    await guard.aclose()  # records are written in the background; closing writes what is queued
    row = guard.store.get_request(reply.guard.request_id)
    assert row.tier == reply.guard.tier
    assert row.prompt_tokens == 12 and row.completion_tokens == 5
    assert row.latency_total_ms > 0


async def test_low_confidence_answer_is_held_under_the_block_policy(upstream):
    upstream.script["primary-model"] = [Reply(text="It is ten years.")]
    guard = Guard(make_config(product={"risk": "high"}), confidence=lambda signals: 0.2)

    reply = await guard.acomplete(QUESTION)

    assert reply.guard.review.required and reply.guard.review.policy == "block"
    assert "ten years" not in reply.choices[0].message.content
    queued = guard.store.get_review(reply.guard.review.id)
    assert queued.status == "pending" and queued.draft == "It is ten years."


async def test_low_confidence_answer_is_delivered_and_flagged_under_the_flag_policy(upstream):
    upstream.script["primary-model"] = [Reply(text="It is ten years.")]
    guard = Guard(make_config(product={"risk": "low"}), confidence=lambda signals: 0.2)

    reply = await guard.acomplete(QUESTION)

    assert reply.choices[0].message.content == "It is ten years."
    assert reply.guard.review.required and reply.guard.review.policy == "flag"
    assert reply.guard.review.status == "pending"


async def test_malformed_messages_get_a_clear_error(upstream, guard):
    import pytest

    with pytest.raises(ValueError, match="messages must be a list"):
        await guard.acomplete("hello")  # type: ignore[arg-type]


async def test_tool_calls_pass_through_both_ways(upstream, guard):
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"id": "A12"}'}}
    upstream.script["primary-model"] = [Reply(tool_calls=[call])]
    tools = [{"type": "function", "function": {"name": "lookup_order", "parameters": {
        "type": "object", "properties": {"id": {"type": "string"}}}}}]

    reply = await guard.acomplete(QUESTION, tools=tools)

    assert upstream.requests[-1]["tools"][0]["function"]["name"] == "lookup_order"
    assert reply.choices[0].finish_reason == "tool_calls"
    assert reply.choices[0].message.tool_calls[0].function.name == "lookup_order"


async def test_self_consistency_draws_extra_samples_at_its_own_temperature(upstream):
    guard = Guard(make_config(consistency={"enabled": True, "samples": 3, "temperature": 0.9}))

    reply = await guard.acomplete(QUESTION, temperature=0)

    sent = sorted(upstream.requests, key=lambda r: r.get("n") or 1)
    assert [(r.get("n") or 1, r["temperature"]) for r in sent] == [(1, 0), (2, 0.9)]
    assert len(reply.choices) == 1
    assert (reply.usage.prompt_tokens, reply.guard.usage.prompt_tokens) == (12, 12)  # the answer's call
    assert reply.guard.usage.samples_prompt_tokens == 12  # the extra samples: guard's own usage


def _leave_after_first_words(client: Client, how: str) -> str:
    """Read a long, slow stream until its first words, then stop reading (``break`` or ``close()``)."""
    stream = client.chat.completions.create(model="openai/primary-model", messages=QUESTION, stream=True)
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    if how == "close":
        stream.close()
    else:
        del stream  # the loop's generator goes away with its last reference, as in `for c in create(...): break`
    return "gr_" + chunk.id.removeprefix("chatcmpl-")


@pytest.mark.parametrize("how", ["break", "close"])
def test_a_sync_stream_left_early_stops_the_upstream_and_is_recorded_as_not_delivered(upstream, how):
    upstream.script["primary-model"] = [Reply(stream_pieces=[f"word{i} " for i in range(200)], chunk_delay_s=0.02)]
    with Client(make_config(streaming={"mode": "provisional"})) as client:
        request_id = _leave_after_first_words(client, how)

        assert upstream.stream_cut.wait(5), "the upstream kept streaming to a consumer that had left"
        record = None
        for _ in range(50):
            client.guard.writer.flush(timeout=1)
            if (record := client.guard.store.get_request(request_id)) is not None:
                break
        assert record is not None and record.delivered is False
        assert len(record.answer.split()) < 200
