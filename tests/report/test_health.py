"""The layered health check: figures, intervals and verdicts the data settles, overall and by tier."""

from __future__ import annotations

import pytest

from guard.config import GuardConfig
from guard.report import compute_report
from guard.report.stats import wilson
from tests.report.records import SINCE, UNTIL, feedback, request, review


def report(requests, fb=(), reviews=(), **config):
    return compute_report(list(requests), list(fb), list(reviews), since=SINCE, until=UNTIL,
                          config=GuardConfig(**config))


def rated(n: int, ups: int, **config):
    """``n`` answers, ``ups`` of them rated thumbs-up and the rest thumbs-down (target: at least 80 %)."""
    return report([request(i) for i in range(n)], [feedback(i, rating=1 if i < ups else -1) for i in range(n)],
                  **config)


def line(result, key):
    return next(m for m in result.metrics if m.key == key)


def test_no_ratings_is_no_data_never_zero():
    result = report([request(i) for i in range(10)])
    assert result.thumbs_up_ratio is None and result.edit_rate is None
    assert result.health["thumbs_up_ratio"] == "NO DATA"
    assert line(result, "thumbs_up_ratio").interval == (None, None)
    assert any("rating" in action for action in result.summary.actions)


@pytest.mark.parametrize(("n", "ups", "interval", "status"), [
    (1, 1, (0.2065, 1.0), "TOO FEW DATA"),
    (20, 20, (0.8389, 1.0), "PASS"),  # the whole interval is at least 80 %
    (20, 19, (0.7639, 0.9911), "TOO FEW DATA"),  # 95 % but the interval reaches below 80 %
    (20, 10, (0.2993, 0.7007), "FAIL"),  # the whole interval is below, 50 % is beyond the 10 % margin
    (1000, 850, (0.8265, 0.8708), "PASS"),
    (1000, 820, (0.7950, 0.8426), "TOO FEW DATA"),
    (1000, 760, (0.7326, 0.7854), "WARN"),  # a settled miss, 76 % within 10 % of the 80 % target
    (1000, 600, (0.5693, 0.6299), "FAIL"),
])
def test_a_share_is_graded_by_its_wilson_interval(n, ups, interval, status):
    thumbs = line(rated(n, ups), "thumbs_up_ratio")
    assert thumbs.value == pytest.approx(ups / n)
    assert thumbs.interval == pytest.approx(interval, abs=1e-4)
    assert (thumbs.n, thumbs.status) == (n, status)


def test_an_interval_ending_exactly_on_the_target_meets_it():
    target = wilson(20, 20)[0]
    assert rated(20, 20, report={"thumbs_up_min": target}).health["thumbs_up_ratio"] == "PASS"


def test_an_interval_starting_exactly_on_the_target_is_no_settled_miss():
    target = wilson(10, 20)[1]  # the top of 50 % of 20's interval, 0.7007
    assert rated(20, 10, report={"thumbs_up_min": target}).health["thumbs_up_ratio"] == "TOO FEW DATA"


def test_a_rate_exactly_on_its_target_stays_open_and_says_why():
    result = rated(1000, 800)
    thumbs = line(result, "thumbs_up_ratio")
    assert (thumbs.status, thumbs.more_needed) == ("TOO FEW DATA", None)
    assert any(a.startswith("Thumbs-up ratio sits on its target") for a in result.summary.actions)


@pytest.mark.parametrize("decision", ["approved", "rejected"])
@pytest.mark.parametrize("target", [0.05, 0.2, 0.5, 0.8, 0.95])
def test_one_decided_review_never_yields_pass_or_fail(decision, target):
    result = report([request(0, "low")], (), [review(0, decision)], product={"accuracy_target": target})
    assert result.health["accuracy"] == "TOO FEW DATA"
    assert result.tier_health["low"]["accuracy"] == "TOO FEW DATA"


def test_too_few_data_says_how_many_more_items_would_settle_it():
    result = rated(20, 19)
    assert line(result, "thumbs_up_ratio").more_needed == 8  # 28 ratings at 95 %: Wilson from 0.8021
    assert "Collect about 8 more ratings to know thumbs-up ratio (now 95.0%, 95 % 76.4%–99.1%, from 20)." \
        in result.summary.actions


def test_latency_percentiles_are_graded_by_their_order_statistics():
    records = [request(i, latency_total_ms=100.0 * (i + 1)) for i in range(20)]  # 100 ms ... 2 s
    p95 = line(report(records, product={"max_latency_s": 1.5}), "latency_p95_ms")
    # p95 of 20 values: 1905 ms (numpy's interpolation); its interval starts at the 17th value and has no top
    assert (p95.value, p95.interval) == (1905.0, (1700.0, None))
    assert p95.status == "FAIL"  # even the interval's bottom is above 1.5 s
    open_ = line(report(records), "latency_p95_ms")  # target 5 s: nothing bounds the p95 from above yet
    assert (open_.status, open_.more_needed) == ("TOO FEW DATA", 52)  # 72 values have a 64th-or-later order statistic


def test_latency_target_follows_the_products_latency_budget():
    records = [request(i, latency_total_ms=2500.0) for i in range(100)]
    assert report(records).health["latency_p95_ms"] == "PASS"
    assert report(records, product={"max_latency_s": 2.0}).health["latency_p95_ms"] == "FAIL"


def test_edit_rate_is_computed_per_tier_from_feedback_and_review_decisions():
    records = [request(i, "low") for i in range(4)] + [request(i, "high") for i in range(4, 8)]
    fb = [feedback(0, final_text="changed", edited=True, edit_distance=0.4),
          feedback(1, final_text="changed", edited=True, edit_distance=0.2),
          feedback(4, final_text="same", edited=False, edit_distance=0.0),
          feedback(5, final_text="same", edited=False, edit_distance=0.0)]
    decisions = [review(2, "edited", edit_distance=0.3, final_text="changed"), review(3, "approved"),
                 review(6, "approved", tier="high"), review(7, "edited", tier="high", edit_distance=0.6, final_text="x")]
    result = report(records, fb, decisions)
    assert result.by_tier["low"].edit_rate == pytest.approx(0.75)
    assert result.by_tier["high"].edit_rate == pytest.approx(0.25)
    assert result.by_tier["low"].mean_edit_distance == pytest.approx((0.4 + 0.2 + 0.3 + 0.0) / 4)
    assert result.by_tier["medium"].edit_rate is None
    assert result.edit_rate == pytest.approx(0.5)
    assert result.tier_health["low"]["edit_rate"] == result.tier_health["high"]["edit_rate"] == "TOO FEW DATA"


def test_users_final_text_wins_over_the_reviewers_decision():
    result = report([request(0, "low")], [feedback(0, final_text="as sent", edited=False, edit_distance=0.0)],
                    [review(0, "edited", edit_distance=0.5, final_text="x")])
    assert result.edit_rate == 0.0


def test_a_settled_miss_becomes_an_action_naming_the_worst_tier():
    records = [request(i, "low") for i in range(40)] + [request(i, "high") for i in range(40, 80)]
    fb = [feedback(i, final_text="x", edited=i < 40, edit_distance=0.5 if i < 40 else 0.0) for i in range(80)]
    actions = report(records, fb).summary.actions
    assert any(a.startswith("Edit rate above target (50.0%, 95 % 39.3%–60.7%, vs ≤ 30.0%)")
               and "look at the low tier" in a for a in actions)


def test_summary_counts_on_target_off_target_and_too_few_data_apart():
    records = [request(i, review_id="rv_x" if i < 80 else None) for i in range(100)]  # deflection 20 %: fails
    summary = report(records).summary
    # latency passes; deflection fails; the hallucination rate has no labels; thumbs-up, edit rate, accuracy: no data
    assert summary.status == "1 on target, 1 off target, 1 too few data (3 without data yet)"
    assert (summary.on_target, summary.off_target, summary.too_few_data, summary.no_data) == (1, 1, 1, 3)
    assert any(a.startswith("Deflection below target") for a in summary.actions)
    assert any(a.startswith("Decide about 10 more review and audit items to know hallucination rate")
               for a in summary.actions)


def test_deflection_counts_answers_that_reached_no_person_and_no_failures():
    records = [request(0), request(1, review_id="rv_1"), request(2, tier=None, error_class="Timeout"), request(3)]
    result = report(records)
    assert result.overall.deflection == pytest.approx(0.5)
    assert result.overall.failed == 1


def test_accuracy_uses_the_product_specs_target_and_reviewers_labels():
    records = [request(i, "low") for i in range(10)]
    decisions = [review(i, "approved" if i < 7 else "rejected") for i in range(10)]
    result = report(records, (), decisions, product={"accuracy_target": 0.9})
    assert result.overall.accuracy == pytest.approx(0.7)
    assert result.overall.reviewer_rejection_rate == pytest.approx(0.3)
    assert result.health["accuracy"] == "FAIL"  # 7 of 10: 39.7 %–89.2 %, wholly below 90 %


def test_cost_per_answer_and_per_resolved_answer_include_samples_and_verification():
    records = [request(i, cost_usd=0.002, samples_cost_usd=0.001, verification_cost_usd=0.001) for i in range(4)]
    fb = [feedback(0, resolved=True), feedback(1, resolved=False)]
    overall = report(records, fb).overall
    assert overall.cost_per_answer_usd == pytest.approx(0.004)
    assert overall.cost_per_resolved_usd == pytest.approx(0.016)
    assert overall.resolution_rate == pytest.approx(0.5)


def test_unknown_prices_give_no_cost_rather_than_zero():
    assert report([request(0, cost_usd=None)]).cost_usd is None


def test_records_outside_the_window_are_left_out():
    assert report([request(0, at=SINCE - (UNTIL - SINCE)), request(1)]).requests == 1


def test_a_window_beyond_the_cap_is_refused():
    from guard.report.build import WindowTooLong

    with pytest.raises(WindowTooLong, match="max_window_days"):
        compute_report([], [], [], since=UNTIL - (UNTIL - SINCE) * 20, until=UNTIL, config=GuardConfig())


def test_the_tiers_are_said_to_sort_answers_only_when_the_edit_rates_intervals_part():
    def contrast(n: int) -> str:
        records = [request(i, "low") for i in range(n)] + [request(i, "high") for i in range(n, 2 * n)]
        fb = [feedback(i, final_text="x", edited=i < n // 2 or i == n, edit_distance=0.5) for i in range(2 * n)]
        return next(h for h in report(records, fb).summary.highlights if h.startswith("Low-tier drafts"))

    assert contrast(4).endswith("too few outcomes yet to tell the tiers apart (their intervals overlap).")
    assert contrast(100).endswith("the tiers sort answers as intended.")
