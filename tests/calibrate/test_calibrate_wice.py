"""On a shipped file, with a real verifier: calibrating on part of WiCE moves the false-flag rate on the rest
toward the target (at most 30 % of faithful answers flagged at medium risk), without giving up the catch rate."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest

from guard.calibrate import calibrate, from_file
from guard.calibrate.scoring import score_answers
from guard.config import GuardConfig

WICE = files("guard.evals.suites.data") / "wice_dev_claims.jsonl"
FIT, REST = 40, 30  # answers per class: calibrated on the first (the least it accepts), measured on the others


@pytest.fixture(scope="module")
def split():
    rows = from_file(WICE)
    faithful, hallucinated = [r for r in rows if r.faithful], [r for r in rows if not r.faithful]
    return faithful[:FIT] + hallucinated[:FIT], faithful[FIT:FIT + REST] + hallucinated[FIT:FIT + REST]


def test_calibrating_on_part_of_wice_flags_fewer_faithful_answers_on_the_rest(split, offline_verifier):
    config = GuardConfig(support={"verifier": "offline"}, telemetry={"enabled": False})
    fit_rows, rest = split
    calibration = calibrate(fit_rows, config, verifier=offline_verifier)
    scored = score_answers(rest, config, offline_verifier)
    weakest = np.array([s.weakest for s in scored if s is not None])
    faithful = np.array([r.faithful for r, s in zip(rest, scored) if s is not None])

    def rates(threshold: float) -> tuple[float, float]:
        flagged = weakest < threshold
        return flagged[faithful].mean(), flagged[~faithful].mean()

    false_before, caught_before = rates(offline_verifier.threshold("medium"))
    false_after, caught_after = rates(calibration.thresholds["medium"])
    assert false_after < false_before
    assert caught_after - false_after >= caught_before - false_before - 0.05  # no worse at telling them apart
