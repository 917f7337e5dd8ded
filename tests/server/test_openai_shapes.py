"""Every reply the proxy sends has the shape OpenAI publishes: what strict clients (TypeScript schemas,
generated Go and Rust types) accept. Bodies are read raw off the wire, not through the SDK, which forgives
a ``null`` where the document allows only an absent field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import APP_KEY, MODEL
from tests.support.fake_upstream import Reply
from tests.support.openai_schemas import SUBSET, subset, validator

QUESTION = [{"role": "user", "content": "What is the refund window?"}]
CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order_id": "A7"}'}}
TOOLS = [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}]
# OpenAI's whole document, where the checkout sits beside the team's shared files (../shared from the repo)
SHARED_DOCUMENT = next((p / "shared/openai/openapi.json" for p in Path(__file__).resolve().parents
                        if (p / "shared/openai/openapi.json").exists()), None)


def assert_shape(schema: str, body: dict[str, Any]) -> None:
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
                for e in validator(schema).iter_errors(body)]
    assert not problems, f"not a {schema}:\n" + "\n".join(problems)


def post(proxy, body: dict[str, Any], path: str = "/v1/chat/completions", **kwargs: Any) -> httpx.Response:
    return httpx.post(proxy.url + path, json=body, timeout=20, **kwargs)


def stream_events(proxy, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.stream("POST", proxy.url + "/v1/chat/completions", json={**body, "stream": True},
                      timeout=20) as response:
        lines = [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]" or "error" in json.loads(lines[-1])
    return [json.loads(line) for line in lines if line != "[DONE]"]


# -- chat completions --------------------------------------------------------

@pytest.mark.parametrize("reply", [Reply(text="Thirty days."), Reply(tool_calls=[CALL])], ids=["text", "tool-call"])
def test_a_completion_is_a_create_chat_completion_response(proxy, upstream, reply):
    upstream.script["fake-model"] = [reply]

    body = post(proxy, {"model": MODEL, "messages": QUESTION, "tools": TOOLS}).json()

    assert_shape("CreateChatCompletionResponse", body)
    message = body["choices"][0]["message"]
    assert not {"annotations", "function_call", "audio"} & set(message)  # absent, never null
    assert "system_fingerprint" not in body and "service_tier" not in body


def test_a_tool_call_message_keeps_its_null_content(proxy, upstream):
    upstream.script["fake-model"] = [Reply(tool_calls=[CALL])]

    message = post(proxy, {"model": MODEL, "messages": QUESTION, "tools": TOOLS}).json()["choices"][0]["message"]

    assert message["content"] is None and message["tool_calls"][0]["id"] == "call_1"


def test_a_completion_with_log_probabilities_and_several_choices_keeps_the_shape(proxy, upstream):
    upstream.script["fake-model"] = [Reply(logprobs=[("Thirty", -0.1), (" days", -0.2)])]

    body = post(proxy, {"model": MODEL, "messages": QUESTION, "logprobs": True, "n": 2}).json()

    assert_shape("CreateChatCompletionResponse", body)
    assert len(body["choices"]) == 2 and body["choices"][0]["logprobs"]["content"][0]["token"] == "Thirty"


@pytest.mark.parametrize("tools", [None, TOOLS], ids=["plain", "tools"])
def test_a_held_answer_is_a_create_chat_completion_response(start_proxy, upstream, tools):
    proxy = start_proxy(review={"enabled": True, "policy": "block", "tiers": ["low"]})
    upstream.script["fake-model"] = [Reply(text="An unverified answer.")]

    body = post(proxy, {"model": MODEL, "messages": QUESTION, **({"tools": tools} if tools else {})}).json()

    assert_shape("CreateChatCompletionResponse", body)
    assert body["guard"]["review"]["held"] is True


def test_the_guard_object_keeps_its_documented_nulls(proxy):
    verdict = post(proxy, {"model": MODEL, "messages": QUESTION}).json()["guard"]

    assert "experiment" in verdict and verdict["experiment"] is None
    assert verdict["review"]["id"] is None and verdict["usage"]["cost_usd"] is None


# -- streams -----------------------------------------------------------------

@pytest.mark.parametrize("mode", ["provisional", "buffer"])
@pytest.mark.parametrize("reply", [Reply(stream_pieces=["Thirty ", "days."]), Reply(tool_calls=[CALL])],
                         ids=["text", "tool-call"])
def test_every_stream_chunk_and_the_verdict_chunk_are_stream_responses(start_proxy, upstream, mode, reply):
    proxy = start_proxy(streaming={"mode": mode})
    upstream.script["fake-model"] = [reply]

    chunks = stream_events(proxy, {"model": MODEL, "messages": QUESTION, "tools": TOOLS})

    for chunk in chunks:
        assert_shape("CreateChatCompletionStreamResponse", chunk)
        assert "system_fingerprint" not in chunk and "usage" not in chunk  # the client did not ask for usage
        for choice in chunk["choices"]:
            assert None not in (choice["delta"].get(k, "") for k in ("role", "function_call", "tool_calls"))
    assert chunks[-1]["choices"] == [] and "tier" in chunks[-1]["guard"]
    assert all("guard" not in chunk for chunk in chunks[:-1])


def test_stream_chunks_with_usage_and_log_probabilities_keep_the_shape(proxy, upstream):
    upstream.script["fake-model"] = [Reply(stream_pieces=["Thirty ", "days."], logprobs=[("Thirty", -0.1)])]

    chunks = stream_events(proxy, {"model": MODEL, "messages": QUESTION, "logprobs": True,
                                   "stream_options": {"include_usage": True}})

    for chunk in chunks:
        assert_shape("CreateChatCompletionStreamResponse", chunk)
    assert chunks[-1]["usage"]["prompt_tokens"] == 12


def test_an_error_after_the_first_chunk_is_an_error_response_event(proxy, upstream, monkeypatch):
    async def broken(*_args, **_kwargs):
        raise RuntimeError("the verdict failed")

    monkeypatch.setattr(proxy.guard, "_verdict", broken)

    events = stream_events(proxy, {"model": MODEL, "messages": QUESTION})

    assert_shape("CreateChatCompletionStreamResponse", events[0])
    assert_shape("ErrorResponse", events[-1])


# -- models and embeddings ---------------------------------------------------

def test_the_model_list_is_a_list_models_response(start_proxy):
    proxy = start_proxy(server={"embedding_models": ["openai/text-embedding-3-small"]})

    assert_shape("ListModelsResponse", httpx.get(proxy.url + "/v1/models", timeout=20).json())


@pytest.mark.parametrize("model", ["all-MiniLM-L6-v2", "openai/text-embedding-3-small"], ids=["local", "upstream"])
def test_embeddings_are_a_create_embedding_response(start_proxy, upstream, model):
    proxy = start_proxy(server={"embedding_models": ["openai/text-embedding-3-small"]})

    body = post(proxy, {"model": model, "input": ["refund policy", "error E-142"]}, "/v1/embeddings").json()

    assert_shape("CreateEmbeddingResponse", body)


# -- errors ------------------------------------------------------------------

def _errors(proxy, upstream) -> list[httpx.Response]:
    chat = proxy.url + "/v1/chat/completions"
    upstream.script["fake-model"] = [Reply(status=429, headers={"retry-after": "1"}), Reply(status=503),
                                     Reply(status=400)]
    return [
        httpx.post(chat, content=b'{"model": ', headers={"content-type": "application/json"}),  # bad JSON
        post(proxy, {"model": MODEL, "messages": []}),  # invalid field
        post(proxy, {"model": "no-such-model", "messages": QUESTION}),  # model not served
        post(proxy, {"model": MODEL, "messages": [{"role": "user", "content": "x" * 10_000}]}),  # too large
        post(proxy, {"model": MODEL, "messages": QUESTION}),  # upstream 429
        post(proxy, {"model": MODEL, "messages": QUESTION}),  # upstream 503
        post(proxy, {"model": MODEL, "messages": QUESTION}),  # upstream 400
        post(proxy, {"model": MODEL, "input": "x"}, "/v1/embeddings"),  # model not served
        httpx.get(proxy.url + "/nowhere"),  # 404
        httpx.get(chat),  # 405
    ]


def test_every_error_body_is_an_error_response(start_proxy, upstream):
    proxy = start_proxy(server={"max_body_bytes": 4096})

    responses = _errors(proxy, upstream)

    assert sorted({r.status_code for r in responses}) == [400, 404, 405, 413, 429, 503]
    for response in responses:
        assert_shape("ErrorResponse", response.json())


def test_an_unauthenticated_request_is_an_error_response(start_proxy):
    proxy = start_proxy(server={"api_keys": [APP_KEY]})

    response = post(proxy, {"model": MODEL, "messages": QUESTION})

    assert response.status_code == 401
    assert_shape("ErrorResponse", response.json())


# -- the schemas themselves --------------------------------------------------

def test_the_schemas_are_openais_published_ones():
    """The subset in tests/data is the shared document's, verbatim, where this checkout has that document."""
    if SHARED_DOCUMENT is None:
        pytest.skip("no shared/openai/openapi.json beside this checkout")
    kept = json.loads(SUBSET.read_text())["openapi"]
    assert kept == subset(json.loads(SHARED_DOCUMENT.read_text()))


def test_the_validator_refuses_a_null_where_openai_allows_only_absence():
    """The check can fail: a message with ``annotations: null`` (what the proxy sent before) is refused."""
    body = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": "hi", "refusal": None, "annotations": None}}]}

    with pytest.raises(AssertionError, match="annotations"):
        assert_shape("CreateChatCompletionResponse", body)
