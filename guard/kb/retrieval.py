"""Hybrid retrieval: dense and full-text candidates fused by reciprocal rank, judged by one relevance number.

The same for every backend: each proposes its dense and lexical candidates
(``guard.kb.backend``), and the fusion and relevance below turn them into hits.

Ranking. Each side proposes its best candidates; a chunk's fused score is
``sum(1 / (60 + rank))`` over the sides that found it (reciprocal rank fusion,
Cormack et al. 2009). Ranks, not scores, are fused because cosines and BM25
(or ts_rank) scores live on unrelated scales.

Relevance. Fusion orders candidates but says nothing about whether any is
relevant, so every candidate, whichever side found it, gets its exact dense
cosine to the question (from its stored vector), and::

    relevance = max(cosine clipped to [0, 1], identifier share)

where the identifier share is the fraction of the question's identifiers
(words with a digit and a letter or separator: ``ERR-4012``, ``SKU-88B``,
``4.2``) that the chunk contains verbatim. A floor (``min_relevance``) applies
to this number: for a question without identifiers it is exactly the dense
cosine floor, and a chunk quoting the error code asked about passes it even
when its cosine is low, which is the case lexical search is there for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from guard.kb.backend import Backend
from guard.kb.store import Chunk

RRF_K = 60
_IDENTIFIER = re.compile(r"[^\W_][\w./-]*[^\W_]")


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused rank score; orders hits
    dense: float  # cosine between question and chunk
    lexical: float | None  # BM25 (local) or ts_rank (postgres) score; None when the lexical side did not find it
    identifier_share: float  # share of the question's identifiers the chunk contains verbatim

    @property
    def relevance(self) -> float:
        return max(min(max(self.dense, 0.0), 1.0), self.identifier_share)


def identifiers(query: str) -> list[str]:
    """Words that name something exactly: a digit plus a letter or separator (not plain numbers or years)."""
    found = []
    for word in _IDENTIFIER.findall(query):
        if any(c.isdigit() for c in word) and not word.isdigit() and len(word) >= 3 and word not in found:
            found.append(word)
    return found


def identifier_share(names: list[str], text: str) -> float:
    if not names:
        return 0.0
    hits = sum(1 for name in names if re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-]|\.\w)", text, re.IGNORECASE))
    return hits / len(names)


def fuse(*rankings: list[int]) -> dict[int, float]:
    """Reciprocal rank fusion of ranked id lists (best first)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row_id in enumerate(ranking, 1):
            scores[row_id] = scores.get(row_id, 0.0) + 1.0 / (RRF_K + rank)
    return scores


def hybrid_search(query: str, query_vector: np.ndarray, backend: Backend, *, k: int,
                  min_relevance: float) -> list[Hit]:
    pool = max(4 * k, 40)
    dense = backend.dense(query_vector, pool)
    lexical_scores = dict(backend.lexical(query, pool))
    fused = fuse([row for row, _ in dense], list(lexical_scores))
    found = backend.chunks(list(fused), query_vector)  # rows deleted since the dense side answered drop out here
    names = identifiers(query)
    hits = [Hit(chunk=chunk, score=fused[row], dense=cosine, lexical=lexical_scores.get(row),
                identifier_share=identifier_share(names, chunk.text)) for row, (chunk, cosine) in found.items()]
    hits = [h for h in hits if h.relevance >= min_relevance]
    hits.sort(key=lambda h: (-h.score, -h.relevance, h.chunk.id))
    return hits[:k]
