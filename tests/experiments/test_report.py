"""The experiment report's verdicts, on hand-made traffic."""

from __future__ import annotations

from datetime import timedelta

from guard.experiments import definitions
from guard.experiments.report import build_experiment_report
from tests.experiments.conftest import NOW, write_traffic


def _report(store, config):
    definitions.seed(store, config)
    return build_experiment_report(store, "concise-prompt", since=NOW - timedelta(days=1), until=NOW + timedelta(minutes=1))


def test_a_variant_users_edit_far_less_is_shipped(store, config):
    write_traffic(store, edit_rates={"control": 0.5, "concise": 0.2})
    report = _report(store, config)
    assert report.verdict == "ship concise"
    assert report.variants["concise"].outcome == "better"


def test_a_variant_users_edit_far_more_keeps_control(store, config):
    write_traffic(store, edit_rates={"control": 0.2, "concise": 0.5})
    assert _report(store, config).verdict == "keep control"


def test_a_better_variant_that_breaks_a_guardrail_is_not_shipped(store, config):
    write_traffic(store, edit_rates={"control": 0.5, "concise": 0.2}, unsupported={"control": 0.0, "concise": 0.4})
    report = _report(store, config)
    assert report.variants["concise"].guardrails["hallucination_rate"].state == "fail"
    assert report.verdict == "keep control"


def test_a_slower_variant_fails_a_relative_latency_guardrail(store, config):
    write_traffic(store, edit_rates={"control": 0.3, "concise": 0.3}, latency={"control": 800.0, "concise": 1600.0})
    report = _report(store, config)
    assert report.variants["concise"].guardrails["latency_p95_ms"].state == "fail"


def test_no_difference_is_inconclusive_with_intervals_that_cover_zero(store, config):
    write_traffic(store, edit_rates={"control": 0.3, "concise": 0.3}, per_variant=60)
    report = _report(store, config)
    assert report.verdict == "inconclusive"
    low, high = report.variants["concise"].difference["edit_rate"].ci95
    assert low < 0 < high


def test_a_small_real_difference_is_inconclusive_and_names_the_requests_that_would_settle_it(store, config):
    write_traffic(store, edit_rates={"control": 0.40, "concise": 0.30}, per_variant=100, seed=3)
    report = _report(store, config)
    assert report.verdict == "inconclusive"
    assert report.more_requests is not None and report.more_requests > 0
    assert f"about {report.more_requests} more requests" in report.reason


def test_requests_served_after_the_end_do_not_count(store, config):
    write_traffic(store, edit_rates={"control": 0.5, "concise": 0.2})
    definitions.seed(store, config)
    ended = definitions.end(store, "concise-prompt", "concise")
    write_traffic(store, edit_rates={"concise": 1.0}, at=ended.ended_at + timedelta(seconds=1), prefix="after")

    report = build_experiment_report(store, "concise-prompt", since=NOW - timedelta(days=1),
                                     until=NOW + timedelta(hours=1))

    assert (report.status, report.winner) == ("ended", "concise")
    assert report.variants["concise"].requests == 150
