"""local/smollm2: a real model answering offline through litellm, as any remote model would."""

from __future__ import annotations

import asyncio

import litellm
import pytest

from guard import AsyncClient, GuardConfig
from guard.llm import ModelClient

pytestmark = pytest.mark.local_model

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one short sentence."}]


async def test_answers_a_question_offline(local_model):
    reply = await litellm.acompletion(model=local_model, messages=QUESTION, max_tokens=16, temperature=0)

    assert reply.choices[0].message.content.strip()
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage.prompt_tokens > 0
    assert 0 < reply.usage.completion_tokens <= 16


async def test_costs_nothing_rather_than_an_unknown_price(local_model):
    reply = await litellm.acompletion(model=local_model, messages=QUESTION, max_tokens=8, temperature=0)

    assert litellm.completion_cost(completion_response=reply, model=local_model) == 0.0


async def test_streams_the_answer_with_usage_at_the_end(local_model):
    stream = await litellm.acompletion(model=local_model, messages=QUESTION, max_tokens=16, temperature=0,
                                       stream=True, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    usage = chunks[-1].usage
    assert text.strip()
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0


def test_streams_synchronously_too(local_model):
    stream = litellm.completion(model=local_model, messages=QUESTION, max_tokens=8, temperature=0, stream=True)

    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices).strip()


async def test_max_tokens_cuts_the_answer(local_model):
    story = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]
    reply = await litellm.acompletion(model=local_model, messages=story, max_tokens=5, temperature=0)

    assert reply.usage.completion_tokens == 5
    assert reply.choices[0].finish_reason == "length"


async def test_same_seed_gives_the_same_sample(local_model):
    async def sample() -> str:
        reply = await litellm.acompletion(model=local_model, messages=QUESTION, max_tokens=12, temperature=1.2, seed=7)
        return reply.choices[0].message.content

    assert await sample() == await sample()


async def test_draws_n_samples_in_one_call(local_model):
    reply = await litellm.acompletion(model=local_model, messages=QUESTION, max_tokens=6, temperature=1.0, n=2, seed=1)

    assert len(reply.choices) == 2
    assert all(c.message.content for c in reply.choices)


async def test_concurrent_requests_are_served_one_at_a_time_without_failing(local_model):
    replies = await asyncio.gather(*(
        litellm.acompletion(model=local_model, messages=QUESTION, max_tokens=6, temperature=0) for _ in range(3)))

    assert all(r.choices[0].message.content for r in replies)


async def test_unknown_local_model_error_names_the_known_ones(local_model):
    with pytest.raises(litellm.NotFoundError, match="local/smollm2"):
        await litellm.acompletion(model="local/no-such-model", messages=QUESTION)


async def test_prompt_beyond_the_context_window_is_refused_clearly(local_model):
    too_long = [{"role": "user", "content": "lamp " * 6000}]

    with pytest.raises(litellm.ContextWindowExceededError, match="context window holds 4096"):
        await litellm.acompletion(model=local_model, messages=too_long, max_tokens=4)


async def test_json_mode_is_refused_rather_than_ignored(local_model):
    with pytest.raises(litellm.BadRequestError, match="does not support response_format"):
        await litellm.acompletion(model=local_model, messages=QUESTION, response_format={"type": "json_object"})


async def test_model_client_calls_it_like_any_model(local_model):
    completion = await ModelClient(GuardConfig().models).complete(QUESTION, model=local_model, max_tokens=8)

    assert completion.model == local_model
    assert completion.texts[0].strip()
    assert completion.cost_usd == 0.0


async def test_guarded_stream_reports_zero_cost(local_model):
    client = AsyncClient(GuardConfig(models={"default": local_model}))
    stream = await client.chat.completions.create(model=local_model, messages=QUESTION, max_tokens=8, stream=True)
    chunks = [chunk async for chunk in stream]

    verdict = chunks[-1].guard
    assert verdict.usage.completion_tokens > 0
    assert verdict.usage.cost_usd == 0.0
