"""Turn a review item's draft and sources into pieces a template can show safely.

A reviewer must see at a glance which sentences guard could not support and
what each citation points at. The draft is cut into plain text, highlighted
unsupported sentences (with their support score) and citation markers linked to
their source; each cited source shows the span the citing sentence relies on.
Everything stays plain data: the template escapes every piece, so a draft can
never inject markup into the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MARKER = re.compile(r"\[(\d{1,3})\]")
CITED_MARKER = re.compile(r"\s*\[\d{1,3}\]")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass
class DraftPiece:
    """Plain text, or a citation marker when ``marker`` is set (1-based source number)."""

    text: str
    marker: int | None = None


@dataclass
class Segment:
    """A run of the draft; ``score`` is set when the run is an unsupported sentence."""

    pieces: list[DraftPiece]
    score: float | None = None

    @property
    def unsupported(self) -> bool:
        return self.score is not None


@dataclass
class Passage:
    """One numbered source, split around the span the draft cites (``cited`` is empty when nothing cites it)."""

    number: int
    id: str
    title: str | None
    before: str
    cited: str
    after: str
    citing: list[str] = field(default_factory=list)


def draft_segments(draft: str, unsupported: list[dict[str, Any]]) -> list[Segment]:
    """The draft as plain and highlighted runs; an unsupported claim not found verbatim is left unmarked."""
    spans: list[tuple[int, int, float]] = []
    for claim in unsupported:
        text = str(claim.get("text") or "").strip()
        start = draft.find(text) if text else -1
        if start < 0 or any(s < start + len(text) and start < e for s, e, _ in spans):
            continue
        spans.append((start, start + len(text), float(claim.get("score") or 0.0)))
    segments: list[Segment] = []
    cursor = 0
    for start, end, score in sorted(spans):
        if start > cursor:
            segments.append(Segment(_pieces(draft[cursor:start])))
        segments.append(Segment(_pieces(draft[start:end]), score=score))
        cursor = end
    if cursor < len(draft):
        segments.append(Segment(_pieces(draft[cursor:])))
    return segments


def _pieces(text: str) -> list[DraftPiece]:
    pieces: list[DraftPiece] = []
    cursor = 0
    for match in MARKER.finditer(text):
        if match.start() > cursor:
            pieces.append(DraftPiece(text[cursor:match.start()]))
        pieces.append(DraftPiece(match.group(0), marker=int(match.group(1))))
        cursor = match.end()
    if cursor < len(text):
        pieces.append(DraftPiece(text[cursor:]))
    return pieces


def source_passages(draft: str, sources: list[Any], citations: list[dict[str, Any]]) -> list[Passage]:
    """Each source with the span its citing sentences rely on.

    The span is the citation's own ``span`` when the verifier gave one, else the
    source sentence sharing the most words with the sentences that cite it.
    """
    sentences = [s.strip() for s in SENTENCE_END.split(draft) if s.strip()]
    passages = []
    for number, source in enumerate(sources, 1):
        source_id, title, text = _source_fields(source, number)
        citing = [CITED_MARKER.sub("", s).strip() for s in sentences if f"[{number}]" in s]
        given = next((str(c["span"]) for c in citations
                      if c.get("marker") == f"[{number}]" and c.get("span")), None)
        span = given if given and given in text else _best_sentence(text, citing)
        start = text.find(span) if span else -1
        if start < 0:
            passages.append(Passage(number, source_id, title, text, "", "", citing))
        else:
            passages.append(Passage(number, source_id, title, text[:start], span, text[start + len(span):], citing))
    return passages


def _source_fields(source: Any, number: int) -> tuple[str, str | None, str]:
    if isinstance(source, dict):
        return str(source.get("id") or f"source-{number}"), source.get("title"), str(source.get("text") or "")
    return str(source), None, ""  # older items kept only the source id


def _best_sentence(text: str, citing: list[str]) -> str:
    wanted = {w.lower() for s in citing for w in WORD.findall(s)}
    if not wanted or not text:
        return ""
    candidates = [s.strip() for s in SENTENCE_END.split(text) if s.strip()]
    best = max(candidates, key=lambda s: len(wanted & {w.lower() for w in WORD.findall(s)}), default="")
    return best if wanted & {w.lower() for w in WORD.findall(best)} else ""
