"""The knowledge base answers are grounded in: documents in, chunks out, hybrid dense + full-text search.

Kept locally (faiss + SQLite, ``knowledge_base.backend: local``) or in PostgreSQL with pgvector
(``postgres``, shared by every worker); the same API and the same hits either way.

    from guard.kb import KnowledgeBase
    kb = KnowledgeBase.open(config.knowledge_base)
    kb.add(["docs/"])                      # Markdown, text, HTML, JSON Lines; folders recursively
    for hit in kb.search("refund window", k=4):
        hit.chunk.id, hit.relevance, hit.chunk.text
"""

from guard.errors import KnowledgeBaseError
from guard.kb.knowledge_base import IngestReport, KnowledgeBase, Stats, location
from guard.kb.retrieval import Hit
from guard.kb.store import Chunk

__all__ = ["Chunk", "Hit", "IngestReport", "KnowledgeBase", "KnowledgeBaseError", "Stats", "location"]
