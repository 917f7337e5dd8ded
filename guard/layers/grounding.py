"""Grounding: find the app's own passages for the question and put them in the prompt as numbered sources.

The knowledge base at ``knowledge_base.path`` is opened once per process, on
first use, and shared by every request. The question is the last user message.
Hybrid retrieval (``guard.kb.retrieval``) returns up to ``grounding.top_k``
chunks whose relevance reaches ``grounding.min_score``; they become
``state.sources`` and are listed as ``[1]``..``[k]`` in a system message that
asks the model to cite them.

Signal: ``retrieval`` is the relevance of the best source kept, in [0, 1]:
its dense cosine to the question, or the share of the question's identifiers
it quotes verbatim when that is higher (an exact error code is as strong as
retrieval evidence gets). With no source above the floor it is 0.0, and under
``grounding.refuse_without_source`` (on for high and critical risk) the answer
becomes an honest refusal instead of a model's improvisation.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from guard.config import GuardConfig, KnowledgeBaseConfig
from guard.kb import Hit, KnowledgeBase
from guard.layers.base import Skip
from guard.messages import last_user_text
from guard.state import RequestState, Source
from guard.threads import run_model

REFUSAL = "I don't have a source for that."
INSTRUCTION = (
    "Answer the user's question using only the numbered sources below. After each sentence that uses a source, "
    "cite it with its number in square brackets, like [1] or [2][3]. If the sources do not contain the answer, "
    "say that you don't know instead of guessing."
)

WARM_UP_QUERY = "How long does a refund take?"  # any text: the search only has to run once

_shared: dict[tuple[str, str], KnowledgeBase] = {}
_shared_lock = threading.Lock()


def shared_knowledge_base(config: KnowledgeBaseConfig) -> KnowledgeBase:
    """The process-wide open knowledge base for these settings (index loaded once)."""
    key = (str(Path(config.path).expanduser().resolve()), config.model_dump_json())
    with _shared_lock:
        if key not in _shared:
            _shared[key] = KnowledgeBase.open(config)
        return _shared[key]


class GroundingLayer:
    name = "grounding"
    phase = "before_model"

    def __init__(self, config: GuardConfig):
        self.config = config

    async def run(self, state: RequestState) -> None:
        settings = self.config.grounding
        if not settings.enabled:
            raise Skip("grounding disabled")
        question = last_user_text(state.messages)
        if not question:
            raise Skip("no user question to ground")
        folder = Path(self.config.knowledge_base.path).expanduser()
        if not folder.is_dir() or not any(folder.iterdir()):  # the reason reaches the app: no path in it
            raise Skip("no knowledge base at knowledge_base.path (missing or empty)")
        hits = await run_model(self._retrieve, question)  # off the event loop: embedding and search
        state.sources = [_source(hit) for hit in hits]
        state.signals["retrieval"] = round(max((hit.relevance for hit in hits), default=0.0), 4)
        if hits:
            state.prompt = _grounded_prompt(state.messages, state.sources)
        elif settings.refuse_without_source:
            state.refusal = REFUSAL

    def warm_up(self) -> None:
        """Open the knowledge base and run one search now: its index and the embedder otherwise load on first use."""
        if not self.config.grounding.enabled:
            raise Skip("grounding disabled")
        folder = Path(self.config.knowledge_base.path).expanduser()
        if not folder.is_dir() or not any(folder.iterdir()):  # as in run(): a missing folder is not created
            raise Skip(f"no knowledge base at {folder}")
        self._retrieve(WARM_UP_QUERY)

    def _retrieve(self, question: str) -> list[Hit]:
        kb = shared_knowledge_base(self.config.knowledge_base)
        if kb.empty:
            raise Skip("the knowledge base has no documents")
        return kb.search(question, k=self.config.grounding.top_k, min_relevance=self.config.grounding.min_score)


def _source(hit: Hit) -> Source:
    chunk = hit.chunk
    return Source(
        id=chunk.id, title=chunk.title, text=chunk.text, score=round(hit.relevance, 4),
        metadata={"path": chunk.path, "section": chunk.section, "heading": chunk.heading, "start": chunk.start,
                  "end": chunk.end, "dense": round(hit.dense, 4), "bm25": hit.lexical, "fused": round(hit.score, 6),
                  "document": chunk.metadata},
    )


def _grounded_prompt(messages: list[dict[str, Any]], sources: list[Source]) -> list[dict[str, Any]]:
    """The messages with the sources in the system message (merged into the app's own, as chat templates want one)."""
    listing = "\n\n".join(f"[{n}] {s.metadata['section']}\n{s.text}" for n, s in enumerate(sources, 1))
    block = f"{INSTRUCTION}\n\nSources:\n\n{listing}"
    first = messages[0] if messages else None
    if first is not None and first.get("role") == "system" and isinstance(first.get("content"), str):
        return [{**first, "content": f"{first['content']}\n\n{block}"}, *messages[1:]]
    return [{"role": "system", "content": block}, *messages]
