"""Citations layer: do the answer's [n] markers point at sources that back their sentence? (ALCE definitions)

- Recall of a cited sentence: the concatenation of its cited sources supports it.
- Precision: a citation is irrelevant when it alone does not support the sentence and
  the remaining citations still do; a sentence its citations do not support earns its
  citations no credit; a marker that points at no retrieved source is invalid and earns none.
- A sentence the support layer found no source supports (under this layer's threshold) is not asked about
  again: its citations are marked as not supporting it, with the support layer's score.
- With ``citations.required``, a factual sentence without a marker counts as recall 0
  and is listed in ``uncited``; otherwise uncited sentences are left out of the signal.

The signal is the F1 of citation recall and precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from guard.layers.base import Skip
from guard.layers.verifying import VerifyingLayer
from guard.metadata import Citation, UncitedSentence
from guard.state import Claim, RequestState, Source
from guard.verify import is_factual
from guard.verify.base import Pair


@dataclass
class _CitedClaim:
    claim: Claim
    valid: list[int]  # 0-based indexes of cited sources that exist
    invalid: list[int]  # marker numbers pointing nowhere
    unsupported: bool = False  # the support layer found no source supports it: nothing to ask
    joint: int = -1  # index of the (claim, all cited sources) pair
    alone: dict[int, int] = field(default_factory=dict)  # source index -> pair index
    without: dict[int, int] = field(default_factory=dict)  # source index -> pair index of the others


class CitationsLayer(VerifyingLayer):
    name = "citations"

    async def run(self, state: RequestState) -> None:
        claims = self.claims_to_check(state, self.config.citations.enabled)
        factual = [c for c in claims if is_factual(c)]
        cited = [_cite(c, len(state.sources)) for c in claims if c.markers]
        uncited = [c for c in factual if not c.markers] if self.config.citations.required else []
        if not cited and not uncited:
            raise Skip("no citation markers")

        threshold = self.threshold(state)
        # The support layer already read each claim against every source: one that all of them together do not
        # support is supported by none of its cited ones, so its citations are not asked about again.
        for item in cited:
            item.unsupported = item.claim.support is not None and item.claim.support < threshold
        pairs = _pairs(cited, state.sources)
        probabilities: list[float] = []
        if pairs:
            scores = await self.verifier_for(state).score(pairs, question=self.question(state))
            state.usage.verification_cost_usd += scores.cost_usd
            probabilities = scores.probabilities
        supported = [p >= threshold for p in probabilities]

        recalled, credit, markers = 0, 0, 0
        for item in cited:
            joint = item.joint >= 0 and supported[item.joint]
            recalled += joint
            markers += len(item.valid) + len(item.invalid)
            if item.unsupported:
                state.citations += [_citation(item.claim, source, state.sources[source], False, item.claim.support)
                                    for source in item.valid]
            else:
                for source in item.valid:
                    alone = item.alone.get(source, item.joint)
                    relevant = source not in item.without or supported[alone] or not supported[item.without[source]]
                    credit += joint and relevant
                    state.citations.append(_citation(item.claim, source, state.sources[source], supported[alone],
                                                     probabilities[alone]))
            state.citations += [Citation(marker=f"[{n}]", source_id=None, valid=False, supports=None,
                                         sentence=item.claim.index) for n in item.invalid]
        state.uncited += [UncitedSentence(text=c.text, sentence=c.index) for c in uncited]
        recall = recalled / (len(cited) + len(uncited))
        precision = credit / markers if markers else 0.0
        state.signals["citations"] = 2 * recall * precision / (recall + precision) if recall + precision else 0.0


def _cite(claim: Claim, n_sources: int) -> _CitedClaim:
    valid = [n - 1 for n in claim.markers if 1 <= n <= n_sources]
    return _CitedClaim(claim, valid=valid, invalid=[n for n in claim.markers if not 1 <= n <= n_sources])


def _pairs(cited: list[_CitedClaim], sources: list[Source]) -> list[Pair]:
    """Every check ALCE needs, in one batch: all cited sources, and with several, each alone and each left out."""
    pairs: list[Pair] = []

    def add(claim: Claim, chosen: list[int]) -> int:
        pairs.append((claim.text, ["\n".join(sources[i].text for i in chosen)]))
        return len(pairs) - 1

    for item in cited:
        if not item.valid or item.unsupported:
            continue
        item.joint = add(item.claim, item.valid)
        if len(item.valid) > 1:
            for source in item.valid:
                item.alone[source] = add(item.claim, [source])
                item.without[source] = add(item.claim, [s for s in item.valid if s != source])
    return pairs


def _citation(claim: Claim, index: int, source: Source, supports: bool, score: float) -> Citation:
    return Citation(marker=f"[{index + 1}]", source_id=source.id, title=source.title, valid=True, supports=supports,
                    score=round(score, 4), sentence=claim.index)
