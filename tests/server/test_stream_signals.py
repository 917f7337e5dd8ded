"""A stream is judged like the same answer unstreamed: the same signals are asked for, so the same tier follows."""

from __future__ import annotations

import pytest

from guard.config import KnowledgeBaseConfig
from guard.kb import KnowledgeBase
from tests.server.conftest import MODEL
from tests.support.fake_upstream import Reply

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
SURE = [("Paris", -0.01), (" is", -0.02), (" the", -0.01), (" capital", -0.03), (" of", -0.01), (" France", -0.02),
        (".", -0.01)]


def _answer(logprobs=SURE) -> Reply:
    return Reply(text="Paris is the capital of France.", stream_pieces=["Paris is ", "the capital of France."],
                 logprobs=logprobs)


def _streamed_verdict(client, **params):
    chunks = list(client.chat.completions.create(model=MODEL, messages=QUESTION, stream=True, **params))
    return chunks, chunks[-1].model_extra["guard"]


def test_a_streamed_answer_gets_the_signals_tier_and_review_decision_of_the_same_answer_unstreamed(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "tiers": ["low"], "policy": "flag"})
    upstream.script["fake-model"] = [_answer()]

    plain = proxy.client().chat.completions.create(model=MODEL, messages=QUESTION).model_extra["guard"]
    _, streamed = _streamed_verdict(proxy.client())

    assert streamed["signals"] == plain["signals"] and "token_confidence" in streamed["signals"]
    assert (streamed["tier"], streamed["confidence"]) == (plain["tier"], plain["confidence"])
    assert streamed["review"]["required"] is plain["review"]["required"] is False


@pytest.fixture
def refunds_kb(tmp_path):
    """A knowledge base that answers the refund question: the answer below restates its chunk and cites it."""
    folder, docs = tmp_path / "kb", tmp_path / "docs"
    docs.mkdir()
    (docs / "refunds.md").write_text("# Refunds\n\nRefunds are paid within 5 business days of the return.\n")
    KnowledgeBase.open(KnowledgeBaseConfig(path=folder)).add([docs / "refunds.md"])
    return folder


def test_a_streamed_answer_from_the_knowledge_base_gets_the_tier_and_review_decision_of_the_same_answer_unstreamed(
        start_proxy, upstream, refunds_kb):
    proxy = start_proxy(knowledge_base={"path": str(refunds_kb)}, grounding={"enabled": True},
                        support={"enabled": True}, citations={"enabled": True},
                        review={"enabled": True, "tiers": ["low"], "policy": "flag"})
    upstream.script["fake-model"] = [Reply(
        text="Refunds are paid within 5 business days [1].", stream_pieces=["Refunds are paid ", "within 5 business days [1]."],
        logprobs=[("Refunds", -0.01), (" are", -0.01), (" paid", -0.02), (" within", -0.01), (" 5", -0.03),
                  (" business", -0.01), (" days", -0.01), (" [1].", -0.02)])]
    question = [{"role": "user", "content": "How long do refunds take?"}]

    plain = proxy.client().chat.completions.create(model=MODEL, messages=question).model_extra["guard"]
    chunks = list(proxy.client().chat.completions.create(model=MODEL, messages=question, stream=True))
    streamed = chunks[-1].model_extra["guard"]

    assert [c["source_id"] for c in streamed["citations"]] == [c["source_id"] for c in plain["citations"]] != []
    assert streamed["signals"] == plain["signals"] and {"retrieval", "support", "token_confidence"} <= set(plain["signals"])
    assert (streamed["tier"], streamed["confidence"]) == (plain["tier"], plain["confidence"])
    assert streamed["review"]["required"] is plain["review"]["required"]


def test_a_stream_asks_the_upstream_for_log_probabilities_and_strips_them_when_only_guard_wanted_them(proxy, upstream):
    upstream.script["fake-model"] = [_answer()]

    chunks, _ = _streamed_verdict(proxy.client())

    assert upstream.requests[-1]["logprobs"] is True
    assert all(c.choices[0].logprobs is None for c in chunks if c.choices)


def test_a_client_that_asks_for_log_probabilities_in_a_stream_gets_them(proxy, upstream):
    upstream.script["fake-model"] = [_answer()]

    chunks, verdict = _streamed_verdict(proxy.client(), logprobs=True)

    tokens = [t.token for c in chunks if c.choices and c.choices[0].logprobs for t in c.choices[0].logprobs.content]
    assert tokens == [t for t, _ in SURE]
    assert "token_confidence" in verdict["signals"]


def test_a_client_that_turns_log_probabilities_off_still_gets_its_answer_judged_on_them(proxy, upstream):
    upstream.script["fake-model"] = [_answer()]

    plain = proxy.client().chat.completions.create(model=MODEL, messages=QUESTION, logprobs=False)

    assert plain.choices[0].logprobs is None
    assert "token_confidence" in plain.model_extra["guard"]["signals"]


def test_the_stream_says_the_provider_withheld_log_probabilities_only_after_guard_asked_for_them(proxy, upstream):
    upstream.script["fake-model"] = [_answer(logprobs=None)]

    _, verdict = _streamed_verdict(proxy.client())

    assert upstream.requests[-1]["logprobs"] is True
    assert verdict["layers"]["token_confidence"] == {"status": "skipped", "ms": verdict["layers"]["token_confidence"]["ms"],
                                                     "reason": "the provider returned no log-probabilities"}
