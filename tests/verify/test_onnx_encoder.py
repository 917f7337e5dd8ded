"""The packaged MiniLM on ONNX Runtime gives what sentence-transformers' torch model gives, and falls back to it."""

import numpy as np
import pytest

import guard.embeddings as embeddings
import guard.onnx_encoder as onnx_encoder
from guard.embeddings import Embedder, get_embedder

TEXTS = [
    "Refunds are paid within 5 business days.",
    "Yes.",
    "The Lumen Plus plan costs $3.99 per month; ünïcode café, naïve façade — 30 % off!",
    " ".join(["The warranty covers the battery and the charger for two years."] * 30),  # > 256 word pieces: truncated
]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(onnx=False)


def test_the_packaged_model_runs_on_onnx_runtime():
    assert get_embedder()._onnx is not None and Embedder(onnx=False)._onnx is None


def test_onnx_token_vectors_match_torch_word_piece_for_word_piece(torch_embedder):
    for (onnx_tokens, onnx_vectors), (torch_tokens, torch_vectors) in zip(get_embedder().encode_tokens(TEXTS),
                                                                          torch_embedder.encode_tokens(TEXTS)):
        assert onnx_tokens == torch_tokens
        assert np.allclose(onnx_vectors, torch_vectors, atol=1e-4)
    assert len(get_embedder().encode_tokens(TEXTS[-1:])[0][0]) == 256


def test_onnx_sentence_vectors_match_torch(torch_embedder):
    assert np.allclose(get_embedder().encode(TEXTS), torch_embedder.encode(TEXTS), atol=1e-5)


def test_an_exported_graph_is_reused_not_exported_again(monkeypatch):
    first = onnx_encoder.exported_graph(embeddings.packaged_model_dir())
    monkeypatch.setattr(onnx_encoder, "_export", lambda *_: pytest.fail("exported twice"))
    assert onnx_encoder.exported_graph(embeddings.packaged_model_dir()) == first


def test_without_onnx_runtime_the_embedder_falls_back_to_torch(monkeypatch, torch_embedder):
    def unavailable(*_args, **_kwargs):
        raise ImportError("No module named 'onnxruntime'")

    monkeypatch.setattr(onnx_encoder, "OnnxEncoder", unavailable)
    fallback = Embedder()
    assert fallback._onnx is None
    assert np.allclose(fallback.encode(TEXTS[:2]), torch_embedder.encode(TEXTS[:2]), atol=1e-6)
