"""The layered health check: figures, targets and PASS / WARN / FAIL, overall and by tier."""

from __future__ import annotations

import pytest

from guard.config import GuardConfig
from guard.report import compute_report
from tests.report.records import SINCE, UNTIL, feedback, request, review


def report(requests, fb=(), reviews=(), **config):
    return compute_report(list(requests), list(fb), list(reviews), since=SINCE, until=UNTIL,
                          config=GuardConfig(**config))


@pytest.mark.parametrize(("hallucinated", "status"), [(8, "PASS"), (11, "WARN"), (20, "FAIL")])
def test_hallucination_rate_is_graded_against_its_target_with_a_warning_margin(hallucinated, status):
    # target 5 %, margin 10 % of it: 4 % passes, 5.5 % warns, 10 % fails
    records = [request(i, unsupported=[{"text": "x", "score": 0.1}] if i < hallucinated else []) for i in range(200)]
    result = report(records)
    assert result.hallucination_rate == pytest.approx(hallucinated / 200)
    assert result.health["hallucination_rate"] == status


@pytest.mark.parametrize(("ups", "status"), [(17, "PASS"), (15, "WARN"), (12, "FAIL")])
def test_thumbs_up_ratio_must_reach_its_target(ups, status):
    records = [request(i) for i in range(20)]
    ratings = [feedback(i, rating=1 if i < ups else -1) for i in range(20)]
    assert report(records, ratings).health["thumbs_up_ratio"] == status


def test_a_metric_without_data_is_null_and_says_so_never_zero():
    result = report([request(i) for i in range(10)])
    assert result.thumbs_up_ratio is None and result.edit_rate is None
    assert result.health["thumbs_up_ratio"] == "NO DATA"
    assert any("rating" in action for action in result.summary.actions)


def test_edit_rate_is_computed_per_tier_from_feedback_and_review_decisions():
    records = [request(i, "low") for i in range(4)] + [request(i, "high") for i in range(4, 8)]
    fb = [feedback(0, final_text="changed", edited=True, edit_distance=0.4),
          feedback(1, final_text="changed", edited=True, edit_distance=0.2),
          feedback(4, final_text="same", edited=False, edit_distance=0.0),
          feedback(5, final_text="same", edited=False, edit_distance=0.0)]
    decisions = [review(2, "edited", edit_distance=0.3), review(3, "approved"),
                 review(6, "approved", tier="high"), review(7, "edited", tier="high", edit_distance=0.6)]
    result = report(records, fb, decisions)
    assert result.by_tier["low"].edit_rate == pytest.approx(0.75)
    assert result.by_tier["high"].edit_rate == pytest.approx(0.25)
    assert result.by_tier["low"].mean_edit_distance == pytest.approx((0.4 + 0.2 + 0.3 + 0.0) / 4)
    assert result.by_tier["medium"].edit_rate is None
    assert result.edit_rate == pytest.approx(0.5)
    assert result.tier_health["low"]["edit_rate"] == "FAIL" and result.tier_health["high"]["edit_rate"] == "PASS"


def test_users_final_text_wins_over_the_reviewers_decision():
    result = report([request(0, "low")], [feedback(0, final_text="as sent", edited=False, edit_distance=0.0)],
                    [review(0, "edited", edit_distance=0.5)])
    assert result.edit_rate == 0.0


def test_a_missed_target_becomes_an_action_naming_the_worst_tier():
    records = [request(i, "low") for i in range(5)] + [request(i, "high") for i in range(5, 10)]
    fb = [feedback(i, final_text="x", edited=i < 5, edit_distance=0.5 if i < 5 else 0.0) for i in range(10)]
    actions = report(records, fb).summary.actions
    assert any(a.startswith("Edit rate above target") and "look at the low tier" in a for a in actions)


def test_summary_counts_targets_met_among_those_with_data():
    records = [request(i, review_id="rv_x" if i < 8 else None) for i in range(10)]  # deflection 20 %: fails
    summary = report(records).summary
    # hallucination, latency p95 pass; deflection fails; thumbs-up, edit rate, accuracy have no data
    assert summary.status == "2 of 3 on target (3 without data yet)"
    assert any(a.startswith("Deflection below target") for a in summary.actions)


def test_deflection_counts_answers_that_reached_no_person_and_no_failures():
    records = [request(0), request(1, review_id="rv_1"), request(2, tier=None, error_class="Timeout"), request(3)]
    result = report(records)
    assert result.overall.deflection == pytest.approx(0.5)
    assert result.overall.failed == 1


def test_accuracy_uses_the_product_specs_target_and_reviewers_decisions():
    records = [request(i, "low") for i in range(10)]
    decisions = [review(i, "approved" if i < 7 else "rejected") for i in range(10)]
    result = report(records, (), decisions, product={"accuracy_target": 0.9})
    assert result.overall.accuracy == pytest.approx(0.7)
    assert result.overall.reviewer_rejection_rate == pytest.approx(0.3)
    assert result.health["accuracy"] == "FAIL"


def test_cost_per_answer_and_per_resolved_answer_include_samples_and_verification():
    records = [request(i, cost_usd=0.002, samples_cost_usd=0.001, verification_cost_usd=0.001) for i in range(4)]
    fb = [feedback(0, resolved=True), feedback(1, resolved=False)]
    overall = report(records, fb).overall
    assert overall.cost_per_answer_usd == pytest.approx(0.004)
    assert overall.cost_per_resolved_usd == pytest.approx(0.016)
    assert overall.resolution_rate == pytest.approx(0.5)


def test_unknown_prices_give_no_cost_rather_than_zero():
    assert report([request(0, cost_usd=None)]).cost_usd is None


def test_latency_target_follows_the_products_latency_budget():
    records = [request(i, latency_total_ms=2500.0) for i in range(20)]
    assert report(records).health["latency_p95_ms"] == "PASS"
    assert report(records, product={"max_latency_s": 2.0}).health["latency_p95_ms"] == "FAIL"


def test_records_outside_the_window_are_left_out():
    assert report([request(0, at=SINCE - (UNTIL - SINCE)), request(1)]).requests == 1
