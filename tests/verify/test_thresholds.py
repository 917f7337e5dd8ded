"""The operating point per risk level: chosen on held-out scores, and overridden by support.threshold."""

from __future__ import annotations

import numpy as np

from guard.config import load_config
from guard.verify import support_threshold
from guard.verify.base import SupportScores, SupportVerifier
from guard.verify.thresholds import HIGH_RISK_RECALL, choose

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


def test_high_risk_flags_at_least_ninety_percent_of_unsupported_answers():
    chosen = choose(SCORES, FAITHFUL, FILES)
    assert chosen["high"]["recall_unsupported"] >= HIGH_RISK_RECALL
    assert chosen["critical"] == chosen["high"]


def test_high_risk_is_never_less_strict_than_medium():
    chosen = choose(SCORES, FAITHFUL, FILES)
    assert chosen["high"]["threshold"] >= chosen["medium"]["threshold"]
    assert chosen["medium"]["recall_unsupported"] < chosen["high"]["recall_unsupported"]


def test_medium_risk_takes_the_best_balanced_accuracy():
    chosen = choose(SCORES, FAITHFUL, FILES)["medium"]
    best = chosen["recall_unsupported"] + chosen["recall_supported"]
    for t in np.linspace(0.05, 0.95, 19):
        flagged = SCORES < t
        other = (flagged & ~FAITHFUL).sum() / 200 + (~flagged & FAITHFUL).sum() / 200
        assert other <= best + 1e-9


def test_the_verifiers_threshold_for_the_products_risk_is_used_when_none_is_set():
    verifier = FixedThresholds()
    assert support_threshold(load_config(product={"risk": "medium"}), verifier) == 0.42
    assert support_threshold(load_config(product={"risk": "high"}), verifier) == 0.77


def test_an_explicit_support_threshold_wins():
    assert support_threshold(load_config(product={"risk": "high"}, support={"threshold": 0.3}), FixedThresholds()) == 0.3
