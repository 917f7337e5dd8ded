"""Plain completions through the proxy with the official openai SDK: what an unchanged app sees."""

from __future__ import annotations

import httpx

from tests.server.conftest import MODEL
from tests.support.fake_upstream import Reply

QUESTION = [{"role": "user", "content": "What is the refund window?"}]


def test_completion_carries_the_guard_verdict_in_body_and_headers(proxy, upstream):
    upstream.script["fake-model"] = [Reply(text="Thirty days.")]

    raw = proxy.client().chat.completions.with_raw_response.create(model=MODEL, messages=QUESTION)
    reply = raw.parse()

    assert reply.choices[0].message.content == "Thirty days."
    verdict = reply.model_extra["guard"]
    assert raw.headers["x-guard-request-id"] == verdict["request_id"]
    assert raw.headers["x-guard-tier"] == verdict["tier"]
    assert verdict["layers"]["support"]["status"] == "skipped"


async def test_async_sdk_gets_the_same_completion(proxy, upstream):
    reply = await proxy.async_client().chat.completions.create(model=MODEL, messages=QUESTION)

    assert reply.choices[0].message.content == "Hello."
    assert reply.model_extra["guard"]["request_id"].startswith("gr_")


def test_a_model_named_without_its_provider_prefix_is_served(proxy):
    reply = proxy.client().chat.completions.create(model="fake-model", messages=QUESTION)

    assert reply.choices[0].message.content == "Hello."


def test_fields_guard_does_not_use_reach_the_upstream_unchanged(proxy, upstream):
    openai_fields = {"seed": 7, "user": "u-1", "logit_bias": {"50256": -100}, "temperature": 0.3, "top_p": 0.9,
                     "max_tokens": 50, "stop": ["\n\n"], "presence_penalty": 0.5, "frequency_penalty": 0.1,
                     "logprobs": True, "top_logprobs": 2, "parallel_tool_calls": False, "service_tier": "default"}
    proxy.client().chat.completions.create(
        model=MODEL, messages=QUESTION, **openai_fields,
        extra_body={"vendor_option": {"nested": [1, 2]}, "api_base": "http://evil.invalid", "metadata": {"k": "v"}})

    sent = upstream.requests[-1]
    assert {k: sent.get(k) for k in openai_fields} == openai_fields
    assert sent["vendor_option"] == {"nested": [1, 2]}
    assert sent["api_base"] == "http://evil.invalid"  # a body field for the upstream, never guard's own setting
    assert sent["metadata"] == {"k": "v"}
    assert "guard" not in sent


def test_json_mode_reaches_the_upstream(proxy, upstream):
    upstream.script["fake-model"] = [Reply(text='{"days": 30}')]

    reply = proxy.client().chat.completions.create(model=MODEL, messages=QUESTION,
                                                  response_format={"type": "json_object"})

    assert upstream.requests[-1]["response_format"] == {"type": "json_object"}
    assert reply.choices[0].message.content == '{"days": 30}'


TOOLS = [{"type": "function", "function": {"name": "lookup_order", "parameters": {
    "type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]
CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order_id": "A7"}'}}


def test_tool_call_round_trip_passes_the_call_through_unverified_and_unqueued(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "policy": "block", "tiers": ["low"]})
    upstream.script["fake-model"] = [Reply(tool_calls=[CALL]), Reply(text="Order A7 ships tomorrow.")]
    client = proxy.client()
    messages = [{"role": "user", "content": "Where is order A7?"}]

    first = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)

    call = first.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == ("call_1", "lookup_order", '{"order_id": "A7"}')
    assert first.choices[0].finish_reason == "tool_calls"
    verdict = first.model_extra["guard"]
    assert verdict["review"]["required"] is False
    assert {layer["reason"] for layer in verdict["layers"].values()} >= {"tool call, nothing to verify"}
    assert upstream.requests[-1]["tools"] == TOOLS

    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "ships tomorrow"}'}]
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)

    assert upstream.requests[-1]["messages"][-1]["tool_call_id"] == "call_1"
    assert second.model_extra["guard"]["review"]["required"] is True  # the text turn is the one verified


def test_models_lists_the_configured_models_including_the_local_ones(start_proxy):
    proxy = start_proxy(models={"fallbacks": ["local/smollm2"]})

    ids = [m.id for m in proxy.client().models.list()]

    assert ids == [MODEL, "local/smollm2", "all-MiniLM-L6-v2"]  # chat models, then the embedding model guard serves


def test_health_routes_answer_without_a_key(start_proxy):
    proxy = start_proxy(server={"api_keys": ["some-key-of-16-chars"]})

    assert httpx.get(proxy.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(proxy.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"store": "ok", "knowledge_base": "disabled",
                                                          "models": "disabled"}


def test_a_server_without_a_knowledge_base_is_ready_and_its_answers_say_grounding_skipped(start_proxy, tmp_path):
    proxy = start_proxy(grounding={"enabled": True}, knowledge_base={"path": str(tmp_path / "nowhere")})

    ready = httpx.get(proxy.url + "/readyz")
    reply = proxy.client().chat.completions.create(model=MODEL, messages=QUESTION)

    assert ready.status_code == 200
    assert ready.json()["checks"]["knowledge_base"] == "none at knowledge_base.path: answers are not grounded"
    grounding = reply.model_extra["guard"]["layers"]["grounding"]
    assert grounding["status"] == "skipped" and grounding["reason"] == "no knowledge base at knowledge_base.path (missing or empty)"


def test_readyz_reports_a_postgres_knowledge_base_not_built_yet(start_proxy, pgvector_url):
    proxy = start_proxy(grounding={"enabled": True},
                        knowledge_base={"backend": "postgres", "database": pgvector_url, "name": "never-built"})

    ready = httpx.get(proxy.url + "/readyz")

    assert ready.status_code == 200
    assert ready.json()["checks"]["knowledge_base"] == ("none in knowledge_base.database, or it cannot be reached: "
                                                         "answers are not grounded")


def test_an_allowed_override_holds_the_answer_for_this_request_only(start_proxy, upstream):
    proxy = start_proxy(server={"allow_overrides": ["review_policy"]}, review={"enabled": True})

    reply = proxy.client().chat.completions.create(model=MODEL, messages=QUESTION,
                                                  extra_body={"guard": {"review_policy": "block"}})

    assert reply.model_extra["guard"]["review"]["policy"] == "block"
    assert reply.choices[0].finish_reason == "content_filter"
    assert "guard" not in upstream.requests[-1]
    plain = proxy.client().chat.completions.create(model=MODEL, messages=QUESTION)
    assert plain.model_extra["guard"]["review"]["policy"] == "flag"
