"""What one request carries through the pipeline; layers read it and add to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from guard.attribution import current_key_name
from guard.calibration import SupportCalibration
from guard.config import GuardConfig
from guard.metadata import Citation, ExperimentArm, LayerReport, UncitedSentence, UnsupportedClaim


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
    """The answer's tokens (what the OpenAI ``usage`` reports) apart from guard's own extra samples."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # the answer's own model call(s); None once any price is unknown
    samples_prompt_tokens: int = 0  # extra self-consistency samples: guard's own usage, not the answer's
    samples_completion_tokens: int = 0
    samples_cost_usd: float | None = 0.0  # kept apart for the cost report
    verification_cost_usd: float = 0.0
    model_ms: float = 0.0

    def add(self, prompt_tokens: int, completion_tokens: int, cost_usd: float | None, *, samples: bool = False) -> None:
        if samples:
            self.samples_prompt_tokens += prompt_tokens
            self.samples_completion_tokens += completion_tokens
            self.samples_cost_usd = _plus(self.samples_cost_usd, cost_usd)
        else:
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            self.cost_usd = _plus(self.cost_usd, cost_usd)

    @property
    def model_cost_usd(self) -> float | None:
        """What the model calls cost in all: the answer plus its extra samples."""
        return _plus(self.cost_usd, self.samples_cost_usd)


def _plus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


@dataclass
class RequestState:
    request_id: str
    config: GuardConfig
    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)
    prompt: list[dict[str, Any]] | None = None  # messages as sent to the model, after grounding
    samples: list[str] = field(default_factory=list)  # the answer the client gets first, then extra samples
    answer: str = ""
    answer_index: int = 0
    answer_delivered: bool = False  # already streamed to the user: layers rate it but must not replace it
    refusal: str | None = None  # set before the model call to answer without calling it
    claims: list[Claim] = field(default_factory=list)
    signals: dict[str, float] = field(default_factory=dict)
    citations: list[Citation] = field(default_factory=list)
    unsupported: list[UnsupportedClaim] = field(default_factory=list)
    uncited: list[UncitedSentence] = field(default_factory=list)  # factual sentences without a marker (citations.required)
    sample_logprobs: list[list[tuple[str, float]] | None] = field(default_factory=list)  # per sample, when given
    calibration: SupportCalibration | None = None  # the support calibration in force when the request began
    token_logprobs_reason: str | None = None  # why there are none
    logprobs_requested: bool = False  # guard asked for them (the client did not): stripped from the client's response
    layers: dict[str, LayerReport] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    served_model: str | None = None  # the model that answered (a fallback, maybe)
    ttft_ms: float | None = None  # streams: time from the request to the first token sent
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    tool_calls_only: bool = False  # the reply only calls tools: nothing to verify, hold or queue
    key_name: str | None = field(default_factory=current_key_name)  # the API key it came in with, by name
    arm: ExperimentArm | None = None  # the experiment variant serving this request
    user: str | None = None  # the app's user, when it said

    @property
    def answer_locked(self) -> bool:
        """The answer cannot be swapped for a better sample: already streamed, or the client asked for ``n``
        choices in the upstream's order."""
        return self.answer_delivered or int(self.params.get("n") or 1) > 1

    @property
    def token_logprobs(self) -> list[tuple[str, float]] | None:
        """The (token, log-probability) pairs of the answer returned, not of whichever sample came first."""
        if self.answer_index < len(self.sample_logprobs):
            return self.sample_logprobs[self.answer_index]
        return None

    @token_logprobs.setter
    def token_logprobs(self, value: list[tuple[str, float]] | None) -> None:
        while len(self.sample_logprobs) <= self.answer_index:
            self.sample_logprobs.append(None)
        self.sample_logprobs[self.answer_index] = value

    @property
    def prompt_messages(self) -> list[dict[str, Any]]:
        return self.prompt if self.prompt is not None else self.messages
