import itertools

import pytest

from guard.confidence import ConfidenceModel
from guard.config import TiersConfig
from guard.tiers import tier_for

GRID = [0.0, 0.05, 0.2, 0.4, 0.5, 0.6, 0.8, 0.95, 1.0]
SIGNALS = ("support", "citations", "consistency", "retrieval")


@pytest.fixture(scope="module")
def confidence() -> ConfidenceModel:
    return ConfidenceModel()


@pytest.mark.parametrize("signal", SIGNALS)
def test_confidence_never_falls_when_a_signal_rises(confidence, signal):
    others = [s for s in SIGNALS if s != signal]
    for background in itertools.product([0.1, 0.5, 0.9], repeat=len(others)):
        values = [confidence({**dict(zip(others, background)), signal: v}) for v in GRID]
        assert values == sorted(values), (signal, background)


def test_confidence_rises_with_support(confidence):
    assert confidence({"support": 0.9}) > confidence({"support": 0.5}) > confidence({"support": 0.1})


def test_no_signal_means_no_confidence(confidence):
    assert confidence({}) is None
    assert confidence({"unknown_layer": 0.9}) is None


def test_any_subset_of_signals_gives_a_probability(confidence):
    for r in range(1, len(SIGNALS) + 1):
        for subset in itertools.combinations(SIGNALS, r):
            assert 0 < confidence({s: 0.7 for s in subset}) < 1


def test_broken_signal_values_are_ignored(confidence):
    assert confidence({"support": 0.8, "citations": float("nan")}) == confidence({"support": 0.8})


def test_a_verifier_with_its_own_fit_gets_its_own_support_slope_and_intercept(tmp_path):
    path = tmp_path / "confidence.json"
    path.write_text('{"intercept": 0.4, "signals": {"support": {"slope": 0.5}, "token_confidence": {"slope": 0.5}}, '
                    '"support_by_verifier": {"offline": {"intercept": 0.0, "slope": 0.9}}}')

    trees, other = ConfidenceModel(path, verifier="offline"), ConfidenceModel(path, verifier="llm_judge")

    assert (trees.intercept, trees.slopes["support"], trees.slopes["token_confidence"]) == (0.0, 0.9, 0.5)
    assert (other.intercept, other.slopes["support"]) == (0.4, 0.5)


def test_a_fit_on_fp32_scores_serves_fp32_and_the_default_precision_keeps_the_verifiers_own(tmp_path):
    path = tmp_path / "confidence.json"
    path.write_text('{"intercept": 0.4, "signals": {"support": {"slope": 0.5}}, "support_by_verifier": '
                    '{"combined-fp32": {"intercept": 0.1, "slope": 0.7}}}')

    fp32, int8 = (ConfidenceModel(path, verifier="combined", precision=p) for p in ("fp32", "int8"))

    assert (fp32.intercept, fp32.slopes["support"]) == (0.1, 0.7)
    assert (int8.intercept, int8.slopes["support"]) == (0.4, 0.5)


def test_negative_slopes_are_refused(tmp_path):
    path = tmp_path / "confidence.json"
    path.write_text('{"intercept": 0, "signals": {"support": {"slope": -1}}}')
    with pytest.raises(ValueError, match="negative"):
        ConfidenceModel(path)


@pytest.mark.parametrize(("value", "tier"), [(None, "low"), (0.0, "low"), (0.5999, "low"), (0.60, "medium"),
                                             (0.8499, "medium"), (0.85, "high"), (1.0, "high")])
def test_tier_boundaries(value, tier):
    assert tier_for(value, TiersConfig()) == tier


def test_tier_thresholds_are_configurable():
    assert tier_for(0.7, TiersConfig(high=0.7, medium=0.5)) == "high"


@pytest.mark.parametrize("confidence", [0.2, 0.7, 0.95])
def test_an_answer_with_an_unsupported_claim_is_low_whatever_its_confidence(confidence):
    assert tier_for(confidence, TiersConfig(), flagged=True) == "low"


@pytest.mark.parametrize(("confidence", "tier"), [(None, "medium"), (0.2, "medium"), (0.7, "medium"), (0.95, "high")])
def test_an_answer_that_passed_the_support_check_is_at_least_medium(confidence, tier):
    assert tier_for(confidence, TiersConfig(), flagged=False) == tier


def test_an_answer_that_passed_the_check_but_is_very_unsure_is_low():
    assert tier_for(0.19, TiersConfig(), flagged=False) == "low"
    assert tier_for(0.3, TiersConfig(unsure=0.4), flagged=False) == "low"
