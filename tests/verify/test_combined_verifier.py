"""The default verifier: the trees and the fine-tuned cross-encoder blended by weights fitted on held-out data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from guard.config import load_config
from guard.verify import get_verifier
from guard.training.fit_blend import fit_weights
from guard.verify.combined import CombinedVerifier, blend

RESTATED = ("Refunds are paid within 5 business days.", ["Refunds are paid within five business days of approval."])
UNRELATED = ("The lamp ships with a solar panel.", ["Refunds are paid within five business days of approval."])


@pytest.fixture(scope="module")
def combined() -> CombinedVerifier:
    return get_verifier(load_config().support)


def test_the_default_support_verifier_is_the_combined_one_on_int8_graphs():
    verifier = get_verifier(load_config().support)

    assert isinstance(verifier, CombinedVerifier) and verifier.offline.int8 and verifier.model.int8


def test_a_restated_fact_is_supported_and_an_unrelated_claim_is_not(combined):
    restated, unrelated = combined.probabilities([RESTATED, UNRELATED])

    assert restated > combined.threshold("medium") > unrelated


def test_where_the_cross_encoder_reads_the_score_is_the_fitted_blend_of_the_two_verifiers(combined):
    pairs = [RESTATED, UNRELATED]
    trees = combined.offline.probabilities(pairs)
    read = combined.uncertain(np.asarray(trees))
    model = np.asarray(combined.model.probabilities(pairs))

    scores = np.asarray(combined.probabilities(pairs))

    assert read.any()
    assert scores[read] == pytest.approx(blend(trees, model, combined.weights)[read])


def test_the_blend_rises_with_either_verifiers_score(combined):
    low, high = np.array([0.2]), np.array([0.8])

    assert blend(high, low, combined.weights) > blend(low, low, combined.weights)
    assert blend(low, high, combined.weights) > blend(low, low, combined.weights)


def test_thresholds_per_risk_come_from_its_parameters(tmp_path):
    params = tmp_path / "combined.json"
    params.write_text(json.dumps({"weights": {"intercept": 0.0, "offline": 1.0, "support_model": 1.0},
                                  "thresholds": {"medium": {"threshold": 0.4}, "high": {"threshold": 0.6}}}))

    verifier = CombinedVerifier(params)

    assert (verifier.threshold("medium"), verifier.threshold("high"), verifier.threshold("low")) == (0.4, 0.6, 0.5)


def test_missing_parameters_name_the_fit_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="guard.training.fit_blend"):
        CombinedVerifier(tmp_path / "combined.json")


def test_a_fit_that_would_weigh_a_verifier_negatively_is_refused():
    rng = np.random.default_rng(0)
    faithful = rng.random(400) < 0.5
    agrees = np.where(faithful, 0.8, 0.2) + rng.normal(0, 0.05, 400)
    disagrees = np.where(faithful, 0.2, 0.8) + rng.normal(0, 0.05, 400)

    with pytest.raises(ValueError, match="negative weight"):
        fit_weights(np.clip(agrees, 0.01, 0.99), np.clip(disagrees, 0.01, 0.99), faithful, np.array(["f"] * 400))


class _CountingModel:
    """Stands in for the cross-encoder where a test counts what it is asked to read."""

    def __init__(self) -> None:
        self.read: list[tuple[str, list[str]]] = []

    def predict(self, pairs, questions):  # noqa: ANN001, ANN201 - the SupportModelVerifier call
        self.read += pairs
        return [0.5] * len(pairs)


class _FixedTrees:
    def __init__(self, scores: list[float]) -> None:
        self.scores = scores

    def probabilities(self, pairs):  # noqa: ANN001, ANN201
        return np.array(self.scores[: len(pairs)])


def _cascade_params(tmp_path, band) -> str:  # noqa: ANN001
    path = tmp_path / "combined.json"
    path.write_text(json.dumps({"weights": {"intercept": 0.0, "offline": 1.0, "support_model": 1.0}, "thresholds": {},
                                "cascade": {"band": band, "model_from_trees": {"intercept": 0.0, "slope": 1.0}}}))
    return str(path)


def test_the_cross_encoder_reads_only_pairs_the_trees_are_unsure_of(tmp_path):
    model = _CountingModel()
    verifier = CombinedVerifier(_cascade_params(tmp_path, [0.2, 0.8]), offline=_FixedTrees([0.05, 0.5, 0.95]), model=model)

    verifier.probabilities([("sure no", ["e"]), ("unsure", ["e"]), ("sure yes", ["e"])])

    assert model.read == [("unsure", ["e"])]


def test_outside_the_band_the_trees_speak_for_the_cross_encoder_through_the_fitted_map(tmp_path):
    trees = [0.05, 0.95]
    verifier = CombinedVerifier(_cascade_params(tmp_path, [0.2, 0.8]), offline=_FixedTrees(trees), model=_CountingModel())

    scores = verifier.probabilities([("a", ["e"]), ("b", ["e"])])

    # the map is the identity here: the blend reads the trees' score twice
    assert scores == pytest.approx(blend(np.array(trees), np.array(trees), verifier.weights).tolist())


def test_fp32_precision_is_the_configured_verifiers_and_keeps_the_int8_verdicts(combined):
    full = get_verifier(load_config(support={"precision": "fp32"}).support)
    pairs = [RESTATED, UNRELATED]

    assert not full.offline.int8 and not full.model.int8
    assert full.threshold("medium") != combined.threshold("medium")  # fitted on fp32 scores, not int8's
    assert full.probabilities(pairs) == pytest.approx(combined.probabilities(pairs), abs=0.1)
    restated, unrelated = full.probabilities(pairs)
    assert restated > full.threshold("medium") > unrelated
