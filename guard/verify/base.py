"""The one interface every support checker implements: many (claim, evidence) pairs in, probabilities out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from guard.verify.contradictions import Finding, cap

Pair = tuple[str, Sequence[str]]


class VerificationError(RuntimeError):
    """A verifier could not reach a verdict; the layer reports ``error``, never ``supported``."""


@dataclass
class SupportScores:
    """Probability that each claim is supported by its evidence, and what the verdicts cost."""

    probabilities: list[float]
    cost_usd: float = 0.0


class SupportVerifier(ABC):
    """Scores claims against evidence texts.

    Batched and async because layers ask about every claim (and, for citations,
    every subset of cited sources) at once, and because verifiers are either CPU
    models (run in a worker thread) or remote judges (awaited concurrently).
    A claim with no evidence is unsupported by definition and never reaches the model.
    """

    name: str
    uses_question = False  # verifiers that read the user's question get it as ``_score(pairs, question)``
    # The decision threshold per risk level, chosen on held-out data; 0.5 for verifiers without a chosen one.
    thresholds: dict[str, float] = {}
    # How much lower the bar is for each claim of a long answer (``thresholds.answer_threshold``); 0: the same for all.
    length_exponent: float = 0.0

    def threshold(self, risk: str) -> float:
        return self.thresholds.get(risk, 0.5)

    def with_findings(self, probability: float, findings: Sequence[Finding]) -> float:
        """A claim's support once the specifics its sources do not back are counted (``guard.verify.contradictions``).

        By default any finding scales the score under every threshold in use; a verifier with fitted weights per
        kind of finding (the combined one) lowers it by those instead.
        """
        return cap(probability, findings)

    async def score(self, pairs: Sequence[Pair], question: str | None = None) -> SupportScores:
        checked = [_checked(i, pair) for i, pair in enumerate(pairs)]
        with_evidence = [i for i, (_, evidence) in enumerate(checked) if evidence]
        probabilities = [0.0] * len(checked)
        if not with_evidence:
            return SupportScores(probabilities)
        chosen = [checked[i] for i in with_evidence]
        scored = await (self._score(chosen, question) if self.uses_question and question else self._score(chosen))
        if len(scored.probabilities) != len(with_evidence):
            raise VerificationError(f"{self.name} returned {len(scored.probabilities)} scores for {len(with_evidence)} pairs")
        for i, p in zip(with_evidence, scored.probabilities):
            probabilities[i] = min(1.0, max(0.0, float(p)))
        return SupportScores(probabilities, scored.cost_usd)

    @abstractmethod
    async def _score(self, pairs: list[tuple[str, list[str]]]) -> SupportScores:
        """Score pairs whose claim is non-empty and whose evidence has at least one non-empty text."""


def _checked(index: int, pair: Pair) -> tuple[str, list[str]]:
    if not isinstance(pair, tuple) or len(pair) != 2:
        raise ValueError(f"pair {index} must be a (claim, evidence texts) tuple")
    claim, evidence = pair
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError(f"pair {index}: the claim must be a non-empty string")
    if isinstance(evidence, str) or not all(isinstance(e, str) for e in evidence):
        raise ValueError(f"pair {index}: evidence must be a sequence of strings")
    return claim.strip(), [e for e in evidence if e.strip()]
