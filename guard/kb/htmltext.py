"""HTML to Markdown-shaped text, so web pages chunk by their headings like Markdown files do.

Only what a reader sees in the page body is kept: scripts, styles, navigation
and footers are dropped; headings become ``#`` lines; blocks become paragraphs.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIPPED = {"script", "style", "noscript", "template", "svg", "nav", "footer", "head", "iframe", "button"}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = {"p", "div", "section", "article", "main", "header", "aside", "blockquote", "pre", "table", "tr",
           "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "details", "summary", "hr", "br", "li"}


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip_depth = 0
        self._in_title = False
        self._pre_depth = 0
        self._heading: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _SKIPPED:
            self._skip_depth += 1
        if self._skip_depth:
            return
        if tag == "pre":
            self._pre_depth += 1
        if tag in _HEADINGS:
            self._heading = _HEADINGS[tag]
            self.parts.append("\n\n" + "#" * self._heading + " ")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCKS:
            self.parts.append("\n\n" if tag not in {"br", "tr", "dt", "dd"} else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        if self._skip_depth:
            return
        if tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
        if tag in _HEADINGS:
            self._heading = None
            self.parts.append("\n\n")
        elif tag in _BLOCKS and tag != "li":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        if self._skip_depth:
            return
        if self._pre_depth:
            self.parts.append(data)
        else:
            words = re.sub(r"\s+", " ", data)
            at_line_start = not self.parts or self.parts[-1].endswith(("\n", "# ", "- "))
            self.parts.append(words.lstrip() if at_line_start else words)


def html_to_markdown(html: str) -> tuple[str | None, str]:
    """The page's ``<title>`` (None when absent) and its readable text with ``#`` headings."""
    extractor = _Extractor()
    extractor.feed(html)
    extractor.close()
    text = "".join(extractor.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    title = re.sub(r"\s+", " ", "".join(extractor.title)).strip() or None
    return title, text
