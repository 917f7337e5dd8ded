"""Content hashes that say whether two runs saw the same configuration and data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from guard.config import GuardConfig

# Where records go and how logs look change nothing about the answers.
_NOT_BEHAVIOUR = {"telemetry", "logging"}


def config_hash(config: GuardConfig, extra: dict[str, Any] | None = None) -> str:
    """Hash of every setting that can change a verdict, plus the suite's own scoring settings."""
    data = config.model_dump(mode="json", exclude=_NOT_BEHAVIOUR)
    return _digest(json.dumps({"guard": data, "suite": extra or {}}, sort_keys=True).encode())


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def folder_hash(folder: Path) -> str:
    """Hash of every file's relative path and bytes, in a stable order."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(file.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(file_hash(file).encode() + b"\0")
    return "sha256:" + digest.hexdigest()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
