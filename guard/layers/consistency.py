"""Consistency layer: do independent samples of the answer agree, claim by claim? (SelfCheckGPT-style)

Each factual claim of each sample is checked against every other sample with the
support verifier; a sample's agreement is the mean over its claims and the other
samples. The sample the others support most becomes the answer, and its agreement
is the ``consistency`` signal: facts a model makes up tend to change from sample
to sample, facts it knows tend to repeat.
"""

from __future__ import annotations

from guard.layers.base import Skip
from guard.layers.verifying import VerifyingLayer
from guard.state import RequestState
from guard.verify import is_factual, split_claims
from guard.verify.base import Pair


class ConsistencyLayer(VerifyingLayer):
    name = "consistency"

    async def run(self, state: RequestState) -> None:
        if not self.config.consistency.enabled:
            raise Skip("disabled")  # a client's n > 1 gives several choices, not a self-consistency check
        samples = [i for i, text in enumerate(state.samples) if text.strip()]
        if len(samples) < 2:
            raise Skip(f"samples={len(samples)}")
        pairs: list[Pair] = []
        owners: list[int] = []
        for i in samples:
            for claim in filter(is_factual, split_claims(state.samples[i])):
                for j in samples:
                    if j != i:
                        pairs.append((claim.text, [state.samples[j]]))
                        owners.append(i)
        if not pairs:
            raise Skip("no claims in the samples")
        scores = await self.verifier.score(pairs)
        state.usage.verification_cost_usd += scores.cost_usd
        agreement = {i: [p for p, owner in zip(scores.probabilities, owners) if owner == i] for i in samples}
        mean = {i: sum(v) / len(v) for i, v in agreement.items() if v}
        if state.answer_locked:  # streamed, or the client's own n choices: rate the answer the user has
            if 0 not in mean:
                raise Skip("the answer has no claims to compare")
            best = 0
        else:
            best = max(mean, key=lambda i: (mean[i], -i))  # ties keep the earlier (primary) sample
        state.answer_index = best
        state.answer = state.samples[best]
        state.signals["consistency"] = mean[best]
