"""What one evaluated item produced: the per-item rows of reports and checkpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

from guard.metadata import Tier


class ItemResult(BaseModel):
    """Common to both kinds. ``error`` set means the item failed and is left out of the metrics."""

    id: str
    error: str | None = None
    latency_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class DetectionResult(ItemResult):
    kind: Literal["detection"] = "detection"
    hallucinated: bool = Field(description="The human label.")
    confidence: float | None = Field(None, description="Guard's confidence the response is faithful.")
    score: float | None = Field(None, description="P(hallucinated) = 1 - confidence; None when guard had no signal.")
    flagged: bool | None = Field(None, description="Guard's call: confidence below the decision threshold.")
    tier: Tier | None = None
    signals: dict[str, float] = Field(default_factory=dict)
    layers: dict[str, str] = Field(default_factory=dict, description="Each layer's status, with its reason if any.")

    @property
    def verdict(self) -> str | None:
        """Guard's call on the item, compared across runs to find what a change moved."""
        if self.flagged is None:
            return None
        return "hallucinated" if self.flagged else "faithful"


class FactVerdict(BaseModel):
    fact: str
    supported: bool
    score: float | None = None


class GenerationResult(ItemResult):
    kind: Literal["generation"] = "generation"
    question: str
    answer: str | None = None
    confidence: float | None = None
    tier: Tier | None = None
    flagged: bool | None = Field(None, description="Guard flagged a hallucination: low tier or unsupported claims.")
    review_required: bool | None = None
    facts: list[FactVerdict] = Field(default_factory=list)
    fact_recall: float | None = Field(None, description="Share of reference facts the answer supports.")
    citation_recall: float | None = None
    citation_precision: float | None = None
    cited_sources: list[str] = Field(default_factory=list)
    source_recall: float | None = Field(None, description="Share of expected sources among those cited.")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    judge_cost_usd: float | None = None

    @property
    def verdict(self) -> str | None:
        """The tier: what the app's user would have seen."""
        return self.tier


Result = DetectionResult | GenerationResult
AnyResult = Annotated[Result, Field(discriminator="kind")]  # what pydantic reads back from JSON
_ANY_RESULT: TypeAdapter[Result] = TypeAdapter(AnyResult)


def parse_result(line: str) -> Result:
    """One result from its JSON line; raises ``pydantic.ValidationError`` on anything else."""
    return _ANY_RESULT.validate_json(line)
