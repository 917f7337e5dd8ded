"""Drift: has the mix of confidence tiers, or the mean confidence, moved lately?

The recent window (the last ``report.drift_window_days`` of the report's
window) is compared with the rest of it. The tier mix is compared with the
population stability index (PSI), the usual measure for a shifted categorical
distribution: below 0.1 little change, 0.1-0.25 moderate, above 0.25 large.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta

from guard.config import ReportConfig
from guard.report.figures import mean
from guard.report.model import Drift, Window
from guard.store.models import RequestRecord

_FLOOR = 1e-4  # stands in for an empty bucket, so PSI stays finite


def psi(recent: dict[str, float], baseline: dict[str, float]) -> float:
    """Population stability index between two distributions over the same categories."""
    total = 0.0
    for key in set(recent) | set(baseline):
        r, b = max(recent.get(key, 0.0), _FLOOR), max(baseline.get(key, 0.0), _FLOOR)
        total += (r - b) * math.log(r / b)
    return total


def tier_mix(records: list[RequestRecord], tiers: list[str]) -> dict[str, float]:
    """Each tier's share of the records that have one."""
    counts = Counter(r.tier for r in records if r.tier)
    n = sum(counts.values())
    return {t: counts[t] / n for t in tiers} if n else {}


def drift(records: list[RequestRecord], *, since: datetime, until: datetime, tiers: list[str],
          config: ReportConfig) -> Drift:
    """Compare the recent window with the baseline before it and say whether it moved beyond the thresholds."""
    split = until - timedelta(days=config.drift_window_days)
    if split <= since:  # the report's window is no longer than the drift window: compare its two halves
        split = since + (until - since) / 2
    recent = [r for r in records if r.created_at >= split]
    baseline = [r for r in records if r.created_at < split]
    result = Drift(status="NO DATA", message="", recent=Window(since=split, until=until),
                   baseline=Window(since=since, until=split), recent_requests=len(recent),
                   baseline_requests=len(baseline), tier_mix_recent=tier_mix(recent, tiers),
                   tier_mix_baseline=tier_mix(baseline, tiers),
                   confidence_recent=mean(r.confidence for r in recent if r.confidence is not None),
                   confidence_baseline=mean(r.confidence for r in baseline if r.confidence is not None))
    if min(len(recent), len(baseline)) < config.drift_min_requests:
        result.message = (f"Not enough requests for a drift check ({len(recent)} recent, {len(baseline)} baseline; "
                          f"{config.drift_min_requests} needed in each).")
        return result
    if result.tier_mix_recent and result.tier_mix_baseline:
        result.tier_psi = round(psi(result.tier_mix_recent, result.tier_mix_baseline), 4)
    if result.confidence_recent is not None and result.confidence_baseline is not None:
        result.confidence_delta = round(result.confidence_recent - result.confidence_baseline, 4)
    alerts = []
    if result.tier_psi is not None and result.tier_psi > config.drift_psi_threshold:
        alerts.append(f"tier mix moved (PSI {result.tier_psi:.2f} > {config.drift_psi_threshold:.2f}: "
                      + ", ".join(f"{t} {result.tier_mix_baseline[t]:.0%} → {result.tier_mix_recent[t]:.0%}"
                                  for t in tiers) + ")")
    if result.confidence_delta is not None and abs(result.confidence_delta) > config.drift_confidence_delta:
        alerts.append(f"mean confidence moved {result.confidence_baseline:.2f} → {result.confidence_recent:.2f}")
    if alerts:
        result.status = "ALERT"
        text = "; ".join(alerts)
        result.message = text[0].upper() + text[1:] + "."
    else:
        psi_text = "n/a" if result.tier_psi is None else f"{result.tier_psi:.2f}"
        conf_text = ("" if result.confidence_delta is None else
                     f", mean confidence {result.confidence_baseline:.2f} → {result.confidence_recent:.2f}")
        result.status = "OK"
        result.message = f"No drift beyond the thresholds: tier-mix PSI {psi_text}{conf_text}."
    return result
