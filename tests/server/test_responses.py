"""``POST /v1/responses`` with the official openai SDK: OpenAI's Responses API, guarded by the chat pipeline."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.server.conftest import MODEL
from tests.server.test_two_servers_postgres import postgres_schema  # noqa: F401 - a fixture
from tests.support.fake_upstream import Reply
from tests.support.openai_schemas import assert_matches

QUESTION = "What is the refund window?"
TOOLS = [{"type": "function", "name": "lookup_order", "description": "Find an order",
          "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}]
CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order_id": "A7"}'}}


def test_a_string_input_gets_a_response_with_the_guard_verdict(proxy, upstream):
    upstream.script["fake-model"] = [Reply(text="Thirty days.")]

    raw = proxy.client().responses.with_raw_response.create(model=MODEL, input=QUESTION)
    response = raw.parse()

    assert response.output_text == "Thirty days."
    assert response.status == "completed"
    verdict = response.model_extra["guard"]
    assert raw.headers["x-guard-request-id"] == verdict["request_id"]
    assert response.id == "resp_" + verdict["request_id"].removeprefix("gr_")
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 5)


def test_instructions_reach_the_upstream_as_the_system_message(proxy, upstream):
    proxy.client().responses.create(model=MODEL, input=QUESTION, instructions="Answer in one sentence.")

    assert upstream.requests[-1]["messages"] == [{"role": "system", "content": "Answer in one sentence."},
                                                 {"role": "user", "content": QUESTION}]


def test_input_items_become_chat_messages(proxy, upstream):
    proxy.client().responses.create(model=MODEL, input=[
        {"role": "developer", "content": "Be brief."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": QUESTION}]},
    ], max_output_tokens=50, temperature=0.2)

    sent = upstream.requests[-1]
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    assert (sent["max_tokens"], sent["temperature"]) == (50, 0.2)


def test_previous_response_id_continues_the_conversation_without_old_instructions(proxy, upstream):
    upstream.script["fake-model"] = [Reply(text="Thirty days."), Reply(text="Fourteen days.")]
    client = proxy.client()
    first = client.responses.create(model=MODEL, input=QUESTION, instructions="Be brief.")

    second = client.responses.create(model=MODEL, input="And for exchanges?", previous_response_id=first.id)

    assert second.output_text == "Fourteen days."
    assert second.previous_response_id == first.id
    assert upstream.requests[-1]["messages"] == [{"role": "user", "content": QUESTION},
                                                 {"role": "assistant", "content": "Thirty days."},
                                                 {"role": "user", "content": "And for exchanges?"}]


def test_another_worker_on_the_same_store_continues_the_conversation(start_proxy, upstream):
    upstream.script["fake-model"] = [Reply(text="Thirty days."), Reply(text="Fourteen days.")]
    first = start_proxy().client().responses.create(model=MODEL, input=QUESTION)

    start_proxy().client().responses.create(model=MODEL, input="And for exchanges?", previous_response_id=first.id)

    assert upstream.requests[-1]["messages"][1] == {"role": "assistant", "content": "Thirty days."}


def test_two_servers_on_one_postgresql_continue_each_others_conversations(start_proxy, upstream, postgres_schema):
    upstream.script["fake-model"] = [Reply(text="Thirty days."), Reply(text="Fourteen days.")]
    first = start_proxy(telemetry={"database": postgres_schema}).client().responses.create(model=MODEL, input=QUESTION)

    start_proxy(telemetry={"database": postgres_schema}).client().responses.create(
        model=MODEL, input="And for exchanges?", previous_response_id=first.id)

    assert upstream.requests[-1]["messages"][1] == {"role": "assistant", "content": "Thirty days."}


def test_a_response_not_stored_cannot_be_continued(proxy, upstream):
    client = proxy.client()
    first = client.responses.create(model=MODEL, input=QUESTION, store=False)

    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="And?", previous_response_id=first.id)

    assert caught.value.body["param"] == "previous_response_id"
    assert len(upstream.requests) == 1


def test_function_tools_and_call_items_are_bridged_both_ways(proxy, upstream):
    upstream.script["fake-model"] = [Reply(text="Order A7 ships tomorrow.")]

    proxy.client().responses.create(model=MODEL, tools=TOOLS, input=[
        {"role": "user", "content": "Where is order A7?"},
        {"type": "function_call", "call_id": "call_1", "name": "lookup_order", "arguments": '{"order_id": "A7"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": '{"ships": "tomorrow"}'},
    ])

    sent = upstream.requests[-1]
    assert sent["tools"][0]["function"]["name"] == "lookup_order"
    assert sent["messages"][1] == {"role": "assistant", "content": None, "tool_calls": [CALL]}
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": '{"ships": "tomorrow"}'}


def test_a_reply_that_only_calls_a_tool_is_a_function_call_item_left_unverified(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "policy": "block", "tiers": ["low"]})
    upstream.script["fake-model"] = [Reply(tool_calls=[CALL])]

    response = proxy.client().responses.create(model=MODEL, input="Where is order A7?", tools=TOOLS)

    call = response.output[0]
    assert (call.type, call.call_id, call.name, call.arguments) == ("function_call", "call_1", "lookup_order",
                                                                     '{"order_id": "A7"}')
    assert response.model_extra["guard"]["tier"] == "unverified"
    assert response.model_extra["guard"]["review"]["held"] is False


def test_a_held_answer_is_an_incomplete_response_filtered_for_review(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "policy": "block", "tiers": ["low"]})

    response = proxy.client().responses.create(model=MODEL, input=QUESTION)

    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "content_filter"
    assert response.model_extra["guard"]["review"]["held"] is True
    assert proxy.guard.review_for(response.model_extra["guard"]["request_id"]) is not None


def test_a_held_streamed_answer_ends_incomplete_with_the_holding_message(start_proxy, upstream):
    proxy = start_proxy(review={"enabled": True, "policy": "block", "tiers": ["low"]})
    upstream.script["fake-model"] = [Reply(stream_pieces=["Ninety", " days."])]

    events = list(proxy.client().responses.create(model=MODEL, input=QUESTION, stream=True))

    assert [e.type for e in events[-2:]] == ["response.incomplete", "guard.verdict"]
    assert "Ninety" not in "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert events[-1].model_extra["guard"]["review"]["held"] is True


def test_the_answer_is_recorded_like_a_chat_completion(proxy, upstream):
    response = proxy.client().responses.create(model=MODEL, input=QUESTION, user="u-1")
    proxy.guard.writer.flush(timeout=5)

    record = proxy.guard.store.get_request(response.model_extra["guard"]["request_id"])

    assert (record.question, record.answer, record.user) == (QUESTION, "Hello.", "u-1")
    assert upstream.requests[-1]["user"] == "u-1"


def test_streaming_sends_the_official_events_then_the_verdict(proxy, upstream):
    upstream.script["fake-model"] = [Reply(stream_pieces=["Thirty", " days."])]

    events = list(proxy.client().responses.create(model=MODEL, input=QUESTION, stream=True))

    assert [e.type for e in events] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done", "response.completed", "guard.verdict"]
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Thirty days."
    assert [e.sequence_number for e in events] == list(range(len(events)))
    verdict = events[-1].model_extra["guard"]
    assert events[-2].response.model_extra["guard"]["request_id"] == verdict["request_id"]


def test_the_stream_helper_assembles_the_final_response_and_passes_the_verdict(proxy, upstream):
    upstream.script["fake-model"] = [Reply(stream_pieces=["Thirty", " days."])]

    with proxy.client().responses.stream(model=MODEL, input=QUESTION) as stream:
        last = list(stream)[-1]
        final = stream.get_final_response()

    assert final.output_text == "Thirty days."
    assert last.type == "guard.verdict"
    assert last.model_extra["guard"]["request_id"] == final.model_extra["guard"]["request_id"]


def test_an_experiment_arm_serves_a_responses_request_as_it_serves_chat(start_proxy, upstream):
    experiment = {"name": "concise-prompt", "assign_by": "user", "primary_metric": "edit_rate",
                  "variants": [{"name": "control", "weight": 0.000001},  # an experiment needs two arms
                               {"name": "concise", "weight": 1, "system_prompt": "concise-v2"}]}
    proxy = start_proxy(experiments=[experiment], prompts={"concise-v2": "Answer in two sentences."})

    raw = proxy.client().responses.with_raw_response.create(model=MODEL, input=QUESTION, user="u-1")

    assert raw.headers["x-guard-variant"] == "concise"
    assert raw.parse().model_extra["guard"]["experiment"] == {"name": "concise-prompt", "variant": "concise"}
    assert upstream.requests[-1]["messages"][0] == {"role": "system", "content": "Answer in two sentences."}


def test_a_client_that_leaves_a_stream_cancels_the_upstream(proxy, upstream):
    upstream.script["fake-model"] = [Reply(stream_pieces=[f"word{i} " for i in range(200)], chunk_delay_s=0.02)]

    with httpx.stream("POST", proxy.url + "/v1/responses",
                      json={"model": MODEL, "input": QUESTION, "stream": True}) as reply:
        lines = reply.iter_lines()
        received = [next(lines) for _ in range(16)]
    assert any("word" in line for line in received)

    assert upstream.stream_cut.wait(5), "the upstream kept streaming to a client that had left"


def test_a_streamed_tool_call_arrives_as_function_call_events(proxy, upstream):
    upstream.script["fake-model"] = [Reply(tool_calls=[CALL], stream_pieces=[])]

    events = list(proxy.client().responses.create(model=MODEL, input="Where is A7?", tools=TOOLS, stream=True))

    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert (done.name, done.arguments) == ("lookup_order", '{"order_id": "A7"}')
    assert events[-1].model_extra["guard"]["tier"] == "unverified"


def test_a_streamed_conversation_can_be_continued(proxy, upstream):
    upstream.script["fake-model"] = [Reply(stream_pieces=["Thirty days."]), Reply(text="Fourteen.")]
    client = proxy.client()
    events = list(client.responses.create(model=MODEL, input=QUESTION, stream=True))

    client.responses.create(model=MODEL, input="And?", previous_response_id=events[0].response.id)

    assert upstream.requests[-1]["messages"][1] == {"role": "assistant", "content": "Thirty days."}


@pytest.mark.parametrize("body, param", [
    ({"model": MODEL}, "input"),
    ({"model": MODEL, "input": QUESTION, "tools": [{"type": "web_search"}]}, "tools.0"),
    ({"model": MODEL, "input": [{"type": "input_file", "file_id": "f"}]}, "input.0.type"),
    ({"model": MODEL, "input": QUESTION, "background": True}, "background"),
    ({"model": MODEL, "input": QUESTION, "previous_response_id": "resp_unknown"}, "previous_response_id"),
])
def test_bad_input_is_a_400_in_openai_error_shape(proxy, body, param):
    reply = httpx.post(proxy.url + "/v1/responses", json=body)

    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == param
    assert reply.json()["error"]["type"] == "invalid_request_error"


def sse_events(proxy, body: dict) -> list[dict]:
    with httpx.stream("POST", proxy.url + "/v1/responses", json={**body, "stream": True}) as reply:
        return [json.loads(line[6:]) for line in reply.iter_lines() if line.startswith("data: ")]


def test_the_response_and_stream_events_match_openais_schemas(proxy, upstream):
    upstream.script["fake-model"] = [Reply(text="Thirty days."), Reply(stream_pieces=["Thirty", " days."]),
                                     Reply(tool_calls=[CALL]), Reply(tool_calls=[CALL], stream_pieces=[])]
    body = {"model": MODEL, "input": QUESTION, "metadata": {"team": "support"}}
    assert_matches("Response", httpx.post(proxy.url + "/v1/responses", json=body).json())
    text_events = sse_events(proxy, body)
    assert_matches("Response", httpx.post(proxy.url + "/v1/responses", json={**body, "tools": TOOLS}).json())
    tool_events = sse_events(proxy, {**body, "tools": TOOLS})

    for event in text_events[:-1] + tool_events[:-1]:
        assert_matches("ResponseStreamEvent", event)
    assert text_events[-1]["type"] == tool_events[-1]["type"] == "guard.verdict"


def test_only_the_key_that_created_a_response_continues_it(start_proxy, upstream):
    from guard.config import key_digest

    keys = {"sk-first-app-000001": "first", "sk-other-app-000001": "other"}
    proxy = start_proxy(server={"keys": [{"name": name, "digest": key_digest(key)} for key, name in keys.items()]})
    first = list(proxy.client("sk-first-app-000001").responses.create(model=MODEL, input=QUESTION, stream=True))
    previous = first[0].response.id

    proxy.client("sk-first-app-000001").responses.create(model=MODEL, input="And?", previous_response_id=previous)
    with pytest.raises(openai.BadRequestError):
        proxy.client("sk-other-app-000001").responses.create(model=MODEL, input="And?", previous_response_id=previous)
