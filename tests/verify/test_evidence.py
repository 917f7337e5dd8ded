"""Which source sentences the support cross-encoder reads (``guard.verify.evidence``)."""

from __future__ import annotations

import os
import subprocess
import sys

from guard.verify.evidence import relevance, select_sentences

CLAIM = "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda"
SENTENCES = ["alpha beta gamma delta epsilon zeta eta theta iota kappa lambda", "alpha beta gamma", "alpha delta",
             "alpha", "beta gamma zeta", "kappa lambda eta", "theta", "iota mu nu"]


def test_the_sentences_sharing_the_rarest_words_are_read_in_source_order():
    tokens = [12, 4, 3, 2, 4, 4, 2, 4]

    assert select_sentences(CLAIM, SENTENCES, tokens, budget=16) == [0, 5]


def test_relevance_is_the_same_in_every_process_whatever_its_string_hashing():
    script = f"from guard.verify.evidence import relevance; print(repr(relevance({CLAIM!r}, {SENTENCES!r})))"
    seen = {subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": str(seed)},
                           capture_output=True, text=True, check=True).stdout for seed in range(4)}

    assert seen == {repr(relevance(CLAIM, SENTENCES)) + "\n"}
