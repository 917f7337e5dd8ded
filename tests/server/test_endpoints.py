"""``models.endpoints``: one proxy serving models that live on different servers (a vLLM, an Ollama, a hosted
model), each called at its own base URL with its own key and timeout, as LiteLLM's model list does."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from guard.config import load_config
from guard.errors import ConfigError
from tests.server.conftest import MODEL, server_config
from tests.support.fake_upstream import FakeUpstream, Reply

QUESTION = [{"role": "user", "content": "What is the refund window?"}]
VLLM, OLLAMA = "openai/llama-3-8b", "openai/qwen2"
VLLM_KEY = "sk-vllm-secret-0001"


@pytest.fixture
def servers() -> Iterator[tuple[FakeUpstream, FakeUpstream]]:
    """Two more OpenAI-compatible servers beside the ``upstream`` fixture's (the process-wide one)."""
    vllm, ollama = FakeUpstream(), FakeUpstream()
    yield vllm, ollama
    vllm.close()
    ollama.close()


@pytest.fixture
def side_by_side(start_proxy, upstream, servers, monkeypatch):
    vllm, ollama = servers
    monkeypatch.setenv("VLLM_API_KEY", VLLM_KEY)
    vllm.script["llama-3-8b"] = [Reply(text="From vLLM.")]
    ollama.script["qwen2"] = [Reply(text="From Ollama.")]
    upstream.script["fake-model"] = [Reply(text="From the hosted model.")]
    return start_proxy(
        models={"endpoints": {VLLM: {"base_url": vllm.base_url, "api_key_env": "VLLM_API_KEY"},
                              OLLAMA: {"base_url": ollama.base_url}}},
        server={"models": [VLLM, OLLAMA]})


def test_each_model_is_answered_by_its_own_server(side_by_side, upstream, servers):
    vllm, ollama = servers
    client = side_by_side.client()

    answers = {model: client.chat.completions.create(model=model, messages=QUESTION).choices[0].message.content
               for model in (VLLM, OLLAMA, MODEL)}

    assert answers == {VLLM: "From vLLM.", OLLAMA: "From Ollama.", MODEL: "From the hosted model."}
    assert [r["model"] for r in vllm.requests] == ["llama-3-8b"]
    assert [r["model"] for r in ollama.requests] == ["qwen2"]
    assert [r["model"] for r in upstream.requests] == ["fake-model"]


def test_streams_go_to_the_models_own_server_too(side_by_side, servers):
    vllm, _ = servers

    chunks = list(side_by_side.client().chat.completions.create(model=VLLM, messages=QUESTION, stream=True))

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "From vLLM."
    assert vllm.requests[-1]["stream"] is True


def test_each_server_gets_its_own_key_and_none_gets_the_hosted_providers(side_by_side, upstream, servers):
    vllm, ollama = servers
    client = side_by_side.client()

    for model in (VLLM, OLLAMA, MODEL):
        client.chat.completions.create(model=model, messages=QUESTION)

    assert vllm.authorizations == [f"Bearer {VLLM_KEY}"]
    assert ollama.authorizations == ["Bearer none"]  # configured without a key: OPENAI_API_KEY stays with its host
    assert upstream.authorizations == ["Bearer sk-test-not-a-real-key"]


def test_a_provider_litellm_translates_is_sent_to_its_endpoint(start_proxy, servers):
    vllm, _ = servers
    vllm.script["llama-3-8b"] = [Reply(text="From vLLM via litellm.")]
    proxy = start_proxy(models={"default": "hosted_vllm/llama-3-8b",
                                "endpoints": {"hosted_vllm/llama-3-8b": {"base_url": vllm.base_url}}})

    reply = proxy.client().chat.completions.create(model="hosted_vllm/llama-3-8b", messages=QUESTION)

    assert reply.choices[0].message.content == "From vLLM via litellm."
    assert vllm.requests[-1]["model"] == "llama-3-8b"


def test_an_upstream_embedding_model_is_sent_to_its_endpoint(start_proxy, upstream, servers):
    _, ollama = servers
    proxy = start_proxy(models={"endpoints": {"openai/nomic-embed-text": {"base_url": ollama.base_url}}},
                        server={"embedding_models": ["openai/nomic-embed-text"]})

    result = proxy.client().embeddings.create(model="openai/nomic-embed-text", input="refund policy")

    assert len(result.data) == 1 and ollama.requests[-1]["model"] == "nomic-embed-text"
    assert upstream.requests == []


def test_an_endpoints_own_timeout_bounds_its_calls(start_proxy, upstream, servers):
    vllm, _ = servers
    vllm.script["llama-3-8b"] = [Reply(delay_s=2.0)]
    proxy = start_proxy(models={"timeout_s": 30, "endpoints": {VLLM: {"base_url": vllm.base_url, "timeout_s": 0.3}}},
                        server={"models": [VLLM]})

    with pytest.raises(openai.InternalServerError) as caught:
        proxy.client().chat.completions.create(model=VLLM, messages=QUESTION)

    assert caught.value.status_code == 504


def test_the_default_deadline_leaves_room_for_the_slowest_endpoint():
    models = server_config(models={"timeout_s": 10, "endpoints": {VLLM: {"base_url": "http://vllm/v1",
                                                                         "timeout_s": 50}}}).models

    assert models.deadline_s == 100


def test_a_key_variable_that_is_not_set_is_an_error_naming_the_variable(start_proxy, upstream, servers):
    vllm, _ = servers
    proxy = start_proxy(models={"endpoints": {VLLM: {"base_url": vllm.base_url, "api_key_env": "NOT_SET_KEY"}}},
                        server={"models": [VLLM]})

    response = httpx.post(proxy.url + "/v1/chat/completions", json={"model": VLLM, "messages": QUESTION}, timeout=20)

    assert response.status_code == 502 and "NOT_SET_KEY is not set" in response.json()["error"]["message"]
    assert vllm.requests == []


def test_the_key_is_in_no_configuration_record_or_log(side_by_side, tmp_path, capsys):
    reply = side_by_side.client().chat.completions.create(model=VLLM, messages=QUESTION)
    assert side_by_side.guard.writer.flush(10)

    assert side_by_side.guard.store.get_request(reply.model_extra["guard"]["request_id"]) is not None
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("guard.db*"))
    assert VLLM_KEY.encode() not in stored
    assert VLLM_KEY not in side_by_side.guard.config.model_dump_json()
    assert VLLM_KEY not in "".join(capsys.readouterr())


def test_endpoints_are_read_from_guard_yaml(tmp_path):
    path = tmp_path / "guard.yaml"
    path.write_text("models:\n  endpoints:\n    openai/llama-3-8b:\n      base_url: http://vllm:8000/v1\n"
                    "      api_key_env: VLLM_API_KEY\n      timeout_s: 20\n")

    endpoint = load_config(path).models.endpoints["openai/llama-3-8b"]

    assert (endpoint.base_url, endpoint.api_key_env, endpoint.timeout_s) == ("http://vllm:8000/v1", "VLLM_API_KEY", 20)


@pytest.mark.parametrize(("field", "value"), [("base_url", "vllm:8000"), ("api_key_env", "sk-live-abc123")])
def test_a_bad_endpoint_fails_to_load_without_echoing_the_value(tmp_path, field, value):
    path = tmp_path / "guard.yaml"
    endpoint = {"base_url": "http://vllm:8000/v1", field: value}
    path.write_text("models:\n  endpoints:\n    openai/llama-3-8b: {"
                    + ", ".join(f"{k}: '{v}'" for k, v in endpoint.items()) + "}\n")

    with pytest.raises(ConfigError, match=field) as caught:
        load_config(path)

    assert value not in str(caught.value)  # a key pasted where its variable's name belongs stays out of the error
