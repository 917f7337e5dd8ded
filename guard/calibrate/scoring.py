"""Each labelled answer scored as guard scores it in production: by the support layer itself.

Running the layer (claim splitting, the configured verifier, contradicted specifics capped) keeps the
calibration true to what the product computes, including any later change to how the layer scores.
Two numbers per answer matter: the support signal the confidence map reads (a soft minimum over the
claims) and the weakest claim's score, since an answer is flagged (a claim listed as unsupported)
exactly when its weakest claim falls below the threshold.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from guard.calibrate.labels import LabelledAnswer
from guard.config import GuardConfig
from guard.layers.base import Skip
from guard.layers.support import SupportLayer
from guard.state import RequestState, Source
from guard.verify import SupportVerifier


@dataclass(frozen=True)
class AnswerSupport:
    signal: float  # state.signals["support"]
    weakest: float  # lowest claim score
    claims: tuple[str, ...]  # the factual claims scored


def score_answers(rows: Sequence[LabelledAnswer], config: GuardConfig, verifier: SupportVerifier | None = None,
                  progress: Callable[[int], None] | None = None) -> list[AnswerSupport | None]:
    """One score per row; None for an answer with no factual claim to check (the layer skips it)."""
    layer = SupportLayer(config, verifier)

    async def run() -> list[AnswerSupport | None]:
        scored = []
        for row in rows:
            scored.append(await _score(layer, config, row))
            if progress is not None:
                progress(len(scored))
        return scored

    return asyncio.run(run())


async def _score(layer: SupportLayer, config: GuardConfig, row: LabelledAnswer) -> AnswerSupport | None:
    messages = [{"role": "user", "content": row.question}] if row.question else []
    state = RequestState(request_id="calibrate", config=config, model="none", messages=messages)
    state.sources = [Source(id=f"source-{i}", text=text) for i, text in enumerate(row.sources, 1)]
    state.answer = row.response
    try:
        await layer.run(state)
    except Skip:
        return None
    scored = [c for c in state.claims if c.support is not None]
    return AnswerSupport(signal=state.signals["support"], weakest=min(c.support for c in scored),
                         claims=tuple(c.text for c in scored))
