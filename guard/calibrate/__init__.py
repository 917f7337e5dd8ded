"""``guard calibrate``: fit the support calibration (``guard.calibration``) on this product's own labels.

Labels come from a file or the store (``guard.calibrate.labels``); every labelled answer is scored by the
support layer with the configured verifier (``guard.calibrate.scoring``); the confidence map and the
operating points are fitted and cross-validated against the configuration in force
(``guard.calibrate.fitting``). The blend's weights of the ``combined`` verifier are not refitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from guard.calibrate.fitting import (FOLDS, METRICS, Decisions, Scores, TooFewLabels, compare, confidence_of,
                                     cross_validated, fit, require_enough)
from guard.calibrate.labels import LabelledAnswer, from_file, from_store
from guard.calibrate.scoring import score_answers
from guard.calibration import SupportCalibration
from guard.confidence import ConfidenceModel
from guard.config import GuardConfig
from guard.store import utcnow
from guard.verify import SupportVerifier, get_verifier, support_threshold

__all__ = ["METRICS", "LabelledAnswer", "TooFewLabels", "calibrate", "from_file", "from_store"]


def calibrate(rows: Sequence[LabelledAnswer], config: GuardConfig, *, current: SupportCalibration | None = None,
              verifier: SupportVerifier | None = None, folds: int = FOLDS, fitted_on: dict[str, Any] | None = None,
              progress: Callable[[int], None] | None = None) -> SupportCalibration:
    """Score, fit on every label and cross-validate; ``current`` is the calibration in force today (None: the
    shipped one). The result's ``cross_validated["metrics"]`` holds, per metric, before, after and the change,
    each with its 95 % interval.

    Raises ``TooFewLabels`` before any scoring when the labels cannot suffice, and after it when too
    many answers had no claim to check.
    """
    require_enough(np.array([r.faithful for r in rows], dtype=bool))
    verifier = verifier or get_verifier(config.support, config.models)
    scored = score_answers(rows, config, verifier, progress)
    kept = [(row, s) for row, s in zip(rows, scored) if s is not None]
    scores = Scores(np.array([s.signal for _, s in kept]), np.array([s.weakest for _, s in kept]),
                    np.array([row.faithful for row, _ in kept], dtype=bool))
    require_enough(scores.faithful)

    risk = config.product.risk.value
    model = ConfidenceModel(verifier=config.support.verifier, precision=config.support.precision)
    before = Decisions(confidence_of(lambda signals: model(signals, current), scores.signal),
                       scores.weakest < support_threshold(config, verifier, current))
    comparison = compare(scores.faithful, before, cross_validated(scores, risk, folds))
    platt, thresholds = fit(scores)
    return SupportCalibration(
        verifier=config.support.verifier, created_at=utcnow(), support=platt, thresholds=thresholds,
        fitted_on={**(fitted_on or {}), "answers": len(kept), "faithful": int(scores.faithful.sum()),
                   "hallucinated": int((~scores.faithful).sum()), "without_claims": len(rows) - len(kept)},
        cross_validated={"risk": risk, "folds": folds, "before": current.id if current else "shipped",
                         "metrics": comparison},
    ).with_id()
