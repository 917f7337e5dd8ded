"""local/smollm2 returns token log-probabilities on request, in OpenAI's shape, and guard turns them into a signal."""

from __future__ import annotations

import math

import litellm
import numpy as np
import pytest

from guard import Guard, GuardConfig
from guard.adapters.llama_engine import LlamaEngine, Sampling
from guard.adapters.local_model import MODELS
from guard.llm import supports_logprobs

pytestmark = pytest.mark.local_model

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one short sentence."}]
STORY = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]


def tokens_of(choice) -> list:
    return choice.logprobs.content


async def test_logprobs_come_in_openai_shape_when_asked(local_model):
    reply = await litellm.acompletion(model=local_model, messages=QUESTION, max_tokens=10, temperature=0,
                                      logprobs=True, top_logprobs=3)

    tokens = tokens_of(reply.choices[0])
    assert len(tokens) == reply.usage.completion_tokens
    for t in tokens:
        assert isinstance(t.token, str) and t.bytes == list(t.token.encode())
        assert math.isfinite(t.logprob) and t.logprob <= 0
        alternatives = [a.logprob for a in t.top_logprobs]
        assert len(alternatives) == 3 and alternatives == sorted(alternatives, reverse=True)
        assert t.logprob <= alternatives[0] + 1e-9


async def test_answer_tokens_concatenate_to_the_answer(local_model):
    reply = await litellm.acompletion(model=local_model, messages=QUESTION, max_tokens=16, temperature=0, logprobs=True)

    assert "".join(t.token for t in tokens_of(reply.choices[0])) == reply.choices[0].message.content
    assert all(t.top_logprobs == [] for t in tokens_of(reply.choices[0]))


async def test_no_logprobs_unless_asked(local_model):
    reply = await litellm.acompletion(model=local_model, messages=QUESTION, max_tokens=6, temperature=0)

    assert getattr(reply.choices[0], "logprobs", None) is None


async def test_asking_for_logprobs_does_not_change_the_answer(local_model):
    async def sample(**extra) -> str:
        reply = await litellm.acompletion(model=local_model, messages=STORY, max_tokens=12, temperature=1.2, seed=7,
                                          **extra)
        return reply.choices[0].message.content

    assert await sample(logprobs=True, top_logprobs=2) == await sample()


async def test_every_sample_has_its_own_logprobs(local_model):
    reply = await litellm.acompletion(model=local_model, messages=STORY, max_tokens=6, temperature=1.0, n=2, seed=1,
                                      logprobs=True)

    for choice in reply.choices:
        assert "".join(t.token for t in tokens_of(choice)) == choice.message.content


async def test_the_last_token_of_a_cut_answer_has_its_logprob(local_model):
    reply = await litellm.acompletion(model=local_model, messages=STORY, max_tokens=5, temperature=0, logprobs=True)

    assert reply.choices[0].finish_reason == "length"
    assert len(tokens_of(reply.choices[0])) == 5 and math.isfinite(tokens_of(reply.choices[0])[-1].logprob)


async def test_streamed_chunks_carry_their_tokens_logprobs(local_model):
    stream = await litellm.acompletion(model=local_model, messages=QUESTION, max_tokens=12, temperature=0,
                                       logprobs=True, stream=True)
    chunks = [chunk async for chunk in stream]

    content = [c.choices[0] for c in chunks if c.choices and c.choices[0].delta.content]
    assert content
    for choice in content:
        assert "".join(t.token for t in choice.logprobs.content) == choice.delta.content
    assert any(c.choices and c.choices[0].finish_reason for c in chunks)


def test_a_stop_sequence_cuts_the_tokens_with_the_text(local_model):
    reply = litellm.completion(model=local_model, messages=QUESTION, max_tokens=12, temperature=0, logprobs=True,
                               stop=["France"])

    text = reply.choices[0].message.content
    assert "France" not in text
    assert "".join(t.token for t in tokens_of(reply.choices[0])) == text


async def test_top_logprobs_without_logprobs_is_refused(local_model):
    with pytest.raises(litellm.BadRequestError, match="top_logprobs needs logprobs"):
        await litellm.acompletion(model=local_model, messages=QUESTION, max_tokens=4, top_logprobs=2)


def test_logprobs_are_the_log_softmax_of_each_steps_raw_logits(local_model):
    """Checked against llama.cpp's own logits (logits_all) for the same tokens, evaluated one at a time as generated."""
    from llama_cpp import Llama

    path = MODELS["smollm2"].path()
    engine = LlamaEngine(path, n_ctx=512, n_threads=1)
    sampling = Sampling(max_tokens=8, temperature=1.0, top_p=0.9, seed=3, repeat_penalty=1.1, logprobs=True)
    tokens = engine.generate(STORY, sampling).logprobs
    prompt = engine._prompt_tokens(STORY)

    engine._llama.close()
    reference = Llama(model_path=str(path), n_ctx=512, n_threads=1, logits_all=True, verbose=False)
    try:
        reference.eval(prompt)
        for t in tokens:
            logits = np.asarray(reference.scores[reference.n_tokens - 1], dtype=np.float64)
            top = logits.max()
            expected = logits[t.id] - top - math.log(np.exp(logits - top).sum())
            assert t.logprob == pytest.approx(expected, abs=1e-6)
            reference.eval([t.id])
    finally:
        reference.close()


async def test_guard_gets_a_token_confidence_from_the_embedded_model(local_model):
    assert supports_logprobs(local_model)
    guard = Guard(GuardConfig(models={"default": local_model}, consistency={"enabled": False},
                              telemetry={"enabled": False}))

    reply = await guard.acomplete(QUESTION, max_tokens=12)

    meta = reply.guard
    assert meta.layers["token_confidence"].status == "ok"
    assert 0 < meta.signals["token_confidence"] <= 1
    assert meta.confidence is not None
    assert reply.choices[0].logprobs is None  # guard asked for them, the client did not
