"""Both MiniLM encoders run through the graph guard ships and give what torch gives."""

import numpy as np
import pytest

from guard.embeddings import Embedder, get_embedder
from guard.onnx_encoder import OnnxEncoder, assembled
from guard.threads import _threads
from guard.verify.support_model import model_dir as support_model_dir

TEXTS = [
    "Refunds are paid within 5 business days.",
    "Yes.",
    "The Lumen Plus plan costs $3.99 per month; ünïcode café, naïve façade — 30 % off!",
    " ".join(["The warranty covers the battery and the charger for two years."] * 30),  # > 256 word pieces: truncated
]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    pytest.importorskip("sentence_transformers", reason="the torch reference needs the train extra")
    return Embedder(onnx=False)


def test_the_packaged_model_runs_on_onnx_runtime():
    assert get_embedder()._onnx is not None


def test_onnx_token_vectors_match_torch_word_piece_for_word_piece(torch_embedder):
    for (onnx_tokens, onnx_vectors), (torch_tokens, torch_vectors) in zip(get_embedder().encode_tokens(TEXTS),
                                                                          torch_embedder.encode_tokens(TEXTS)):
        assert onnx_tokens == torch_tokens
        assert np.allclose(onnx_vectors, torch_vectors, atol=1e-4)
    assert len(get_embedder().encode_tokens(TEXTS[-1:])[0][0]) == 256


def test_onnx_sentence_vectors_match_torch(torch_embedder):
    assert np.allclose(get_embedder().encode(TEXTS), torch_embedder.encode(TEXTS), atol=1e-5)


def test_the_support_model_through_the_shipped_graph_matches_its_torch_encoder():
    torch = pytest.importorskip("torch", reason="the torch reference needs the train extra")
    from transformers import AutoModel, AutoTokenizer

    folder = support_model_dir()
    pairs = [("Refunds are paid within 5 business days.", "Refunds take five days."), ("Yes.", "No.")]
    model = AutoModel.from_pretrained(str(folder), dtype=torch.float32, add_pooling_layer=False).eval()
    batch = AutoTokenizer.from_pretrained(str(folder))([a for a, _ in pairs], [b for _, b in pairs], padding=True,
                                                        return_tensors="pt")
    with torch.inference_mode():
        expected = model(**batch).last_hidden_state.numpy()
    encoder = OnnxEncoder(folder, max_length=128)
    for row, (_, vectors) in enumerate(encoder.token_vectors(encoder.tokenize(pairs))):
        assert np.allclose(vectors, expected[row, :len(vectors)], atol=1e-4)


@pytest.mark.parametrize("int8", [False, True], ids=["fp32", "int8"])
def test_loading_writes_nothing_to_home_or_the_cache(tmp_path, monkeypatch, int8):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    Embedder(int8=int8).encode(["a sentence"])
    assert not (tmp_path / "cache").exists() and not (tmp_path / "home").exists()


def test_the_int8_graph_gives_vectors_close_to_the_fp32_ones():
    full, quantized = (OnnxEncoder(support_model_dir(), max_length=128, int8=int8) for int8 in (False, True))
    pairs = [("Refunds are paid within 5 business days.", "Refunds take five days.")]

    (_, a), = full.token_vectors(full.tokenize(pairs))
    (_, b), = quantized.token_vectors(quantized.tokenize(pairs))
    cosine = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    # Quantization noise, not a different reading: close on average, no word piece far off.
    assert cosine.mean() > 0.98 and cosine.min() > 0.95


def test_vectors_do_not_depend_on_how_many_threads_a_forward_takes(monkeypatch):
    pairs = [("Refunds are paid within 5 business days.", "Refunds take five days."), ("Yes.", "No.")]
    runs = []
    try:
        for threads in ("1", "2"):
            monkeypatch.setenv("OMP_NUM_THREADS", threads)
            _threads.cache_clear()
            encoder = OnnxEncoder(support_model_dir(), max_length=128, int8=True)
            runs.append([vectors for _, vectors in encoder.token_vectors(encoder.tokenize(pairs))])
    finally:
        _threads.cache_clear()  # the next test reads the environment it restores
    assert all(np.array_equal(a, b) for a, b in zip(*runs))


def test_weights_of_another_architecture_are_refused_by_name(tmp_path):
    from safetensors.numpy import save_file

    save_file({"encoder.weight": np.zeros((2, 2), np.float32)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match="is not a MiniLM-L6 encoder"):
        assembled(tmp_path)
