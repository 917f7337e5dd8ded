"""An answer split into claims (sentences), each keeping the citation markers it carries."""

from __future__ import annotations

import re

from guard.state import Claim
from guard.verify.text import content_stems, split_sentences

MARKER = re.compile(r"\[(\d+(?:\s*(?:,|-|–)\s*\d+)*)\]")
_MARKER_RUN = r"(?:\s*\[\d+(?:\s*(?:,|-|–)\s*\d+)*\])+"
# "free.[2][3] Next" -> "free [2][3]. Next": markers after the full stop belong to the sentence before it.
_TRAILING_MARKERS = re.compile(rf"([.!?])({_MARKER_RUN})")
_CODE_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_HEADING = re.compile(r"^\s*#{1,6}\s")  # structure, not a statement
_LINE_PREFIX = re.compile(r"^\s*(?:>\s*|[-*+•]\s+|\d{1,3}[.)]\s+)+")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_NOT_A_CLAIM = re.compile(
    r"^(sure|certainly|of course|absolutely|okay|ok|great question|thanks|thank you|you're welcome|i hope|hope this"
    r"|let me know|feel free|happy to help|i'm happy|glad to help|please let me|is there anything)\b", re.I)
# A greeting and at most three words more ("Hi there!", "Good morning, Anna!"); "Hi-Fi ..." or "Hello, the refund
# takes 5 days." still state something.
_GREETING = re.compile(r"^(hello|hi|hey|greetings|good (morning|afternoon|evening)|welcome( back)?)(?=[\s,!.]|$)"
                       r"(\W+\w+){0,3}\W*$", re.I)
MAX_MARKER_SPAN = 50  # "[1-9999]" is a typo, not 9,999 citations


def split_claims(answer: str) -> list[Claim]:
    """Sentences of the answer, markdown headings, markup and code left out, markers moved to ``Claim.markers``."""
    text = _CODE_FENCE.sub("\n", answer)
    text = "\n".join(_LINE_PREFIX.sub("", line) for line in text.splitlines() if not _HEADING.match(line))
    text = _TRAILING_MARKERS.sub(r"\2\1", _EMPHASIS.sub("", text))
    claims: list[Claim] = []
    for sentence in split_sentences(text):
        markers = [n for group in MARKER.findall(sentence) for n in _numbers(group)]
        stripped = re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", sentence)).strip()
        if stripped and any(ch.isalnum() for ch in stripped):
            claims.append(Claim(index=len(claims), text=stripped, markers=list(dict.fromkeys(markers))))
    return claims


def is_factual(claim: Claim) -> bool:
    """Whether a sentence states something checkable: not a question, a lead-in ("Here is what I found:"), a
    greeting or a pleasantry."""
    text = claim.text.strip()
    if text.endswith(("?", ":")) or _NOT_A_CLAIM.match(text) or _GREETING.match(text):
        return False
    return bool(content_stems(text))


def _numbers(group: str) -> list[int]:
    found: list[int] = []
    for piece in re.split(r"\s*,\s*", group):
        bounds = [int(b) for b in re.split(r"\s*[-–]\s*", piece)]
        if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= MAX_MARKER_SPAN:
            found += range(bounds[0], bounds[1] + 1)
        else:
            found += bounds
    return found
