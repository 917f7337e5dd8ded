"""Texts turned into what the offline verifier compares: a sentence vector and contextual token vectors.

Sources come back again and again (every claim of an answer, every layer, every
sample), so encodings are cached by text for the process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from guard.embeddings import get_embedder
from guard.verify.text import STOPWORDS

_SPECIAL_TOKENS = {"[CLS]", "[SEP]", "<s>", "</s>", "[PAD]"}


@dataclass(frozen=True)
class Encoding:
    """One text: its unit sentence vector and the unit vectors of the tokens that carry its content.

    ``tokens`` holds only what features compare (stopwords and punctuation dropped: less to keep in
    the cache, nothing to filter per comparison); a text with no content token ("Yes.") keeps all its
    tokens, one with no token at all its sentence vector. ``pooled`` and ``n_pooled`` (the raw mean of
    the token vectors and how many there were) let runs of sentences be pooled into a window vector
    without encoding the window again.
    """

    sentence: np.ndarray  # (dim,)
    tokens: np.ndarray  # (n, dim)
    pooled: np.ndarray  # (dim,)
    n_pooled: int


class TextEncoder:
    """MiniLM encodings with a bounded per-process cache; thread-safe."""

    def __init__(self, model: str, cache_size: int = 8192, int8: bool = False):
        self._embedder = get_embedder(model, int8)
        self._cache: OrderedDict[str, Encoding] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> list[Encoding]:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            fresh = {text: _encoding(tokens, vectors)
                     for text, (tokens, vectors) in zip(missing, self._embedder.encode_tokens(missing))}
            with self._lock:
                self._cache.update(fresh)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            found = [self._cache.get(t) for t in texts]
        # A text evicted between the two locked sections (tiny caches, huge batches) is encoded again.
        return [enc if enc is not None else self.encode([t])[0] for t, enc in zip(texts, found)]


def _encoding(tokens: list[str], vectors: np.ndarray) -> Encoding:
    mean = vectors.mean(axis=0)
    sentence = unit(mean)
    keep = [i for i, tok in enumerate(tokens) if tok not in _SPECIAL_TOKENS]
    kept = vectors[keep]
    kept = (kept / np.maximum(np.linalg.norm(kept, axis=1, keepdims=True), 1e-9)).astype(np.float32)
    content = np.array([_is_content(tokens[i]) for i in keep], dtype=bool)
    compared = kept[content] if content.any() else kept if len(kept) else sentence[None, :]
    return Encoding(sentence=sentence, tokens=compared, pooled=mean, n_pooled=len(tokens))


def pooled_window(encodings: list[Encoding]) -> np.ndarray:
    """The unit mean-pooled vector of consecutive sentences read as one passage (each in its own context)."""
    total = sum(e.pooled * e.n_pooled for e in encodings)
    return unit(total / sum(e.n_pooled for e in encodings))


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-9)


def _is_content(token: str) -> bool:
    piece = token[2:] if token.startswith("##") else token
    return any(ch.isalnum() for ch in piece) and piece.lower() not in STOPWORDS
