"""Grounding: find the app's own passages for the question and put them in the prompt as numbered sources.

The configured knowledge base (a folder at ``knowledge_base.path``, or a named
one in PostgreSQL) is opened once per process, on first use, and shared by
every request; it is opened and searched on a thread, never on the event loop.
The question is the last user message.
Hybrid retrieval (``guard.kb.retrieval``) returns up to ``grounding.top_k``
chunks whose relevance reaches ``grounding.min_score``; they become
``state.sources`` and are listed as ``[1]``..``[k]`` in a system message that
asks the model to cite them.

The conversation's tool results (``guard.tool_results``) are sources too, listed after the chunks: the
prompt numbers them so the model can cite them, without repeating their text (it is in the conversation).
When the request offers tools, the instruction asks the model to call them for what the sources lack
rather than to decline, and it is never refused before the model: the tool may bring the source.

Signal: ``retrieval`` is the relevance of the best source kept, in [0, 1]:
its dense cosine to the question, or the share of the question's identifiers
it quotes verbatim when that is higher (an exact error code is as strong as
retrieval evidence gets). With no source above the floor it is 0.0 (left out when tool results are the sources:
an unrelated knowledge base says nothing against a tool-backed answer), and under
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
from guard.messages import last_user_text, offers_tools
from guard.state import RequestState, Source
from guard.threads import run_model
from guard.tool_results import tool_sources

REFUSAL = "I don't have a source for that."
INSTRUCTION = (
    "Answer the user's question using only the numbered sources below. After each sentence that uses a source, "
    "cite it with its number in square brackets, like [1] or [2][3]. If the sources do not contain the answer, "
    "say that you don't know instead of guessing."
)
WITH_TOOLS = (
    "Answer the user's question using the numbered sources below and the results of the tools you can call. "
    "After each sentence that uses a source or a tool result, cite it with its number in square brackets, like "
    "[1] or [2][3]. When the sources do not contain the answer, call a tool that can supply it rather than "
    "declining; only if neither gives the answer, say that you don't know instead of guessing."
)

WARM_UP_QUERY = "How long does a refund take?"  # any text: the search only has to run once

_shared: dict[tuple[str, str], KnowledgeBase] = {}
_shared_lock = threading.Lock()


async def knowledge_base_sources(config: GuardConfig, question: str) -> list[Source]:
    """The passages of ``config``'s knowledge base for ``question``, as grounding lists them (on or off): what
    ``POST /v1/check`` checks an answer against when it names a knowledge base. ``Skip`` says why there are none."""
    return [_source(hit) for hit in await GroundingLayer(config)._search(question)]


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
        tools = tool_sources(state.messages)
        try:
            hits = await self._search(last_user_text(state.messages))
        except Skip:
            if not tools:
                raise
            hits = []
        if hits or not tools:
            state.signals["retrieval"] = round(max((hit.relevance for hit in hits), default=0.0), 4)
        state.sources = [_source(hit) for hit in hits] + tools
        if state.sources:
            state.prompt = _grounded_prompt(state.messages, state.sources, offers_tools(state.params))
        elif settings.refuse_without_source and not offers_tools(state.params):  # a tool may bring the source
            state.refusal = REFUSAL

    async def _search(self, question: str | None) -> list[Hit]:
        if not question:
            raise Skip("no user question to ground")
        if not _may_exist(self.config.knowledge_base):  # the reason reaches the app: no path in it
            raise Skip("no knowledge base at knowledge_base.path (missing or empty)")
        return await run_model(self._retrieve, question)  # off the event loop: embedding and search

    def warm_up(self) -> None:
        """Open the knowledge base and run one search now: its index and the embedder otherwise load on first use."""
        if not self.config.grounding.enabled:
            raise Skip("grounding disabled")
        if not _may_exist(self.config.knowledge_base):  # as in run(): a missing folder is not created
            raise Skip(f"no knowledge base at {Path(self.config.knowledge_base.path).expanduser()}")
        self._retrieve(WARM_UP_QUERY)

    def _retrieve(self, question: str) -> list[Hit]:
        kb = shared_knowledge_base(self.config.knowledge_base)
        if kb.empty:
            raise Skip("the knowledge base has no documents")
        return kb.search(question, k=self.config.grounding.top_k, min_relevance=self.config.grounding.min_score)


def _may_exist(config: KnowledgeBaseConfig) -> bool:
    """False when a local knowledge base's folder is missing or empty (a cheap look, so nothing is created);
    a PostgreSQL one is looked for on the search's thread."""
    if config.backend == "postgres":
        return True
    folder = Path(config.path).expanduser()
    return folder.is_dir() and any(folder.iterdir())


def _listed(number: int, source: Source) -> str:
    if "tool" in source.metadata:
        call = source.metadata.get("tool_call_id")
        return f"[{number}] the result of the tool {source.metadata['tool']}" + (f" (call {call})" if call else "") \
            + ", above in the conversation"
    return f"[{number}] {source.metadata['section']}\n{source.text}"


def _source(hit: Hit) -> Source:
    chunk = hit.chunk
    return Source(
        id=chunk.id, title=chunk.title, text=chunk.text, score=round(hit.relevance, 4),
        metadata={"path": chunk.path, "section": chunk.section, "heading": chunk.heading, "start": chunk.start,
                  "end": chunk.end, "dense": round(hit.dense, 4), "bm25": hit.lexical, "fused": round(hit.score, 6),
                  "document": chunk.metadata},
    )


def _grounded_prompt(messages: list[dict[str, Any]], sources: list[Source], tools: bool) -> list[dict[str, Any]]:
    """The messages with the sources in the system message (merged into the app's own, as chat templates want one)."""
    listing = "\n\n".join(_listed(n, s) for n, s in enumerate(sources, 1))
    block = f"{WITH_TOOLS if tools else INSTRUCTION}\n\nSources:\n\n{listing}"
    first = messages[0] if messages else None
    if first is not None and first.get("role") == "system" and isinstance(first.get("content"), str):
        return [{**first, "content": f"{first['content']}\n\n{block}"}, *messages[1:]]
    return [{"role": "system", "content": block}, *messages]
