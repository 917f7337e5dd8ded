"""Detection items: guard checks a given response against its sources and is scored as a detector.

The detector's score is P(hallucinated) = 1 - guard's confidence. The
confidence, not a raw signal such as support, is what an app acts on, and it is
the calibrated number, so ECE and the reliability table measure what users see.
An item is called hallucinated when confidence is below the decision threshold
(by default an explicit ``support.threshold``, else 0.5: confidence is a calibrated probability).
"""

from __future__ import annotations

import asyncio

from guard.evals.results import DetectionResult
from guard.evals.runner import require_layers_ok
from guard.evals.suite import DetectionRow
from guard.pipeline import Guard


class DetectionEvaluator:
    def __init__(self, guard: Guard, decision_threshold: float):
        self.guard = guard
        self.decision_threshold = decision_threshold

    async def evaluate(self, row: DetectionRow) -> DetectionResult:
        # Guard.check in a worker thread: verifiers do blocking model work, and
        # threads let it overlap (torch releases the GIL) without stalling the loop.
        meta = await asyncio.to_thread(self.guard.check, row.response, row.sources, row.question)
        require_layers_ok(meta)
        confidence = meta.confidence
        return DetectionResult(
            id=row.id,
            hallucinated=row.hallucinated,
            confidence=confidence,
            score=None if confidence is None else round(1.0 - confidence, 6),
            flagged=None if confidence is None else confidence < self.decision_threshold,
            tier=meta.tier,
            signals=meta.signals,
            layers={name: f"{report.status}: {report.reason}" if report.reason else report.status
                    for name, report in meta.layers.items()},
            latency_ms=meta.usage.latency_ms.total,
        )

    def failure(self, row: DetectionRow, error: str) -> DetectionResult:
        return DetectionResult(id=row.id, hallucinated=row.hallucinated, error=error)
