"""The token-confidence signal: asked for when the provider has log-probabilities, absent with a reason when not."""

from __future__ import annotations

import pytest

from guard import Guard, GuardConfig
from guard.layers.token_confidence import token_confidence
from tests.support.fake_upstream import Reply

MODEL = "openai/primary-model"
SURE = [("The", -0.01), (" lamp", -0.02), (" costs", -0.05), (" $", -0.01), ("89", -0.03), (".", -0.001)]
GUESSING = [("The", -0.01), (" lamp", -0.02), (" costs", -0.05), (" $", -0.01), ("129", -3.5), (".", -0.001)]


def make_guard(**sections) -> Guard:
    return Guard(GuardConfig(models={"default": MODEL, "max_attempts": 1, "timeout_s": 10},
                             telemetry={"enabled": False}, **sections))


async def test_guard_asks_for_logprobs_and_confidence_comes_from_them(upstream):
    upstream.script["primary-model"] = [Reply(text="The lamp costs $89.", logprobs=SURE)]
    reply = await make_guard().acomplete([{"role": "user", "content": "How much is the lamp?"}])
    assert upstream.requests[-1]["logprobs"] is True
    meta = reply.guard
    assert meta.layers["token_confidence"].status == "ok"
    assert meta.layers["support"].status == "skipped"
    assert meta.signals["token_confidence"] > 0.9
    assert meta.confidence is not None


async def test_logprobs_guard_asked_for_are_not_passed_to_the_client(upstream):
    upstream.script["primary-model"] = [Reply(text="The lamp costs $89.", logprobs=SURE)]
    reply = await make_guard().acomplete([{"role": "user", "content": "How much is the lamp?"}])
    assert reply.choices[0].logprobs is None


async def test_a_client_that_asks_for_logprobs_gets_them(upstream):
    upstream.script["primary-model"] = [Reply(text="The lamp costs $89.", logprobs=SURE)]
    reply = await make_guard().acomplete([{"role": "user", "content": "How much is the lamp?"}], logprobs=True)
    assert [t.token for t in reply.choices[0].logprobs.content] == [t for t, _ in SURE]
    assert "token_confidence" in reply.guard.signals


async def test_a_guessed_number_lowers_the_signal(upstream):
    upstream.script["primary-model"] = [Reply(text="The lamp costs $89.", logprobs=SURE),
                              Reply(text="The lamp costs $129.", logprobs=GUESSING)]
    guard = make_guard()
    sure = await guard.acomplete([{"role": "user", "content": "How much is the lamp?"}])
    guessing = await guard.acomplete([{"role": "user", "content": "How much is the lamp?"}])
    assert guessing.guard.signals["token_confidence"] < sure.guard.signals["token_confidence"]
    assert guessing.guard.confidence < sure.guard.confidence


async def test_without_logprobs_the_signal_is_absent_with_a_reason_and_confidence_stays_null(upstream):
    upstream.script["primary-model"] = [Reply(text="The lamp costs $89.")]
    reply = await make_guard().acomplete([{"role": "user", "content": "How much is the lamp?"}])
    layer = reply.guard.layers["token_confidence"]
    assert layer.status == "skipped" and "log-probabilities" in layer.reason
    assert reply.guard.confidence is None and reply.guard.tier == "low"


def test_check_has_no_token_signal_and_says_why():
    meta = make_guard(support={"enabled": False}, citations={"enabled": False}).check(
        "The lamp costs $89.", ["The lamp costs $89."])
    assert meta.layers["token_confidence"].reason == "check() verifies a given answer: no model call"


def test_punctuation_and_whitespace_tokens_do_not_count():
    assert token_confidence([("Yes", -0.1), (".", -9.0), (" ", -9.0)]) == pytest.approx(0.9048, abs=1e-3)
    assert token_confidence([(".", -0.1)]) is None


async def test_a_clients_n_choices_come_back_in_the_upstreams_order_without_self_consistency(upstream):
    upstream.script["primary-model"] = [Reply(choice_texts=["First.", "Second.", "Third."])]
    reply = await make_guard().acomplete([{"role": "user", "content": "Say something."}], n=3)
    assert [c.message.content for c in reply.choices] == ["First.", "Second.", "Third."]
    assert reply.guard.layers["consistency"].status == "skipped"
    assert upstream.calls_to("primary-model") == 1
