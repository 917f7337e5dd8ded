"""The knowledge base a generation suite's answers are grounded in, kept apart from the app's own.

Its folder is named by the documents' and embedding model's hash, so an
unchanged suite reuses it and an edited document set gets a fresh one; the
ingest itself skips files whose content has not changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from rich.console import Console

from guard.config import GuardConfig
from guard.evals.fingerprint import folder_hash
from guard.kb import KnowledgeBase

EVAL_KB_ROOT = Path(".guard") / "eval-kb"


def eval_knowledge_base(config: GuardConfig, documents: Path, console: Console) -> GuardConfig:
    """``config`` grounded in ``documents``: ingested (or found up to date) in a folder under .guard/eval-kb."""
    key = hashlib.sha256(f"{folder_hash(documents)}|{config.knowledge_base.embedding_model}".encode()).hexdigest()
    kb_config = config.knowledge_base.model_copy(update={  # local even with backend postgres: never the shared one
        "backend": "local", "path": EVAL_KB_ROOT / f"{documents.name}-{key[:12]}"})
    kb = KnowledgeBase.open(kb_config)
    try:
        report = kb.add([documents])
    finally:
        kb.close()
    if report.chunks_added:
        console.print(f"knowledge base for evals: {kb_config.path} ({report.chunks_added} chunks from {documents})")
    return config.model_copy(update={"knowledge_base": kb_config})
