"""The health report aggregated by each backend's SQL: the same figures from SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guard.config import GuardConfig
from guard.report import build_report
from tests.store.conftest import NOW, item, record

CLAIM = [{"text": "Refunds take 30 days.", "score": 0.1}]
SUPPORT_OK = {"support": {"status": "ok", "ms": 2.0}}


@pytest.fixture
def filled(store):
    """Two UTC days: 40 high-tier answers (4 audited: one wrong) and 10 flagged low-tier ones (8 decided)."""
    rows = []
    for i in range(50):
        flagged = i >= 40
        rows.append(record(f"gr_{i}", at=NOW - timedelta(hours=12 + i), tier="low" if flagged else "high",
                           confidence=0.3 if flagged else 0.9, layers=SUPPORT_OK, unsupported=CLAIM if flagged else [],
                           latency_total_ms=1234.5 + i, cost_usd=0.001, model_served="gpt-4o-mini"))
    rows.append(record("gr_failed", at=NOW - timedelta(hours=1), error_class="Timeout", latency_total_ms=30_000.0))
    store.write_requests(rows)
    for i in range(40, 48):  # flags: six right, one wrong, one edited lightly (faithful)
        decision = "rejected" if i < 46 else "approved"
        store.submit_review(item(f"rv_{i}", request_id=f"gr_{i}", at=NOW, expires_in=None))
        if i == 47:
            store.decide_review(f"rv_{i}", "edited", reviewer="ana",
                                final_text="refunds take 30 days")  # case only: faithful
        else:
            store.decide_review(f"rv_{i}", decision, reviewer="ana")
    for i in range(4):  # the audit: one miss among four unflagged answers
        store.submit_review(item(f"rv_a{i}", request_id=f"gr_{i}", tier="high", at=NOW, expires_in=None, audit=True))
        store.decide_review(f"rv_a{i}", "rejected" if i == 0 else "approved", reviewer="ben")
    store.record_feedback("gr_0", rating=1, final_text="Refunds take 30 days.")
    return store


def test_figures_and_intervals_are_computed_by_the_database(filled):
    report = build_report(filled, since=NOW - timedelta(days=7), until=NOW, config=GuardConfig())
    overall = report.overall
    assert (overall.requests, overall.answered, overall.failed) == (51, 50, 1)
    assert (overall.support_checked, overall.flagged, overall.flag_rate) == (50, 10, 0.2)
    assert (overall.flagged_labelled, overall.flagged_wrong, overall.audit_labelled, overall.audit_wrong) == (8, 6, 4, 1)
    assert overall.hallucination_rate == pytest.approx(0.2 * 6 / 8 + 0.8 * 1 / 4)
    assert (overall.reviews_decided, overall.reviews_labelled, overall.accuracy) == (12, 12, pytest.approx(5 / 12))
    assert (overall.ratings, overall.thumbs_up_ratio) == (1, 1.0)
    assert overall.cost_usd == pytest.approx(0.05)
    # latency: 1234.5 ... 1283.5 ms and one 30 s failure, kept to three significant digits above 1 s
    assert overall.latency_known == 51
    assert overall.latency_ms.p50 == 1250.0
    assert report.by_tier["low"].latency_ms.p50 == 1270.0
    assert report.by_model["gpt-4o-mini"].requests == 50 and report.by_model["unknown"].failed == 1
    assert report.health["accuracy"] == "FAIL"  # 5 of 12: 19 %–68 %, wholly below 90 %
    assert report.health["thumbs_up_ratio"] == "TOO FEW DATA"  # one rating


def test_days_are_utc_days_with_their_tiers_and_spend(filled):
    report = build_report(filled, since=NOW - timedelta(days=3), until=NOW, config=GuardConfig())
    days = {d.date.isoformat(): d for d in report.daily}
    assert list(days) == ["2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30"]
    assert sum(d.requests for d in report.daily) == 51
    assert days["2026-11-29"].requests == 24  # 00:00 ... 23:00 UTC on the 29th
    assert days["2026-11-30"].requests == 2  # 00:00 UTC and the failed call
    assert days["2026-11-30"].tiers == {"high": 1, "medium": 0, "low": 0}
    assert days["2026-11-29"].tiers == {"high": 24, "medium": 0, "low": 0}
    assert days["2026-11-28"].cost_usd == pytest.approx(0.001 * 24)


def test_drift_reads_both_windows_from_the_database(filled):
    report = build_report(filled, since=NOW - timedelta(days=7), until=NOW, config=GuardConfig())
    # the last day starts at 29 Nov 12:00: 13 answers and the failed call are recent
    assert (report.drift.baseline_requests, report.drift.recent_requests) == (37, 14)
    assert (report.drift.confidence_baseline_n, report.drift.confidence_recent_n) == (37, 13)
