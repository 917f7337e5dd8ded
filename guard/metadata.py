"""The ``guard`` object that rides on every response: the contract apps code against."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# "unverified": the reply only calls tools, so nothing in it was checked (and it is never queued for review).
Tier = Literal["high", "medium", "low", "unverified"]
LayerStatus = Literal["ok", "skipped", "error"]


class UX(BaseModel):
    border_color: str
    icon: str
    disclaimer: str | None
    suggested_actions: list[str]


class Citation(BaseModel):
    marker: str
    source_id: str | None
    title: str | None = None
    valid: bool = Field(True, description="False when the marker points at no retrieved source.")
    supports: bool | None = Field(None, description="The cited source supports the sentence; None when not checked.")
    score: float | None = None
    sentence: int | None = Field(None, description="Index of the claim that carries the marker.")


class UnsupportedClaim(BaseModel):
    text: str
    score: float
    reason: str | None = Field(None, description="Why, when a specific (number, date, SKU, name, negation) "
                                                 "differs from the sources or is in none of them.")


class UncitedSentence(BaseModel):
    """A factual sentence without a citation marker, listed when ``citations.required``."""

    text: str
    sentence: int = Field(description="Index of the claim in the answer.")


class LayerReport(BaseModel):
    status: LayerStatus
    ms: float = 0.0
    reason: str | None = None


class Review(BaseModel):
    required: bool
    policy: Literal["flag", "block"] | None = None
    id: str | None = None
    status: Literal["pending", "approved", "rejected", "not_required"] = "not_required"
    held: bool = Field(False, description="The answer is withheld until a person decides (policy block): the reply "
                                          "carries a holding message (as message.refusal to tools / response_format).")


class LatencyMs(BaseModel):
    total: float = 0.0
    model: float = 0.0
    guard: float = 0.0


class GuardUsage(BaseModel):
    latency_ms: LatencyMs = Field(default_factory=LatencyMs)
    prompt_tokens: int = Field(0, description="The returned answer's tokens, as the OpenAI usage reports them.")
    completion_tokens: int = 0
    samples_prompt_tokens: int = Field(0, description="guard's own extra self-consistency samples.")
    samples_completion_tokens: int = 0
    cost_usd: float | None = Field(None, description="Model cost, samples included; None when the price is "
                                   "unknown, never a silent 0.")
    verification_cost_usd: float = 0.0


class ExperimentArm(BaseModel):
    """The experiment a request took part in and the variant that served it."""

    name: str
    variant: str


class GuardMetadata(BaseModel):
    request_id: str
    model: str | None = None
    confidence: float | None = Field(None, description="Calibrated probability that the answer is faithful; None when no signal exists.")
    tier: Tier
    ux: UX
    signals: dict[str, float] = Field(default_factory=dict)
    citations: list[Citation] = Field(default_factory=list)
    unsupported: list[UnsupportedClaim] = Field(default_factory=list)
    uncited: list[UncitedSentence] = Field(default_factory=list)
    layers: dict[str, LayerReport] = Field(default_factory=dict)
    review: Review = Field(default_factory=lambda: Review(required=False))
    usage: GuardUsage = Field(default_factory=GuardUsage)
    experiment: ExperimentArm | None = Field(None, description="Set when the request was part of an experiment.")
