"""Support layer: is each claim of the answer supported by the sources?"""

from __future__ import annotations

import asyncio
import math

from guard.layers.base import Skip
from guard.layers.verifying import VerifyingLayer
from guard.metadata import UnsupportedClaim
from guard.state import RequestState
from guard.verify import contradictions, is_factual
from guard.verify.thresholds import answer_threshold

# The answer is faithful only if every claim is, so the signal leans to the weakest claim; a soft
# minimum keeps one borderline score in a long answer from deciding alone. At 0.1, a claim at 0.1
# among nine at 0.9 gives ~0.33: clearly below the mean (0.82), above the hard minimum.
SOFT_MIN_TEMPERATURE = 0.1


def soft_min(values: list[float], temperature: float = SOFT_MIN_TEMPERATURE) -> float:
    return -temperature * math.log(sum(math.exp(-v / temperature) for v in values) / len(values))


class SupportLayer(VerifyingLayer):
    name = "support"

    async def run(self, state: RequestState) -> None:
        factual = [c for c in self.claims_to_check(state, self.config.support.enabled) if is_factual(c)]
        if not factual:
            raise Skip("no claims")
        evidence = [s.text for s in state.sources]
        verifier = self.verifier_for(state)
        # A number, date, SKU, name or negation the sources state otherwise outweighs any similarity; string work
        # over every source, so it runs on a worker thread beside the verifier.
        found, scores = await asyncio.gather(
            asyncio.to_thread(lambda: [contradictions.find(c.text, evidence) for c in factual]),
            verifier.score([(c.text, evidence) for c in factual], question=self.question(state)))
        state.usage.verification_cost_usd += scores.cost_usd
        reasons: dict[int, str] = {}
        for claim, probability, findings in zip(factual, scores.probabilities, found):
            claim.support = verifier.with_findings(probability, findings)
            if findings:
                reasons[claim.index] = "; ".join(f.reason for f in findings)
        state.signals["support"] = soft_min([c.support for c in factual])
        # The shipped operating point is chosen on whole answers (longer ones get a lower bar per claim); a pinned
        # support.threshold or a product's calibration is a bar for each claim.
        shipped = self.config.support.threshold is None and state.calibration is None
        threshold = answer_threshold(self.threshold(state), len(factual),
                                     self.verifier.length_exponent if shipped else 0.0)
        weak = sorted((c for c in factual if c.support < threshold), key=lambda c: c.support)
        state.unsupported = [UnsupportedClaim(text=c.text, score=round(c.support, 4), reason=reasons.get(c.index))
                             for c in weak]
