"""The hallucination rate: estimated from reviewers' labels and an audit sample, never guard's own flag rate."""

from __future__ import annotations

import numpy as np
import pytest

from guard.config import GuardConfig
from guard.report import compute_report
from tests.report.records import SINCE, UNTIL, request, review

CLAIM = [{"text": "Refunds take 14 days.", "score": 0.1}]


def report(requests, reviews=()):
    return compute_report(list(requests), [], list(reviews), since=SINCE, until=UNTIL, config=GuardConfig())


def test_the_flag_rate_is_reported_apart_and_never_stands_in_for_the_estimate():
    result = report([request(i, unsupported=CLAIM if i < 30 else []) for i in range(100)])
    assert result.flag_rate == pytest.approx(0.3)
    assert result.hallucination_rate is None
    assert result.health["hallucination_rate"] == "TOO FEW DATA"
    assert any(a.startswith("Decide about 10 more review and audit items to know hallucination rate")
               for a in result.summary.actions)


def test_the_estimate_recovers_a_known_rate_from_flag_precision_and_miss_rate():
    # 3,000 checked answers; guard flags 20 %. A flag is right 60 % of the time (precision) and 5 % of the
    # unflagged answers are wrong too (misses): the true rate is 0.2 · 0.6 + 0.8 · 0.05 = 16 %, the flag rate 20 %.
    rng = np.random.default_rng(7)
    records, reviews, wrong = [], [], 0
    for i in range(3000):
        flagged = rng.random() < 0.2
        hallucinated = rng.random() < (0.6 if flagged else 0.05)
        wrong += hallucinated
        records.append(request(i, "low" if flagged else "high", unsupported=CLAIM if flagged else []))
        reviewed = rng.random() < 0.5 if flagged else rng.random() < 0.1  # half the flags decided; 10 % audited
        if reviewed:
            reviews.append(review(i, "rejected" if hallucinated else "approved", tier="low" if flagged else "high",
                                  audit=not flagged))
    result = report(records, reviews)
    low, high = next(m for m in result.metrics if m.key == "hallucination_rate").interval
    truth = wrong / 3000
    assert result.flag_rate == pytest.approx(0.2, abs=0.02)
    assert result.hallucination_rate == pytest.approx(0.16, abs=0.02)
    assert low < truth < high and low < 0.16 < high
    assert high - low < 0.06


def test_the_estimate_is_exactly_the_flag_weighted_precision_and_miss_rate():
    flagged = [request(i, "low", unsupported=CLAIM) for i in range(20)]
    unflagged = [request(i, "high") for i in range(20, 100)]
    decided = ([review(i, "rejected" if i < 15 else "approved") for i in range(20)]  # precision 75 %
               + [review(i, "rejected" if i < 22 else "approved", tier="high", audit=True) for i in range(20, 60)])
    result = report(flagged + unflagged, decided)  # misses: 2 of 40 audited
    assert result.hallucination_rate == pytest.approx(0.2 * 0.75 + 0.8 * 0.05)
    assert (result.overall.flagged_labelled, result.overall.audit_labelled) == (20, 40)


def test_an_edit_counts_as_a_label_by_how_much_it_changed():
    draft = "Refunds take 14 days from the date we receive the item back in our warehouse."
    records = [request(i, "low", unsupported=CLAIM, answer=draft) for i in range(3)]
    decided = [review(0, "edited", draft=draft, final_text=draft.replace("14", "30").replace("warehouse", "store")),
               review(1, "edited", draft=draft, final_text=draft + " Thanks!"),
               review(2, "edited", draft=draft, final_text="Refunds are not offered.")]
    overall = report(records, decided).overall
    # guard.labels: up to 0.1 of the text changed is faithful, from 0.3 hallucinated, in between no label
    assert (overall.flagged_labelled, overall.flagged_wrong) == (2, 1)


def test_the_estimate_is_given_per_tier_and_per_model():
    records = ([request(i, "low", unsupported=CLAIM) for i in range(10)]
               + [request(i, "high", model_served="other-model") for i in range(10, 20)])
    decided = ([review(i, "rejected") for i in range(10)]
               + [review(i, "approved", tier="high", audit=True) for i in range(10, 20)])
    result = report(records, decided)
    assert result.by_tier["low"].hallucination_rate == 1.0
    assert result.by_tier["high"].hallucination_rate == 0.0
    assert result.by_model["gpt-4o-mini"].hallucination_rate == 1.0
    assert result.by_model["other-model"].hallucination_rate == 0.0
    assert result.hallucination_rate == pytest.approx(0.5)
