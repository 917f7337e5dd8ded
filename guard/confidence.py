"""Fusing the layers' signals into one calibrated probability that the answer is faithful.

log-odds = intercept + sum over present signals of slope * logit(signal). Each term
is the evidence one signal adds; a signal that did not run adds nothing (as if it
sat at 0.5), so any subset of signals works. Slopes are never negative, so the
confidence never falls when a signal rises. The support slope and the intercept are
Platt-fitted on held-out verifier scores of labelled data (``guard.training.fit``);
signals without labelled data carry a mild prior slope, recorded with a reason in
``guard/verify/params/confidence.json``. Signals the file does not name are ignored.

Verifiers score on different scales, so the support slope and the intercept are fitted per
verifier: ``support_by_verifier`` holds those of each verifier fitted so far (``<verifier>-fp32`` those
fitted on its fp32 scores, where they differ from the default precision's); any other uses the top-level
ones (fitted for the default verifier at the default precision).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from guard.calibration import SupportCalibration
from guard.verify.calibration import logit, sigmoid

PARAMS_FILE = Path(__file__).parent / "verify" / "params" / "confidence.json"


def precision_key(verifier: str, precision: str) -> str:
    """The ``support_by_verifier`` entry of a verifier's calibration fitted on one precision's scores."""
    return f"{verifier}-{precision}"


class ConfidenceModel:
    def __init__(self, params_file: str | Path = PARAMS_FILE, verifier: str | None = None,
                 precision: str | None = None):
        params = json.loads(Path(params_file).read_text())
        self.intercept = float(params["intercept"])
        self.slopes = {name: float(spec["slope"]) for name, spec in params["signals"].items()}
        fitted = params.get("support_by_verifier", {})
        own = (fitted.get(precision_key(verifier or "", precision)) if precision else None) or fitted.get(verifier or "")
        if own is not None:
            self.intercept, self.slopes["support"] = float(own["intercept"]), float(own["slope"])
        negative = [name for name, slope in self.slopes.items() if slope < 0]
        if negative:
            raise ValueError(f"{params_file}: negative slopes for {negative} would make confidence fall as they rise")

    def __call__(self, signals: dict[str, float], calibration: SupportCalibration | None = None) -> float | None:
        """Probability the answer is faithful; None when no known signal is present (nothing was verified).

        A ``calibration`` fitted on the product's labels replaces the support slope and the intercept.
        """
        present = {k: float(v) for k, v in signals.items()
                   if k in self.slopes and isinstance(v, (int, float)) and math.isfinite(v)}
        if not present:
            return None
        intercept, slopes = self.intercept, self.slopes
        if calibration is not None:
            intercept, slopes = calibration.support.intercept, {**slopes, "support": calibration.support.slope}
        log_odds = intercept + sum(slopes[k] * float(logit(min(1.0, max(0.0, v)))) for k, v in present.items())
        return float(sigmoid(log_odds))
