"""Agents and structured output through the proxy, as the official openai SDK sees them.

Tool results are sources; a reply that only calls tools is ``unverified``; a forced output tool is the answer;
high risk refuses no request that offers tools, and a held or refused reply to tools or a schema is a refusal
the SDK reads without raising; a framework's retry joins the review item it filed.
"""

from __future__ import annotations

import json

import pydantic
import pytest

from guard.config import KnowledgeBaseConfig
from guard.kb import KnowledgeBase
from guard.review import HELD_MESSAGE
from tests.server.conftest import MODEL
from tests.support.fake_upstream import Reply

ORDER = {"order_id": "LL-1234", "status": "delivered 12 days ago", "opened": False}
TOOLS = [{"type": "function", "function": {"name": "lookup_order", "description": "An order's status",
                                            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                                                           "required": ["order_id"]}}}]
CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order_id": "LL-1234"}'}}
ASKED = [{"role": "user", "content": "Can I still return order LL-1234?"}]
AFTER_TOOL = ASKED + [{"role": "assistant", "content": None, "tool_calls": [CALL]},
                      {"role": "tool", "tool_call_id": "call_1", "content": json.dumps(ORDER)}]
UNSURE = [("Maybe", -3.0), (" it", -2.5), (" is", -3.5), (" fine", -4.0), (".", -1.0)]
VERIFYING = {"grounding": {"enabled": True}, "support": {"enabled": True}}
# High risk's operating point catches a number the tool's result states otherwise; medium's flags fewer right answers
# and lets this one pass (README, "Measured").
CATCHING = {**VERIFYING, "product": {"risk": "high"}, "review": {"policy": "flag"}}


class Answer(pydantic.BaseModel):
    answer: str


def _guard(reply) -> dict:
    return reply.model_extra["guard"]


# -- tool calls: unverified, forced output tools verified -------------------------------------------------------

def test_a_reply_that_only_calls_tools_is_unverified_without_a_disclaimer(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "tiers": ["high", "medium", "low"]})
    upstream.script["fake-model"] = [Reply(tool_calls=[CALL])]

    raw = proxy.client().chat.completions.with_raw_response.create(model=MODEL, messages=ASKED, tools=TOOLS)
    verdict = _guard(raw.parse())

    assert raw.parse().choices[0].message.tool_calls[0].function.name == "lookup_order"
    assert verdict["tier"] == "unverified" and verdict["confidence"] is None
    assert verdict["ux"] == {"border_color": "#95a5a6", "icon": "build", "disclaimer": None, "suggested_actions": []}
    assert verdict["review"]["required"] is False
    assert raw.headers["x-guard-tier"] == "unverified"


def test_a_streamed_reply_that_only_calls_tools_is_unverified(proxy, upstream):
    upstream.script["fake-model"] = [Reply(tool_calls=[CALL])]

    chunks = list(proxy.client().chat.completions.create(model=MODEL, messages=ASKED, tools=TOOLS, stream=True))

    assert _guard(chunks[-1])["tier"] == "unverified"


def test_a_forced_output_tool_is_verified_as_the_answer_it_is(start_proxy, upstream):
    proxy = start_proxy(**CATCHING)
    claim = "Order LL-1234 was delivered 40 days ago."
    final = {"id": "call_2", "type": "function", "function": {"name": "Answer", "arguments": json.dumps({"answer": claim})}}
    upstream.script["fake-model"] = [Reply(tool_calls=[final])]

    reply = proxy.client().chat.completions.create(
        model=MODEL, messages=AFTER_TOOL, tools=[{"type": "function", "function": {"name": "Answer", "parameters": Answer.model_json_schema()}}],
        tool_choice={"type": "function", "function": {"name": "Answer"}})

    verdict = _guard(reply)
    assert verdict["tier"] != "unverified"
    assert verdict["layers"]["support"]["status"] == "ok"
    assert [u["text"] for u in verdict["unsupported"]] == [claim]


# -- tool results are sources -------------------------------------------------------------------------------------

def test_an_answer_that_restates_its_tools_result_is_supported(start_proxy, upstream):
    proxy = start_proxy(**VERIFYING)
    upstream.script["fake-model"] = [Reply(text="Order LL-1234 was delivered 12 days ago and is unopened.")]

    verdict = _guard(proxy.client().chat.completions.create(model=MODEL, messages=AFTER_TOOL, tools=TOOLS))

    assert verdict["layers"]["support"]["status"] == "ok"
    assert verdict["unsupported"] == []


def test_an_answer_its_tools_result_refutes_is_flagged(start_proxy, upstream):
    proxy = start_proxy(**{**CATCHING, "review": {"enabled": True, "tiers": ["low"], "policy": "flag"}})
    upstream.script["fake-model"] = [Reply(text="Order LL-1234 was delivered 40 days ago.")]

    verdict = _guard(proxy.client().chat.completions.create(model=MODEL, messages=AFTER_TOOL, tools=TOOLS))

    assert [u["text"] for u in verdict["unsupported"]] == ["Order LL-1234 was delivered 40 days ago."]
    assert verdict["tier"] == "low" and verdict["review"]["required"] is True


def test_citations_of_a_tool_result_name_the_tool(start_proxy, upstream):
    proxy = start_proxy(**VERIFYING, citations={"enabled": True})
    upstream.script["fake-model"] = [Reply(text="Order LL-1234 was delivered 12 days ago [1].")]

    verdict = _guard(proxy.client().chat.completions.create(model=MODEL, messages=AFTER_TOOL, tools=TOOLS))

    citation = verdict["citations"][0]
    assert (citation["source_id"], citation["title"], citation["valid"]) == ("tool:lookup_order#call_1", "lookup_order", True)


def test_the_grounding_instruction_asks_a_model_with_tools_to_call_them_rather_than_decline(start_proxy, upstream):
    proxy = start_proxy(**VERIFYING)

    proxy.client().chat.completions.create(model=MODEL, messages=AFTER_TOOL, tools=TOOLS)

    system = upstream.requests[-1]["messages"][0]
    assert system["role"] == "system"
    assert "call a tool that can supply it rather than declining" in system["content"]
    assert "[1] the result of the tool lookup_order (call call_1)" in system["content"]


# -- high risk keeps agents and structured output working ---------------------------------------------------------

@pytest.fixture
def unrelated_kb(tmp_path):
    """A knowledge base with nothing about orders: at high risk, a plain question about orders is refused."""
    folder = tmp_path / "kb"
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "warranty.md").write_text("# Warranty\n\nAll devices carry a two year warranty.\n")
    KnowledgeBase.open(KnowledgeBaseConfig(path=folder)).add([tmp_path / "docs" / "warranty.md"])
    return folder


def _high_risk(start_proxy, kb, **sections):
    return start_proxy(product={"risk": "high"}, grounding={"enabled": True, "min_score": 0.9},
                       knowledge_base={"path": str(kb)}, review={"enabled": True}, **sections)


def test_at_high_risk_a_request_that_offers_tools_reaches_the_model_without_a_source(start_proxy, upstream, unrelated_kb):
    proxy = _high_risk(start_proxy, unrelated_kb)
    upstream.script["fake-model"] = [Reply(tool_calls=[CALL])]

    reply = proxy.client().chat.completions.create(model=MODEL, messages=ASKED, tools=TOOLS)

    assert upstream.calls_to("fake-model") == 1
    assert reply.choices[0].message.tool_calls[0].function.name == "lookup_order"
    assert _guard(reply)["tier"] == "unverified"


def test_a_refusal_for_want_of_a_source_to_a_schema_request_parses_as_a_refusal(start_proxy, upstream, unrelated_kb):
    proxy = _high_risk(start_proxy, unrelated_kb)

    completion = proxy.client().chat.completions.parse(model=MODEL, messages=ASKED, response_format=Answer)

    message = completion.choices[0].message
    assert message.refusal and message.content is None and message.parsed is None
    assert completion.choices[0].finish_reason == "stop"
    assert upstream.calls_to("fake-model") == 0


def test_a_held_reply_to_a_schema_request_parses_as_a_refusal_saying_it_is_held(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "policy": "block", "tiers": ["low"]})
    upstream.script["fake-model"] = [Reply(text='{"answer": "Maybe it is fine."}', logprobs=UNSURE)]

    completion = proxy.client().chat.completions.parse(model=MODEL, messages=ASKED, response_format=Answer)

    message = completion.choices[0].message
    assert (message.refusal, message.content, message.parsed) == (HELD_MESSAGE, None, None)
    assert completion.choices[0].finish_reason == "stop"
    review = _guard(completion)["review"]
    assert review["held"] is True and review["status"] == "pending" and review["id"].startswith("rv_")


def test_a_held_reply_to_a_request_with_tools_is_a_refusal_in_a_stream_too(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "policy": "block", "tiers": ["low"]})
    upstream.script["fake-model"] = [Reply(text="Maybe it is fine.", logprobs=UNSURE)]

    chunks = list(proxy.client().chat.completions.create(model=MODEL, messages=AFTER_TOOL, tools=TOOLS, stream=True))

    deltas = [c.choices[0] for c in chunks if c.choices]
    assert "".join(d.delta.refusal or "" for d in deltas) == HELD_MESSAGE
    assert all(d.delta.content is None for d in deltas)
    assert deltas[-1].finish_reason == "stop"
    assert _guard(chunks[-1])["review"]["held"] is True


def test_a_held_plain_chat_reply_keeps_its_holding_message_as_content(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "policy": "block", "tiers": ["low"]})
    upstream.script["fake-model"] = [Reply(text="Maybe it is fine.", logprobs=UNSURE)]

    reply = proxy.client().chat.completions.create(model=MODEL, messages=ASKED)

    assert reply.choices[0].message.content == HELD_MESSAGE and reply.choices[0].finish_reason == "content_filter"


def test_the_same_conversation_sent_again_joins_its_pending_review_item(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "policy": "block", "tiers": ["low"]})
    upstream.script["fake-model"] = [Reply(text="Maybe it is fine.", logprobs=UNSURE)]

    first = _guard(proxy.client().chat.completions.create(model=MODEL, messages=ASKED))["review"]
    again = _guard(proxy.client().chat.completions.create(model=MODEL, messages=ASKED))["review"]
    other = _guard(proxy.client().chat.completions.create(model=MODEL, messages=ASKED + [
        {"role": "assistant", "content": "?"}, {"role": "user", "content": "And order LL-9?"}]))["review"]

    assert again["id"] == first["id"] and again["held"] is True
    assert other["id"] != first["id"]
    assert len(proxy.guard.store.list_reviews(status="pending")) == 2


def test_a_repeat_after_the_window_files_a_new_review_item(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "policy": "flag", "tiers": ["low"], "repeat_window_s": 1e-6})
    upstream.script["fake-model"] = [Reply(text="Maybe it is fine.", logprobs=UNSURE)]

    first = _guard(proxy.client().chat.completions.create(model=MODEL, messages=ASKED))["review"]
    again = _guard(proxy.client().chat.completions.create(model=MODEL, messages=ASKED))["review"]

    assert again["id"] != first["id"]


# -- the verdict within reach -------------------------------------------------------------------------------------

def test_model_echoes_the_name_the_client_sent(proxy):
    reply = proxy.client().chat.completions.create(model="fake-model", messages=ASKED)
    chunks = list(proxy.client().chat.completions.create(model="fake-model", messages=ASKED, stream=True))

    assert reply.model == "fake-model" and _guard(reply)["model"] == MODEL
    assert {c.model for c in chunks} == {"fake-model"}


def test_a_json_answer_to_a_schema_is_checked_field_by_field(start_proxy, upstream):
    proxy = start_proxy(**CATCHING)
    upstream.script["fake-model"] = [Reply(text=json.dumps({"answer": "Order LL-1234 was delivered 40 days ago."}))]

    completion = proxy.client().chat.completions.parse(model=MODEL, messages=AFTER_TOOL, response_format=Answer)

    assert completion.choices[0].message.parsed == Answer(answer="Order LL-1234 was delivered 40 days ago.")
    assert [u["text"] for u in _guard(completion)["unsupported"]] == ["Order LL-1234 was delivered 40 days ago."]


def test_a_legacy_function_result_is_a_source_too(start_proxy, upstream):
    proxy = start_proxy(**VERIFYING, citations={"enabled": True})
    upstream.script["fake-model"] = [Reply(text="Order LL-1234 was delivered 12 days ago [1].")]
    messages = ASKED + [{"role": "assistant", "content": None, "function_call": CALL["function"]},
                        {"role": "function", "name": "lookup_order", "content": json.dumps(ORDER)}]

    verdict = _guard(proxy.client().chat.completions.create(model=MODEL, messages=messages))

    assert verdict["citations"][0]["source_id"] == "tool:lookup_order" and verdict["citations"][0]["supports"] is True


def test_a_required_call_of_the_only_tool_offered_is_a_forced_output_tool(start_proxy, upstream):
    proxy = start_proxy(**CATCHING)
    final = {"id": "call_2", "type": "function",
             "function": {"name": "final_result", "arguments": json.dumps({"answer": "It was delivered 40 days ago."})}}
    upstream.script["fake-model"] = [Reply(tool_calls=[final])]

    reply = proxy.client().chat.completions.create(
        model=MODEL, messages=AFTER_TOOL, tool_choice="required",
        tools=[{"type": "function", "function": {"name": "final_result", "parameters": Answer.model_json_schema()}}])

    assert [u["text"] for u in _guard(reply)["unsupported"]] == ["It was delivered 40 days ago."]
