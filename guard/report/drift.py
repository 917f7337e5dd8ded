"""Drift: has the mix of confidence tiers, or the mean confidence, moved lately, beyond chance?

The recent window (the last ``report.drift_window_days`` of the report's window) is compared with the
rest of it. A change raises an alert only when it is both large and beyond chance: the tier mix when
its population stability index (PSI: below 0.1 little change, above 0.25 large) passes
``drift_psi_threshold`` and a chi-square test of the tier counts gives p < ``drift_alpha``; the mean
confidence when it moved more than ``drift_confidence_delta`` and Welch's t-test gives p < ``drift_alpha``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from scipy import stats

from guard.config import ReportConfig
from guard.report.model import Drift, Window
from guard.report.query import WindowCounts
from guard.report.stats import LEVEL

_FLOOR = 1e-4  # stands in for an empty bucket, so PSI stays finite


def psi(recent: dict[str, float], baseline: dict[str, float]) -> float:
    """Population stability index between two distributions over the same categories."""
    total = 0.0
    for key in set(recent) | set(baseline):
        r, b = max(recent.get(key, 0.0), _FLOOR), max(baseline.get(key, 0.0), _FLOOR)
        total += (r - b) * math.log(r / b)
    return total


def split_at(since: datetime, until: datetime, config: ReportConfig) -> datetime:
    """Where the recent window starts: ``drift_window_days`` before the end, or halfway for a short report."""
    split = until - timedelta(days=config.drift_window_days)
    return split if split > since else since + (until - since) / 2


def tier_mix(window: WindowCounts, tiers: list[str]) -> dict[str, float]:
    """Each tier's share of the requests that have one."""
    n = sum(window.tiers[t] for t in tiers)
    return {t: window.tiers[t] / n for t in tiers} if n else {}


def tier_test(baseline: WindowCounts, recent: WindowCounts, tiers: list[str]) -> float | None:
    """p-value of the chi-square test that both windows draw tiers from one mix (None: one tier only)."""
    seen = [t for t in tiers if baseline.tiers[t] + recent.tiers[t]]
    if len(seen) < 2:
        return None
    return float(stats.chi2_contingency([[baseline.tiers[t] for t in seen], [recent.tiers[t] for t in seen]]).pvalue)


def confidence_test(baseline: WindowCounts, recent: WindowCounts) -> tuple[float, tuple[float, float]] | None:
    """Welch's t-test of the mean confidence: p-value and the 95 % interval of recent minus baseline."""
    if baseline.confidence_n < 2 or recent.confidence_n < 2:
        return None
    (m1, s1), (m2, s2) = _moments(baseline), _moments(recent)
    if s1 == 0 and s2 == 0:
        return (1.0 if m1 == m2 else 0.0), (m2 - m1, m2 - m1)
    n1, n2 = baseline.confidence_n, recent.confidence_n
    result = stats.ttest_ind_from_stats(m2, s2, n2, m1, s1, n1, equal_var=False)
    v1, v2 = s1 * s1 / n1, s2 * s2 / n2
    dof = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, dof)) * math.sqrt(v1 + v2)
    return float(result.pvalue), (m2 - m1 - half, m2 - m1 + half)


def drift(baseline: WindowCounts, recent: WindowCounts, *, since: datetime, split: datetime, until: datetime,
          tiers: list[str], config: ReportConfig) -> Drift:
    """Compare the recent window with the baseline before it and say whether it moved beyond chance."""
    result = Drift(status="NO DATA", message="", recent=Window(since=split, until=until),
                   baseline=Window(since=since, until=split), recent_requests=recent.requests,
                   baseline_requests=baseline.requests, tier_mix_recent=tier_mix(recent, tiers),
                   tier_mix_baseline=tier_mix(baseline, tiers),
                   confidence_recent=_mean(recent), confidence_baseline=_mean(baseline),
                   confidence_recent_n=recent.confidence_n, confidence_baseline_n=baseline.confidence_n)
    sizes = f"{baseline.requests} baseline, {recent.requests} recent requests"
    if min(recent.requests, baseline.requests) < config.drift_min_requests:
        result.message = f"Not enough requests for a drift check ({sizes}; {config.drift_min_requests} needed in each)."
        return result
    if result.tier_mix_recent and result.tier_mix_baseline:
        result.tier_psi = round(psi(result.tier_mix_recent, result.tier_mix_baseline), 4)
        result.tier_p_value = tier_test(baseline, recent, tiers)
    if result.confidence_recent is not None and result.confidence_baseline is not None:
        result.confidence_delta = round(result.confidence_recent - result.confidence_baseline, 4)
        if (tested := confidence_test(baseline, recent)) is not None:
            result.confidence_p_value, result.confidence_delta_interval = tested
    alpha = config.drift_alpha
    mix_moved = result.tier_psi is not None and result.tier_psi > config.drift_psi_threshold
    mix_real = result.tier_p_value is not None and result.tier_p_value < alpha
    conf_moved = result.confidence_delta is not None and abs(result.confidence_delta) > config.drift_confidence_delta
    conf_real = result.confidence_p_value is not None and result.confidence_p_value < alpha
    alerts = []
    if mix_moved and mix_real:
        alerts.append(f"tier mix moved (PSI {result.tier_psi:.2f} > {config.drift_psi_threshold:.2f}, chi-square "
                      f"{_p(result.tier_p_value)}: " + ", ".join(
                          f"{t} {result.tier_mix_baseline[t]:.0%} → {result.tier_mix_recent[t]:.0%}" for t in tiers) + ")")
    if conf_moved and conf_real:
        low, high = result.confidence_delta_interval or (None, None)
        alerts.append(f"mean confidence moved {result.confidence_baseline:.2f} → {result.confidence_recent:.2f} "
                      f"(difference 95 % interval {low:+.3f} to {high:+.3f}, Welch {_p(result.confidence_p_value)})")
    if alerts:
        result.status = "ALERT"
        text = "; ".join(alerts)
        result.message = text[0].upper() + text[1:] + f". {sizes[0].upper()}{sizes[1:]}."
        return result
    psi_text = "n/a" if result.tier_psi is None else f"{result.tier_psi:.2f}"
    test_text = "" if result.tier_p_value is None else f" (chi-square {_p(result.tier_p_value)})"
    conf_text = ("" if result.confidence_delta is None else
                 f", mean confidence {result.confidence_baseline:.2f} → {result.confidence_recent:.2f}"
                 + ("" if result.confidence_p_value is None else f" (Welch {_p(result.confidence_p_value)})"))
    chance = " or within chance" if (mix_moved and not mix_real) or (conf_moved and not conf_real) else ""
    result.status = "OK"
    result.message = (f"No drift beyond the thresholds{chance}: tier-mix PSI {psi_text}{test_text}{conf_text}; "
                      f"{sizes}.")
    return result


def _mean(window: WindowCounts) -> float | None:
    return window.confidence_sum / window.confidence_n if window.confidence_n else None


def _moments(window: WindowCounts) -> tuple[float, float]:
    n, total = window.confidence_n, window.confidence_sum
    variance = max(0.0, (window.confidence_squares - total * total / n) / (n - 1))
    return total / n, math.sqrt(variance)


def _p(value: float | None) -> str:
    return "p < 0.001" if value is not None and value < 0.001 else f"p = {value:.3f}"
