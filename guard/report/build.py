"""Build the health report from a store's aggregates; ``compute_report`` does the same over plain lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert

from guard.config import GuardConfig
from guard.errors import GuardError
from guard.report.drift import drift, split_at
from guard.report.figures import figures, latency
from guard.report.health import metric_lines, targets, tier_health
from guard.report.model import Day, HealthReport, Window
from guard.report.query import DayRow, Histogram, ReportQueries, merged
from guard.report.summary import summarize
from guard.store import FeedbackRecord, RequestRecord, ReviewItem, Store, open_store
from guard.store.schema import feedback as feedback_table

TIERS = ("high", "medium", "low")


class WindowTooLong(GuardError, ValueError):
    """The report's window is longer than ``report.max_window_days``."""


def build_report(store: Store, *, since: datetime, until: datetime, config: GuardConfig) -> HealthReport:
    """The health report of ``[since, until)``, aggregated by the database (blocking: async callers use a thread).

    Memory stays bounded whatever the window holds: the database returns sums per tier and model, a
    latency histogram and one row per day, and the window is capped at ``report.max_window_days``.
    """
    rc = config.report
    if until - since > timedelta(days=rc.max_window_days):
        raise WindowTooLong(f"the report's window is {(until - since).days} days; report.max_window_days is "
                            f"{rc.max_window_days:g}: narrow --since or raise the cap")
    split = split_at(since, until, rc)
    with store.reading() as conn:
        read = ReportQueries(conn, since, until).read(split)
    groups, days = read.slices, read.days
    overall = figures(merged(groups.values()))
    by_tier = {t: figures(merged(s for (tier, _), s in groups.items() if tier == t)) for t in TIERS}
    models = sorted({model or "unknown" for _, model in groups})
    by_model = {m: figures(merged(s for (_, model), s in groups.items() if (model or "unknown") == m)) for m in models}
    goals = targets(config)
    metrics = metric_lines(overall, goals, rc)
    drifted = drift(read.baseline, read.recent, since=since, split=split, until=until, tiers=list(TIERS), config=rc)
    return HealthReport(
        product=config.product.name,
        window=Window(since=since, until=until),
        requests=overall.requests,
        edit_rate=overall.edit_rate,
        thumbs_up_ratio=overall.thumbs_up_ratio,
        flag_rate=overall.flag_rate,
        hallucination_rate=overall.hallucination_rate,
        latency_ms=overall.latency_ms,
        cost_usd=overall.cost_usd,
        metrics=metrics,
        health={m.key: m.status for m in metrics if m.status is not None},
        by_tier=by_tier,
        tier_health={t: tier_health(f, goals, rc) for t, f in by_tier.items()},
        by_model=by_model,
        overall=overall,
        targets=goals,
        drift=drifted,
        summary=summarize(metrics, overall, by_tier, drifted),
        daily=_daily(days, since, until),
        calibrations=read.calibrations,
    )


def compute_report(requests: Sequence[RequestRecord], feedback: Sequence[FeedbackRecord],
                   reviews: Sequence[ReviewItem], *, since: datetime, until: datetime,
                   config: GuardConfig) -> HealthReport:
    """The same report over plain records (scripts, tests): they are loaded into an in-memory store first."""
    store = open_store("sqlite://")
    try:
        store.write_requests(list(requests))
        for item in reviews:
            store.submit_review(item)
        if feedback:
            with store.reading() as conn:
                conn.execute(insert(feedback_table), [f.model_dump() for f in feedback])
        return build_report(store, since=since, until=until, config=config)
    finally:
        store.close()


def _daily(days: dict[date, DayRow], since: datetime, until: datetime) -> list[Day]:
    """One point per UTC day of the window, days without requests included (a gap is information)."""
    first = since.astimezone(timezone.utc).date()
    last = (until - timedelta(microseconds=1)).astimezone(timezone.utc).date()
    points = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        row = days.get(day, DayRow())
        points.append(Day(date=day, requests=row.requests, tiers={t: row.tiers[t] for t in TIERS},
                          latency_ms=latency(Histogram(row.latency)), cost_usd=row.cost if row.priced else None))
    return points
