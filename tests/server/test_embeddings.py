"""``POST /v1/embeddings``: the knowledge base's model answered offline by guard; other names by the allowlist."""

from __future__ import annotations

import base64

import numpy as np
import openai
import pytest

from guard.embeddings import get_embedder

UPSTREAM_EMBEDDER = "openai/text-embedding-3-small"


def test_the_packaged_model_is_answered_by_guard_in_openais_shape(proxy, upstream):
    result = proxy.client().embeddings.create(model="all-MiniLM-L6-v2", input=["refund policy", "error E-142"])

    expected = get_embedder("all-MiniLM-L6-v2").encode(["refund policy", "error E-142"])
    assert result.model == "all-MiniLM-L6-v2" and [d.index for d in result.data] == [0, 1]
    assert np.allclose([d.embedding for d in result.data], expected, atol=1e-6)
    assert result.usage.prompt_tokens > 0 and not upstream.requests  # nothing left guard


def test_base64_vectors_decode_to_the_same_floats(proxy):
    # The openai SDK asks for base64 by default and decodes it itself: its floats must be guard's.
    client = proxy.client()
    as_floats = client.embeddings.create(model="all-MiniLM-L6-v2", input="lamp", encoding_format="float")
    raw = client.embeddings.with_raw_response.create(model="all-MiniLM-L6-v2", input="lamp",
                                                     encoding_format="base64")

    vector = np.frombuffer(base64.b64decode(raw.http_response.json()["data"][0]["embedding"]), dtype="<f4")
    assert np.allclose(vector, as_floats.data[0].embedding, atol=1e-7)


def test_the_sentence_transformers_name_is_an_alias_of_the_packaged_model(proxy):
    result = proxy.client().embeddings.create(model="sentence-transformers/all-MiniLM-L6-v2", input="lamp")

    assert result.model == "all-MiniLM-L6-v2" and len(result.data[0].embedding) == 384


def test_an_unserved_embedding_model_is_a_400_listing_the_served_ones(start_proxy, upstream):
    proxy = start_proxy(server={"embedding_models": [UPSTREAM_EMBEDDER]})

    with pytest.raises(openai.BadRequestError) as caught:
        proxy.client().embeddings.create(model="text-embedding-ada-002", input="lamp")

    error = caught.value.body
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert error["message"] == ("model 'text-embedding-ada-002' is not served here; served embedding models: "
                                f"all-MiniLM-L6-v2, {UPSTREAM_EMBEDDER}")
    assert not upstream.requests


def test_a_served_upstream_model_goes_to_its_provider_also_by_its_short_name(start_proxy, upstream):
    proxy = start_proxy(server={"embedding_models": [UPSTREAM_EMBEDDER]})

    result = proxy.client().embeddings.create(model="text-embedding-3-small", input=["a", "b"])

    assert [d.index for d in result.data] == [0, 1]
    assert upstream.requests[-1]["model"] == "text-embedding-3-small" and upstream.requests[-1]["input"] == ["a", "b"]


def test_token_lists_are_refused_by_the_local_model_with_the_reason(proxy):
    with pytest.raises(openai.BadRequestError) as caught:
        proxy.client().embeddings.create(model="all-MiniLM-L6-v2", input=[[1, 2, 3]])

    assert caught.value.body["param"] == "input" and "reads text" in caught.value.body["message"]


def test_the_embedding_models_are_listed_in_models(start_proxy):
    proxy = start_proxy(server={"embedding_models": [UPSTREAM_EMBEDDER]})

    ids = [m.id for m in proxy.client().models.list()]

    assert ids[-2:] == ["all-MiniLM-L6-v2", UPSTREAM_EMBEDDER]
