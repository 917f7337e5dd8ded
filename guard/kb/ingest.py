"""Deciding what an ingest changes: which files are new, changed, unchanged or gone, and their chunks.

A file is unchanged when its content hash and the chunking settings it was cut
with are both the same as when it was ingested; then nothing is re-read,
re-embedded or rewritten.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from guard.config import KnowledgeBaseConfig
from guard.errors import KnowledgeBaseError
from guard.kb.chunking import chunk_text
from guard.kb.documents import Document, discover, parse
from guard.kb.store import Chunk, FileRecord

_CHUNKER_VERSION = "1"  # bump when chunking changes, so re-adding re-chunks every file


@dataclass
class FileChange:
    path: Path
    content_hash: str
    size: int
    documents: list[Document]
    record: FileRecord | None  # None for a file new to the knowledge base


@dataclass
class IngestPlan:
    changed: list[FileChange] = field(default_factory=list)
    gone: list[FileRecord] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def chunking_signature(config: KnowledgeBaseConfig) -> str:
    return f"v{_CHUNKER_VERSION}:size={config.chunk_size}:overlap={config.chunk_overlap}"


def plan_ingest(paths: Iterable[str | Path], known: dict[str, FileRecord], signature: str) -> IngestPlan:
    """Read and parse what changed; raises ``KnowledgeBaseError`` listing every bad file, before anything changes."""
    found = discover(paths)
    plan = IngestPlan(skipped=[str(p) for p in found.skipped])
    errors: list[str] = []
    for path in found.files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            errors.append(f"{path}: cannot read ({exc.strerror})")
            continue
        digest = hashlib.sha256(data).hexdigest()
        record = known.get(str(path))
        if record is not None and record.content_hash == digest and record.chunking == signature:
            plan.unchanged.append(str(path))
            continue
        try:
            plan.changed.append(FileChange(path, digest, len(data), parse(path, data), record))
        except KnowledgeBaseError as exc:
            errors.append(str(exc))
    if errors:
        raise KnowledgeBaseError("nothing was changed; these files cannot be ingested:\n  " + "\n  ".join(errors))
    on_disk = {str(p) for p in found.files}
    plan.gone = [record for path, record in known.items()
                 if path not in on_disk and any(_within(path, folder) for folder in found.folders)]
    return plan


def plan_removal(paths: Iterable[str | Path], known: dict[str, FileRecord]) -> tuple[list[FileRecord], list[str]]:
    """The records under each path (file or folder, on disk or not), and the paths that match none."""
    gone: dict[str, FileRecord] = {}
    not_found: list[str] = []
    for given in paths:
        target = Path(given).expanduser().resolve()
        matched = {p: r for p, r in known.items() if _within(p, target)}
        if not matched:
            not_found.append(str(given))
        gone.update(matched)
    return list(gone.values()), not_found


def build_chunks(changed: list[FileChange], known: dict[str, FileRecord],
                 config: KnowledgeBaseConfig) -> tuple[list[str], list[Chunk]]:
    """Each changed file's document key, and every new chunk."""
    keys = _document_keys(changed, known)
    chunks: list[Chunk] = []
    for number, change in enumerate(changed):
        for doc in change.documents:
            prefix = keys[number] if doc.part is None else f"{keys[number]}:{doc.part}"
            pieces = chunk_text(doc.text, size=config.chunk_size, overlap=config.chunk_overlap, markdown=doc.markdown)
            for n, piece in enumerate(pieces):
                chunks.append(Chunk(id=f"{prefix}#c{n}", title=doc.title, heading=piece.heading, text=piece.text,
                                    path=str(change.path), start=doc.offset + piece.start,
                                    end=doc.offset + piece.end, metadata=doc.metadata))
    return keys, chunks


def embedding_text(chunk: Chunk) -> str:
    """What is embedded: the chunk under its title and headings, which carry the topic its sentences leave implicit."""
    return chunk.section + "\n" + chunk.text


def _document_keys(changed: list[FileChange], known: dict[str, FileRecord]) -> list[str]:
    """A changed file keeps its key; a new one gets the shortest path suffix no other file has."""
    taken = {record.doc_key for record in known.values()}
    keys: list[str] = []
    for change in changed:
        if change.record is not None:
            keys.append(change.record.doc_key)
            continue
        parts = change.path.relative_to(change.path.anchor).parts
        key = next(("/".join(parts[-n:]) for n in range(1, len(parts) + 1) if "/".join(parts[-n:]) not in taken),
                   str(change.path))
        taken.add(key)
        keys.append(key)
    return keys


def _within(path: str, folder: Path) -> bool:
    candidate = Path(path)
    return candidate == folder or folder in candidate.parents
