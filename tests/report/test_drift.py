"""Drift: the last day's tier mix and mean confidence against the rest of the window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guard.config import GuardConfig
from guard.report import compute_report
from guard.report.drift import psi
from tests.report.records import SINCE, UNTIL, request


def window(baseline_mix: dict[str, int], recent_mix: dict[str, int], **report):
    """Requests over six baseline days and one recent day, with the given tier counts."""
    records, i = [], 0
    for mix, start, hours in ((baseline_mix, SINCE, 6 * 24), (recent_mix, UNTIL - timedelta(days=1), 24)):
        tiers = [t for t, n in mix.items() for _ in range(n)]
        for k, tier in enumerate(tiers):
            records.append(request(i, tier, at=start + timedelta(hours=hours * k / len(tiers))))
            i += 1
    return compute_report(records, [], [], since=SINCE, until=UNTIL, config=GuardConfig(report=report))


def test_drift_fires_when_the_recent_tier_mix_shifts():
    result = window({"high": 140, "medium": 40, "low": 20}, {"high": 15, "medium": 15, "low": 20}).drift
    assert result.status == "ALERT"
    assert result.tier_psi > 0.2
    assert result.message.startswith("Tier mix moved (PSI")
    assert result.tier_p_value < 0.001 and "chi-square p < 0.001" in result.message
    assert (result.baseline_requests, result.recent_requests) == (200, 50)
    assert "200 baseline, 50 recent requests" in result.message


def test_a_large_shift_on_few_requests_is_within_chance_and_raises_no_alert():
    # PSI 0.25 between 30 and 30 requests, but a chi-square test cannot tell it from chance (p = 0.16)
    result = window({"high": 20, "medium": 6, "low": 4}, {"high": 13, "medium": 8, "low": 9}).drift
    assert result.tier_psi > 0.2 and result.tier_p_value > 0.05
    assert result.status == "OK"
    assert result.message.startswith("No drift beyond the thresholds or within chance")


def test_drift_stays_quiet_when_the_mix_is_unchanged():
    result = window({"high": 140, "medium": 40, "low": 20}, {"high": 35, "medium": 10, "low": 5}).drift
    assert result.status == "OK"
    assert result.tier_psi < 0.05
    assert result.message.startswith("No drift beyond the thresholds")


def test_a_falling_mean_confidence_is_reported_and_becomes_an_action():
    result = window({"high": 140, "medium": 40, "low": 20}, {"high": 5, "medium": 5, "low": 40})
    assert result.drift.confidence_delta < -0.05
    assert "mean confidence moved" in result.drift.message and "Welch p < 0.001" in result.drift.message
    low, high = result.drift.confidence_delta_interval
    assert low < result.drift.confidence_delta < high < 0
    assert (result.drift.confidence_baseline_n, result.drift.confidence_recent_n) == (200, 50)
    assert any(a.startswith("Drift alert") for a in result.summary.actions)


def test_too_few_requests_give_no_drift_verdict():
    result = window({"high": 10}, {"low": 10}).drift
    assert result.status == "NO DATA"
    assert result.tier_psi is None


def test_psi_is_zero_for_identical_distributions_and_grows_with_the_shift():
    base = {"high": 0.7, "medium": 0.2, "low": 0.1}
    assert psi(base, base) == pytest.approx(0.0)
    assert psi({"high": 0.6, "medium": 0.25, "low": 0.15}, base) < psi({"high": 0.3, "medium": 0.3, "low": 0.4}, base)
