"""Build the health report: pure computation over records, and the same read through a store."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from guard.config import GuardConfig
from guard.report.drift import drift
from guard.report.figures import figures, latency, total_cost
from guard.report.health import metric_lines, targets, tier_health
from guard.report.model import Day, HealthReport, Window
from guard.report.summary import summarize
from guard.store.models import FeedbackRecord, RequestRecord, ReviewItem

if TYPE_CHECKING:
    from guard.store import Store

TIERS = ("high", "medium", "low")


def compute_report(requests: list[RequestRecord], feedback: list[FeedbackRecord], reviews: list[ReviewItem], *,
                   since: datetime, until: datetime, config: GuardConfig) -> HealthReport:
    """The layered health check of the requests in ``[since, until)``, with their feedback and reviews.

    Pure: no store, no clock, so it can be tested on hand-made records.
    """
    records = sorted((r for r in requests if since <= r.created_at < until), key=lambda r: r.created_at)
    ids = {r.request_id for r in records}
    fb = {f.request_id: f for f in feedback if f.request_id in ids}
    rv = {i.request_id: i for i in reviews if i.request_id in ids}
    overall = figures(records, fb, rv)
    by_tier = {t: figures([r for r in records if r.tier == t], fb, rv) for t in TIERS}
    goals = targets(config)
    margin = config.report.warn_margin
    metrics = metric_lines(overall, goals, margin)
    drifted = drift(records, since=since, until=until, tiers=list(TIERS), config=config.report)
    return HealthReport(
        product=config.product.name,
        window=Window(since=since, until=until),
        requests=overall.requests,
        edit_rate=overall.edit_rate,
        thumbs_up_ratio=overall.thumbs_up_ratio,
        hallucination_rate=overall.hallucination_rate,
        latency_ms=overall.latency_ms,
        cost_usd=overall.cost_usd,
        metrics=metrics,
        health={m.key: m.status for m in metrics if m.status is not None},
        by_tier=by_tier,
        tier_health={t: tier_health(f, goals, margin) for t, f in by_tier.items()},
        overall=overall,
        targets=goals,
        drift=drifted,
        summary=summarize(metrics, overall, by_tier, drifted),
        daily=_daily(records, since, until),
        calibrations=dict(Counter(r.calibration_id or "shipped" for r in records if r.tier is not None)),
    )


def build_report(store: Store, *, since: datetime, until: datetime, config: GuardConfig) -> HealthReport:
    """The health report of ``[since, until)`` read from the store (blocking: async callers use a thread)."""
    return compute_report(store.requests_between(since, until), store.feedback_between(since, until),
                          store.reviews_between(since, until), since=since, until=until, config=config)


def _daily(records: list[RequestRecord], since: datetime, until: datetime) -> list[Day]:
    """One point per UTC day of the window, days without requests included (a gap is information)."""
    by_day: dict[date, list[RequestRecord]] = {}
    for r in records:
        by_day.setdefault(r.created_at.astimezone(timezone.utc).date(), []).append(r)
    first = since.astimezone(timezone.utc).date()
    last = (until - timedelta(microseconds=1)).astimezone(timezone.utc).date()
    days = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        rows = by_day.get(day, [])
        days.append(Day(date=day, requests=len(rows), tiers={t: sum(r.tier == t for r in rows) for t in TIERS},
                        latency_ms=latency(r.latency_total_ms for r in rows),
                        cost_usd=total_cost(rows)))
    return days
