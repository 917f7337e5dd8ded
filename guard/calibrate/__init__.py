"""``guard calibrate``: fit the support calibration (``guard.calibration``) on this product's own labels.

Labels come from a file or the store (``guard.calibrate.labels``); every labelled answer is scored by the
support layer with the configured verifier (``guard.calibrate.scoring``); the confidence map and the
operating points (and, with enough labels, the ``combined`` verifier's blend weights) are fitted and
cross-validated against the configuration in force (``guard.calibrate.fitting``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from guard.calibrate.fitting import (FOLDS, METRICS, MIN_BLEND_PER_CLASS, Components, Decisions, Scores,
                                     TooFewLabels, compare, confidence_of, cross_validated, fit, fit_blend,
                                     require_enough, short_of)
from guard.calibrate.labels import LabelledAnswer, from_file, from_store
from guard.calibrate.scoring import AnswerSupport, score_answers
from guard.calibration import SupportCalibration
from guard.confidence import ConfidenceModel
from guard.config import GuardConfig
from guard.store import utcnow
from guard.verify import SupportVerifier, get_verifier, support_threshold
from guard.verify.combined import CombinedVerifier

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
    if current is not None and current.blend and isinstance(verifier, CombinedVerifier):
        verifier = verifier.reweighted(current.blend)  # "before" is what the calibration in force decides
    scored = score_answers(rows, config, verifier, progress)
    kept = [(row, s) for row, s in zip(rows, scored) if s is not None]
    answers = [row for row, _ in kept]
    scores = _scores([s for _, s in kept], answers)
    require_enough(scores.faithful)

    risk = config.product.risk.value
    model = ConfidenceModel(verifier=config.support.verifier, precision=config.support.precision)
    before = Decisions(confidence_of(lambda signals: model(signals, current), scores.signal),
                       scores.weakest < support_threshold(config, verifier, current))
    blend_note = _blend_note(verifier, scores.faithful)
    weights, scores_after = None, scores
    rescore: Callable[[np.ndarray], Scores] | None = None
    if blend_note == "refitted":
        components = _components(verifier, answers, [s for _, s in kept])

        def scored_with(fitted: dict[str, float] | None) -> Scores:
            """Every answer scored with a refitted blend (with the one in force when it came out unusable)."""
            return scores if fitted is None else _scores(score_answers(answers, config, verifier.reweighted(fitted)),
                                                         answers)

        def refitted_on(index: np.ndarray) -> Scores:  # each fold refits the blend on its training part
            return scored_with(fit_blend(components.subset(index), scores.faithful[index], verifier.weights))

        rescore = refitted_on

        weights = fit_blend(components, scores.faithful, verifier.weights)
        scores_after = scored_with(weights)
        if weights is None:
            blend_note = "kept: a weight came out negative on these labels"
    comparison = compare(scores.faithful, before, cross_validated(scores, risk, folds, rescore))
    platt, thresholds = fit(scores_after)
    return SupportCalibration(
        verifier=config.support.verifier, created_at=utcnow(), support=platt, thresholds=thresholds, blend=weights,
        fitted_on={**(fitted_on or {}), "answers": len(kept), "faithful": int(scores.faithful.sum()),
                   "hallucinated": int((~scores.faithful).sum()), "without_claims": len(rows) - len(kept),
                   "blend": blend_note},
        cross_validated={"risk": risk, "folds": folds, "before": current.id if current else "shipped",
                         "metrics": comparison},
    ).with_id()


def _scores(supports: Sequence[AnswerSupport], answers: Sequence[LabelledAnswer]) -> Scores:
    return Scores(np.array([s.signal for s in supports]), np.array([s.weakest for s in supports]),
                  np.array([row.faithful for row in answers], dtype=bool))


def _blend_note(verifier: SupportVerifier, faithful: np.ndarray) -> str | None:
    """Whether the blend can be refitted here, and if not, why (None: the verifier has no blend)."""
    if not isinstance(verifier, CombinedVerifier):
        return None
    short = short_of(faithful, MIN_BLEND_PER_CLASS)
    if short:
        more = " and ".join(f"{n} more {name}" for name, n in short.items())
        return f"kept: refitting it needs {MIN_BLEND_PER_CLASS} labelled answers of each class ({more})"
    return "refitted"


def _components(verifier: CombinedVerifier, answers: Sequence[LabelledAnswer],
                supports: Sequence[AnswerSupport]) -> Components:
    """Each answer's claims read by both verifiers, as the support layer asked (the cross-encoder's scores cached)."""
    trees, model = [], []
    for row, support in zip(answers, supports):
        t, m = verifier.components([(claim, list(row.sources)) for claim in support.claims],
                                   [row.question] * len(support.claims))
        trees.append(t)
        model.append(m)
    return Components(trees, model)
