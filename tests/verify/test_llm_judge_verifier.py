"""The LLM judge through the real ModelClient and litellm path, served by a CustomLLM registered here."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import litellm
import pytest
from litellm.llms.custom_llm import CustomLLM

from guard.config import ModelsConfig
from guard.layers.support import SupportLayer
from guard.llm import ModelClient
from guard.providers import register
from guard.verify.base import VerificationError
from guard.verify.llm_judge import LLMJudgeVerifier, parse_verdict
from guard.verify.text import content_stems

PREFIX = "judgetest"
PRICE_PER_TOKEN = 1e-6


def word_overlap_verdict(prompt: str) -> str:
    evidence, claim = prompt.split("\n\nClaim: ")
    supported = set(content_stems(claim)) <= set(content_stems(evidence))
    return json.dumps({"supported": supported, "confidence": 0.9})


class ScriptedJudge(CustomLLM):
    """Answers each judge prompt with ``reply(prompt)``; 10 prompt and 5 completion tokens per call, priced."""

    def __init__(self, reply: Callable[[str], str]):
        super().__init__()
        self.reply = reply
        self.model_info = {f"{PREFIX}/judge": {"litellm_provider": PREFIX, "mode": "chat",
                                               "input_cost_per_token": PRICE_PER_TOKEN,
                                               "output_cost_per_token": PRICE_PER_TOKEN}}

    async def acompletion(self, model: str, messages: list, model_response: litellm.ModelResponse, **_: Any):
        model_response.choices = [litellm.Choices(index=0, finish_reason="stop", message=litellm.Message(
            role="assistant", content=self.reply(messages[-1]["content"])))]
        model_response.model = f"{PREFIX}/{model}"
        model_response.usage = litellm.Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15)
        return model_response


def judge(reply: Callable[[str], str]) -> LLMJudgeVerifier:
    register(PREFIX, ScriptedJudge(reply))
    client = ModelClient(ModelsConfig(max_attempts=1, backoff_initial_s=0))
    return LLMJudgeVerifier(client, f"{PREFIX}/judge")


EVIDENCE = ["Refunds are paid to the original payment method within 5 business days."]


async def test_the_judge_separates_supported_from_unsupported_claims():
    scores = await judge(word_overlap_verdict).score([
        ("Refunds are paid within 5 business days.", EVIDENCE), ("Refunds are paid in cash.", EVIDENCE)])
    assert scores.probabilities == pytest.approx([0.9, 0.1])


async def test_what_the_judge_costs_is_reported():
    scores = await judge(word_overlap_verdict).score([("Refunds are paid.", EVIDENCE)] * 3)
    assert scores.cost_usd == pytest.approx(3 * 15 * PRICE_PER_TOKEN)


async def test_an_unreadable_verdict_is_an_error_not_support():
    with pytest.raises(VerificationError, match="not JSON"):
        await judge(lambda _: "Yes, it is supported.").score([("Refunds are paid.", EVIDENCE)])


async def test_an_unreadable_verdict_turns_the_support_layer_to_error(config):
    from guard.pipeline import Guard

    layer = SupportLayer(config, verifier=judge(lambda _: '{"verdict": "supported"}'))
    guard = Guard(config, layers=[layer])
    meta = await guard.acheck("Refunds are paid within 5 business days.", EVIDENCE)
    assert meta.layers["support"].status == "error" and "support" not in meta.signals


async def test_the_support_layer_adds_the_judge_cost_to_verification_cost(config, make_state):
    state = make_state("Refunds are paid within 5 business days. Refunds are paid in cash.", EVIDENCE)
    await SupportLayer(config, verifier=judge(word_overlap_verdict)).run(state)
    assert state.usage.verification_cost_usd == pytest.approx(2 * 15 * PRICE_PER_TOKEN)
    assert [u.text for u in state.unsupported] == ["Refunds are paid in cash."]


@pytest.mark.parametrize("reply", ["", "[]", '{"supported": "yes"}', '{"supported": true, "confidence": 7}',
                                   '{"supported": true} and more'])
def test_anything_but_the_verdict_object_is_refused(reply):
    with pytest.raises(VerificationError):
        parse_verdict(reply)


def test_a_fenced_verdict_is_read():
    assert parse_verdict('```json\n{"supported": false, "confidence": 0.8}\n```') == pytest.approx(0.2)
