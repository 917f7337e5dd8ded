"""Splitting a document into chunks that follow its headings and sentence boundaries.

A chunk never spans two sections. Inside a section, whole sentences (list items,
table rows, paragraphs) are packed up to ``size`` characters, and the next chunk
starts with the last sentences of the previous one, up to ``overlap``
characters, so a fact cut by a boundary is whole in one of them. Only a
sentence longer than ``size`` is cut, at a space when there is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADING_SEPARATOR = " > "

_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_NOT_HEADING_TEXT = re.compile(r"[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|>|\||$)")
_BOUNDARY = re.compile(
    r"(?P<para>\n[ \t]*\n\s*)"
    r"|(?P<line>\n(?=[ \t]*(?:(?:[-*+]|\d+[.)])[ \t]|\|)))"
    r"|(?P<sentence>(?<=[.!?])[\"')\]]*[ \t\n]+(?=[\"'(\[]?[A-Z0-9]))"
)
_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "no", "fig", "approx", "incl", "st", "jr", "sr"}


@dataclass(frozen=True)
class ChunkSpan:
    """A chunk of a document: ``text == document_text[start:end]``."""

    text: str
    heading: str  # heading path, e.g. "Refund policy > Eligibility"; "" before the first heading
    start: int
    end: int


def section_label(title: str, heading: str) -> str:
    """Title and heading path without repeats: the heading path usually starts with the title."""
    parts: list[str] = []
    for part in [title, *heading.split(HEADING_SEPARATOR)]:
        if part and part not in parts:
            parts.append(part)
    return HEADING_SEPARATOR.join(parts)


def chunk_text(text: str, *, size: int, overlap: int, markdown: bool) -> list[ChunkSpan]:
    sections = _sections(text) if markdown else [((), 0, len(text))]
    pieces: list[ChunkSpan] = []
    for path, start, end in sections:
        units = [span for unit in _units(text, start, end) for span in _split_long(text, *unit, size)]
        heading = HEADING_SEPARATOR.join(path)
        pieces += [ChunkSpan(text[s:e], heading, s, e) for s, e in _pack(units, size, overlap)]
    return pieces


def _sections(text: str) -> list[tuple[tuple[str, ...], int, int]]:
    """(heading path, body start, body end) for each run of text between headings, fenced code kept whole."""
    sections: list[tuple[tuple[str, ...], int, int]] = []
    path: list[tuple[int, str]] = []
    body_start = pos = 0
    fence: str | None = None
    previous: tuple[int, str] | None = None  # a line that an underline below would make a heading
    for line in text.splitlines(keepends=True):
        start, pos = pos, pos + len(line)
        content = line.rstrip("\r\n")
        if fence is not None:
            if re.match(r" {0,3}" + re.escape(fence[0]) + "{%d,}[ \t]*$" % len(fence), content):
                fence = None
            continue
        opened = _FENCE.match(content)
        if opened:
            fence, previous = opened.group(1), None
            continue
        atx = _ATX.match(content)
        if atx:
            level, title, heading_start = len(atx.group(1)), (atx.group(2) or "").strip(), start
        elif previous is not None and _SETEXT.match(content):
            level, title, heading_start = (1 if "=" in content else 2), previous[1].strip(), previous[0]
        else:
            previous = None if _NOT_HEADING_TEXT.match(content) else (start, content)
            continue
        sections.append((tuple(t for _, t in path), body_start, heading_start))
        path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, title)]
        body_start, previous = pos, None
    sections.append((tuple(t for _, t in path), body_start, len(text)))
    return [s for s in sections if text[s[1]:s[2]].strip()]


def _units(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the sentences, list items and paragraphs in ``text[start:end]``, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for boundary in _BOUNDARY.finditer(text, start, end):
        cut = boundary.start()
        if boundary.group("sentence") is not None:
            if _ends_with_abbreviation(text, start, cut):
                continue
            cut += len(boundary.group()) - len(boundary.group().lstrip("\"')]"))
        _append_trimmed(spans, text, cursor, cut)
        cursor = boundary.end()
    _append_trimmed(spans, text, cursor, end)
    return spans


def _ends_with_abbreviation(text: str, start: int, cut: int) -> bool:
    words = text[max(start, cut - 12):cut].split()
    word = words[-1].rstrip(".!?").lower() if words else ""
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _append_trimmed(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def _split_long(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """A span longer than ``size`` cut at its last space before each limit (hard cut when there is none)."""
    spans: list[tuple[int, int]] = []
    while end - start > size:
        window = text[start + size // 2:start + size]
        space = max(window.rfind(" "), window.rfind("\n"))
        cut = start + size // 2 + space if space > 0 else start + size
        _append_trimmed(spans, text, start, cut)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    _append_trimmed(spans, text, start, end)
    return spans


def _pack(units: list[tuple[int, int]], size: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy packing of consecutive units into chunks of at most ``size`` characters, with overlap."""
    chunks: list[tuple[int, int]] = []
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and units[last + 1][1] - units[first][0] <= size:
            last += 1
        chunks.append((units[first][0], units[last][1]))
        if last + 1 == len(units):
            break
        # Step back over trailing units that fit in the overlap, and still leave room for the next unit.
        nxt = last + 1
        while (nxt - 1 > first and units[last][1] - units[nxt - 1][0] <= overlap
               and units[last + 1][1] - units[nxt - 1][0] <= size):
            nxt -= 1
        first = nxt
    return chunks
