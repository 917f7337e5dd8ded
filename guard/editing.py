"""How much a person changed an AI draft before sending it: the edit rate's raw material.

A draft counts as edited only when its words changed: re-wrapping lines, fixing
capitals or punctuation is polish, not a correction of what the model said.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import Levenshtein

_NOT_WORD = re.compile(r"[\W_]+")


def edit_distance(draft: str, final: str) -> float:
    """Normalised Levenshtein distance: 0.0 identical, 1.0 nothing in common."""
    return float(Levenshtein.normalized_distance(draft, final))


def is_edited(draft: str, final: str) -> bool:
    """True when ``final`` differs from ``draft`` beyond whitespace, letter case and punctuation."""
    return words(draft) != words(final)


def words(text: str) -> list[str]:
    """The words of ``text``, case-folded, without punctuation: what an edit must change to count."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NOT_WORD.sub(" ", folded).split()
