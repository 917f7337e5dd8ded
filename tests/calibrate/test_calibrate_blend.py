"""With enough labels, guard calibrate refits the combined verifier's blend, and the support layer applies it."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from guard.calibrate import calibrate
from guard.calibrate.fitting import MIN_BLEND_PER_CLASS
from guard.calibration import SupportCalibration
from guard.layers.support import SupportLayer
from guard.state import RequestState, Source
from guard.verify.combined import CombinedVerifier, blend
from tests.calibrate.conftest import score_of, labelled


class Trees:
    """Trees that read nothing on this product: every claim at 0.5 (inside the cascade's band)."""

    def probabilities(self, pairs):
        return np.full(len(pairs), 0.5)


class CrossEncoder:
    """A cross-encoder that reads this product well: the claim's letter code, as the scripted verifier does."""

    def predict(self, pairs, questions):
        return [min(max(score_of(claim), 0.01), 0.99) for claim, _ in pairs]


@pytest.fixture
def combined() -> CombinedVerifier:
    return CombinedVerifier(offline=Trees(), model=CrossEncoder(), int8=True)


def test_with_enough_labels_the_blend_leans_on_the_verifier_that_tells_the_answers_apart(config, combined):
    calibration = calibrate(labelled(MIN_BLEND_PER_CLASS, MIN_BLEND_PER_CLASS), config, verifier=combined)
    assert calibration.fitted_on["blend"] == "refitted"
    assert calibration.blend["support_model"] > combined.weights["support_model"]
    assert calibration.blend["offline"] >= 0


def test_with_fewer_labels_the_blend_is_kept_saying_how_many_more_it_needs(config, combined):
    calibration = calibrate(labelled(60, 60), config, verifier=combined)
    assert calibration.blend is None
    assert calibration.fitted_on["blend"] == (f"kept: refitting it needs {MIN_BLEND_PER_CLASS} labelled answers of "
                                             f"each class ({MIN_BLEND_PER_CLASS - 60} more faithful and "
                                             f"{MIN_BLEND_PER_CLASS - 60} more hallucinated)")


async def test_the_support_layer_scores_with_the_blend_of_the_calibration_in_force(config, combined):
    weights = {"intercept": 0.5, "offline": 0.1, "support_model": 2.0}
    state = RequestState(request_id="r", config=config, model="m", messages=[])
    state.sources = [Source(id="s1", text="Parcels ship in crates.")]
    state.answer = "The parcel ships in crate hc."
    state.calibration = SupportCalibration(verifier="combined", created_at=datetime(2026, 12, 1, tzinfo=timezone.utc),
                                           support={"intercept": 0, "slope": 1}, thresholds={"medium": 0.5},
                                           blend=weights).with_id()
    await SupportLayer(config, verifier=combined).run(state)
    expected = blend(np.array([0.5]), np.array([0.72]), weights)[0]
    assert state.claims[0].support == pytest.approx(expected)
    assert state.claims[0].support != pytest.approx(blend(np.array([0.5]), np.array([0.72]), combined.weights)[0])
