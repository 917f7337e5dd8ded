"""What the support cross-encoder reads: the claim (with its question) and the source sentences that fit.

Training (``guard.training.train``) and inference (``guard.verify.support_model``) both build
their pairs here, so the model is used exactly as it was trained: evidence longer than the
model reads is cut to the sentences that share the most (rarer) words with the claim, kept in
their original order, until the pair fits ``max_length`` word pieces. Choosing by shared words
needs no model: on first sight of long sources it costs microseconds where embedding every
source sentence would cost most of the check.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from guard.verify.text import content_stems, split_sentences

QUESTION_WORDS = 32  # a dialogue history can be long; its last words carry what the answer responds to
SPECIAL_TOKENS = 3  # [CLS] evidence [SEP] claim [SEP]
MIN_EVIDENCE_BUDGET = 48  # a long claim still leaves this many word pieces of evidence


def claim_text(claim: str, question: str | None = None) -> str:
    """The claim as the model reads it: a short answer ("Arthur's Magazine") means nothing without its question."""
    if not question or not question.strip():
        return claim
    tail = question.split()[-QUESTION_WORDS:]
    return f"{' '.join(tail)} || {claim}"


def evidence_sentences(sources: Sequence[str]) -> list[str]:
    return [s for text in sources for s in split_sentences(text)]


def relevance(claim: str, sentences: Sequence[str]) -> list[float]:
    """How much of the claim each sentence shares, each shared word weighted by its rarity among the sentences.

    Summed exactly (``math.fsum``): a set's order changes with the process's string hashing, and a plain sum in
    that order changed the last bit, so which of two equally relevant sentences the model read (and the claim's
    score, by up to 0.6 on held-out summaries) changed from one process to the next.
    """
    stems = [set(content_stems(s)) for s in sentences]
    frequency = Counter(w for ss in stems for w in ss)
    n = len(sentences)
    wanted = set(content_stems(claim))
    return [math.fsum(math.log(1 + n / frequency[w]) for w in wanted & ss) for ss in stems]


def select_sentences(claim: str, sentences: Sequence[str], sentence_tokens: Sequence[int], budget: int) -> list[int]:
    """Indices (in source order) of the sentences the model reads: all if they fit, else the most relevant that fit.

    ``sentence_tokens`` are word-piece counts; ``budget`` is what the pair leaves for evidence.
    """
    if sum(sentence_tokens) <= budget:
        return list(range(len(sentence_tokens)))
    scores = relevance(claim, sentences)
    order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    chosen: list[int] = []
    used = 0
    for index in order:
        cost = sentence_tokens[index]
        if used + cost <= budget:
            chosen.append(index)
            used += cost
        elif not chosen:  # the best sentence alone is too long: the tokenizer truncates it
            chosen.append(index)
            break
    return sorted(chosen)
