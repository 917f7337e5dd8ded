"""Scoring a generated answer against reference facts: does the answer support each fact?

A fact is a claim and the answer its only evidence, put to a support verifier:
by default the one guard's config names (offline and free unless configured
otherwise), or, with ``judge: {kind: llm}``, a chat model giving a strict JSON
verdict. A verdict that cannot be read fails the item; it never counts as either
answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from guard.config import GuardConfig
from guard.evals.results import FactVerdict
from guard.evals.suite import FactJudgeSpec
from guard.llm import ModelClient
from guard.verify import SupportVerifier, get_verifier
from guard.verify.llm_judge import LLMJudgeVerifier


@dataclass
class Judgement:
    verdicts: list[FactVerdict]
    cost_usd: float


class FactJudge:
    """A fact counts as stated when the verifier's support reaches the judge's threshold."""

    def __init__(self, verifier: SupportVerifier, threshold: float):
        self.verifier = verifier
        self.threshold = threshold

    async def judge(self, facts: list[str], answer: str) -> Judgement:
        scores = await self.verifier.score([(fact, [answer]) for fact in facts])
        return Judgement(
            verdicts=[FactVerdict(fact=fact, supported=p >= self.threshold, score=round(p, 4))
                      for fact, p in zip(facts, scores.probabilities)],
            cost_usd=scores.cost_usd,
        )


def make_judge(spec: FactJudgeSpec, config: GuardConfig) -> FactJudge:
    if spec.kind == "llm":
        verifier: SupportVerifier = LLMJudgeVerifier(ModelClient(config.models), spec.model or config.models.default)
    else:
        verifier = get_verifier(config.support, config.models)
    # Judging whether an answer states a reference fact is not the operating point chosen for answers vs sources:
    # an explicit support.threshold, else the neutral 0.5 the suite gates were measured at.
    return FactJudge(verifier, config.support.threshold if config.support.threshold is not None else 0.5)
