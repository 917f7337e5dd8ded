"""The operating point per risk level: chosen on held-out scores, and overridden by support.threshold."""

from __future__ import annotations

import numpy as np

from guard.config import load_config
from guard.verify import support_threshold
from guard.verify.base import SupportScores, SupportVerifier
from guard.verify.thresholds import CATCH_FLOOR, FALSE_FLAG_CAP, choose

# Faithful answers score high, hallucinated ones low with a tail of confident mistakes.
RNG = np.random.default_rng(0)
FAITHFUL = np.r_[np.ones(200, bool), np.zeros(200, bool)]
SCORES = np.r_[RNG.beta(5, 2, 200), RNG.beta(2, 4, 200)]
FILES = np.array(["a"] * 100 + ["b"] * 100 + ["a"] * 100 + ["b"] * 100)


class FixedThresholds(SupportVerifier):
    name = "fixed"
    thresholds = {"medium": 0.42, "high": 0.77}

    async def _score(self, pairs):
        return SupportScores([0.5] * len(pairs))


def test_high_risk_catches_at_least_the_floor_of_hallucinated_answers_on_every_file():
    chosen = choose(SCORES, FAITHFUL, FILES)
    for f in ("a", "b"):
        bad = (FILES == f) & ~FAITHFUL
        assert (SCORES[bad] < chosen["high"]["threshold"]).mean() >= CATCH_FLOOR["high"]
    assert chosen["critical"] == chosen["high"]


def test_medium_risk_flags_at_most_the_cap_of_faithful_answers_on_every_file():
    chosen = choose(SCORES, FAITHFUL, FILES)
    for f in ("a", "b"):
        good = (FILES == f) & FAITHFUL
        assert (SCORES[good] < chosen["medium"]["threshold"]).mean() <= FALSE_FLAG_CAP["medium"]


def test_medium_risk_is_the_highest_threshold_within_the_cap():
    threshold = choose(SCORES, FAITHFUL, FILES)["medium"]["threshold"]
    higher = SCORES[SCORES > threshold].min()  # the next decision the data allows flags one more answer
    worst = max((SCORES[(FILES == f) & FAITHFUL] <= higher).mean() for f in ("a", "b"))
    assert worst > FALSE_FLAG_CAP["medium"]


def test_high_risk_is_never_less_strict_than_medium():
    chosen = choose(SCORES, FAITHFUL, FILES)
    assert chosen["high"]["threshold"] >= chosen["medium"]["threshold"]
    assert chosen["low"]["threshold"] <= chosen["medium"]["threshold"]


def test_the_verifiers_threshold_for_the_products_risk_is_used_when_none_is_set():
    verifier = FixedThresholds()
    assert support_threshold(load_config(product={"risk": "medium"}), verifier) == 0.42
    assert support_threshold(load_config(product={"risk": "high"}), verifier) == 0.77


def test_an_explicit_support_threshold_wins():
    assert support_threshold(load_config(product={"risk": "high"}, support={"threshold": 0.3}), FixedThresholds()) == 0.3
