"""Turning source files into documents: Markdown, plain text, HTML and JSON Lines.

A document's ``text`` is what chunk offsets index: the file itself for plain
text, the body after any front matter for Markdown (``offset`` says where it
starts in the file), the extracted text for HTML, the ``text`` field of each
JSON Lines record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from guard.errors import KnowledgeBaseError
from guard.kb.htmltext import html_to_markdown

FORMATS = {
    ".md": "markdown", ".markdown": "markdown", ".mdx": "markdown",
    ".txt": "text", ".text": "text",
    ".html": "html", ".htm": "html",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
}

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.DOTALL)
_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


@dataclass(frozen=True)
class Document:
    title: str
    text: str
    markdown: bool  # headings are Markdown headings
    part: str | None = None  # the record's id inside a JSON Lines file
    offset: int = 0  # where ``text`` starts in the decoded file
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Discovery:
    files: list[Path]  # supported files, resolved, sorted, deduplicated
    folders: list[Path]  # folders walked: files under them no longer on disk are gone
    skipped: list[Path]  # files in those folders of a type guard does not read


def discover(paths: Iterable[str | Path]) -> Discovery:
    """Expand files and folders (recursively, hidden entries left out) into the files to ingest."""
    files: set[Path] = set()
    folders: list[Path] = []
    skipped: list[Path] = []
    for given in paths:
        path = Path(given).expanduser().resolve()
        if path.is_dir():
            folders.append(path)
            for entry in sorted(path.rglob("*")):
                if not entry.is_file() or any(part.startswith(".") for part in entry.relative_to(path).parts):
                    continue
                if entry.suffix.lower() in FORMATS:
                    files.add(entry)
                else:
                    skipped.append(entry)
        elif path.is_file():
            if path.suffix.lower() not in FORMATS:
                raise KnowledgeBaseError(f"{given}: unsupported file type {path.suffix or '(none)'!r}; "
                                         f"guard reads {', '.join(sorted(FORMATS))}")
            files.add(path)
        else:
            raise KnowledgeBaseError(f"{given}: no such file or folder")
    return Discovery(files=sorted(files), folders=folders, skipped=skipped)


def parse(path: Path, data: bytes) -> list[Document]:
    """The documents in one file's bytes; raises ``KnowledgeBaseError`` naming the file on bad content."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeBaseError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    fmt = FORMATS[path.suffix.lower()]
    if fmt == "jsonl":
        return _jsonl(path, text)
    if fmt == "html":
        page_title, body = html_to_markdown(text)
        return [Document(title=page_title or _first_h1(body) or _title_from_name(path), text=body, markdown=True)]
    if fmt == "markdown":
        return [_markdown(path, text)]
    return [Document(title=_title_from_name(path), text=text, markdown=False)]


def _markdown(path: Path, text: str) -> Document:
    meta: dict[str, Any] = {}
    offset = 0
    front = _FRONT_MATTER.match(text)
    if front:
        try:
            loaded = yaml.safe_load(front.group(1))
        except yaml.YAMLError as exc:
            raise KnowledgeBaseError(f"{path}: front matter is not valid YAML: {exc}") from None
        meta = loaded if isinstance(loaded, dict) else {}
        offset = front.end()
    body = text[offset:]
    title = meta.pop("title", None) or _first_h1(body) or _title_from_name(path)
    return Document(title=str(title), text=body, markdown=True, offset=offset, metadata=_plain(meta))


def _jsonl(path: Path, text: str) -> list[Document]:
    docs: list[Document] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KnowledgeBaseError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise KnowledgeBaseError(f"{path}:{number}: each line must be an object with a string 'text'")
        part = str(record.pop("id", number))
        if part in seen:
            raise KnowledgeBaseError(f"{path}:{number}: duplicate id {part!r}")
        seen.add(part)
        body = record.pop("text")
        title = record.pop("title", None)
        extra = record.pop("metadata", {})
        meta = {**(extra if isinstance(extra, dict) else {"metadata": extra}), **record}
        docs.append(Document(title=str(title or f"{_title_from_name(path)} {part}"), text=body, markdown=False,
                             part=part, metadata=_plain(meta)))
    return docs


def _first_h1(text: str) -> str | None:
    match = _H1.search(text)
    return match.group(1).strip() if match else None


def _title_from_name(path: Path) -> str:
    words = re.sub(r"[_\-]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


def _plain(meta: dict[str, Any]) -> dict[str, Any]:
    """Metadata as JSON-safe values (YAML front matter may hold dates)."""
    return json.loads(json.dumps(meta, default=str))
