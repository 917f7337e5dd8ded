"""What one request carries through the pipeline; layers read it and add to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from guard.config import GuardConfig
from guard.metadata import Citation, LayerReport, UnsupportedClaim


@dataclass
class Source:
    """A passage the answer may rely on: a retrieved chunk or a source handed to ``Guard.check``."""

    id: str
    text: str
    title: str | None = None
    score: float | None = None  # retrieval relevance, when retrieved
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Claim:
    """One sentence of the answer, with the source numbers (1-based) it cites."""

    index: int
    text: str
    markers: list[int] = field(default_factory=list)
    support: float | None = None  # probability the claim is supported by the sources


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    verification_cost_usd: float = 0.0
    model_ms: float = 0.0

    def add(self, prompt_tokens: int, completion_tokens: int, cost_usd: float | None) -> None:
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.cost_usd = None if cost_usd is None or self.cost_usd is None else self.cost_usd + cost_usd


@dataclass
class RequestState:
    request_id: str
    config: GuardConfig
    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)
    prompt: list[dict[str, Any]] | None = None  # messages as sent to the model, after grounding
    samples: list[str] = field(default_factory=list)  # every completion drawn; samples[0] is the primary
    answer: str = ""
    answer_index: int = 0
    answer_delivered: bool = False  # already streamed to the user: layers rate it but must not replace it
    refusal: str | None = None  # set before the model call to answer without calling it
    claims: list[Claim] = field(default_factory=list)
    signals: dict[str, float] = field(default_factory=dict)
    citations: list[Citation] = field(default_factory=list)
    unsupported: list[UnsupportedClaim] = field(default_factory=list)
    layers: dict[str, LayerReport] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    served_model: str | None = None  # the model that answered (a fallback, maybe)

    @property
    def prompt_messages(self) -> list[dict[str, Any]]:
        return self.prompt if self.prompt is not None else self.messages
