"""The report's reads: aggregates computed by the database, never the window's rows.

Every figure of the health check is a count, a sum or a sum of squares per (tier, served model), so the
whole window, a tier or a model is a sum of groups. Latency percentiles come from a histogram the
database groups (1 ms buckets below 1 s, then three significant digits: at most 1 % off, a few
thousand buckets per group whatever the window's size), which gives exact ranks for the
order-statistic intervals on SQLite and PostgreSQL alike. The only rows read are edited review
items, whose label needs their two texts (``guard.labels``): people write those, so they stay few.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Float, Integer, and_, case, cast, false, func, or_, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from guard.labels import review_label
from guard.store.schema import feedback, requests, reviews

DECIDED = ("approved", "edited", "rejected")
Group = tuple[str | None, str | None]  # (tier, served model)

r, f, v = requests.c, feedback.c, reviews.c
answered = and_(r.error_class.is_(None), r.tier.isnot(None))
flagged = r.unsupported[0].as_string().isnot(None)  # at least one unsupported claim listed
checked = and_(answered, or_(r.layers[("support", "status")].as_string() == "ok", flagged))
record_cost = func.coalesce(r.cost_usd, 0.0) + func.coalesce(r.samples_cost_usd, 0.0) + r.verification_cost_usd
priced = or_(r.cost_usd.isnot(None), r.verification_cost_usd != 0)
edit_distance = case((f.edited.isnot(None), f.edit_distance), (v.status == "edited", v.edit_distance),
                     (v.status == "approved", 0.0))
stratum = case((and_(checked, flagged), "flagged"), (and_(checked, v.audit == true()), "audit"), else_="other")


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _when(condition: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((condition, value))


# name -> aggregate; each one adds up across groups.
SUMS: dict[str, ColumnElement[Any]] = {
    "requests": func.count(),
    "answered": _count(answered),
    "support_checked": _count(checked),
    "flagged": _count(and_(checked, flagged)),
    "reviews_decided": _count(v.status.in_(DECIDED)),
    "rejected": _count(v.status == "rejected"),
    "ratings": _count(and_(f.rating.isnot(None), f.rating != 0)),
    "thumbs_up": _count(f.rating > 0),
    "drafts_with_outcome": _count(and_(answered, or_(f.edited.isnot(None), v.status.in_(("edited", "approved"))))),
    "edited": _count(and_(answered, or_(f.edited == true(), and_(f.edited.is_(None), v.status == "edited")))),
    "distance_n": func.count(_when(answered, edit_distance)),
    "distance_sum": func.sum(_when(answered, edit_distance)),
    "distance_squares": func.sum(_when(answered, edit_distance * edit_distance)),
    "use_known": _count(and_(answered, or_(f.final_text.isnot(None), and_(v.id.isnot(None), v.status != "pending")))),
    "used": _count(and_(answered, case((f.final_text.isnot(None), func.trim(f.final_text) != ""),
                                       else_=func.coalesce(v.status.in_(("approved", "edited")), false())))),
    "deflected": _count(and_(answered, r.delivered == true(), r.review_id.is_(None))),
    "reviewed": _count(and_(answered, r.review_id.isnot(None))),
    "resolution_known": _count(f.resolved.isnot(None)),
    "resolved": _count(f.resolved == true()),
    "priced": _count(priced),
    "cost_sum": func.sum(_when(priced, record_cost)),
    "answer_cost_n": _count(and_(answered, r.cost_usd.isnot(None))),
    "answer_cost_sum": func.sum(_when(and_(answered, r.cost_usd.isnot(None)), record_cost)),
    "answer_cost_squares": func.sum(_when(and_(answered, r.cost_usd.isnot(None)), record_cost * record_cost)),
}


# The drift windows' confidence, summed the same way.
CONFIDENCE: dict[str, ColumnElement[Any]] = {
    "confidence_n": func.count(r.confidence),
    "confidence_sum": func.sum(r.confidence),
    "confidence_squares": func.sum(r.confidence * r.confidence),
}


@dataclass
class Slice:
    """The aggregates of some requests: sums, review labels by stratum, and a latency histogram."""

    sums: Counter[str] = field(default_factory=Counter)
    labels: Counter[tuple[str, str]] = field(default_factory=Counter)  # (stratum, label) -> items
    latency: Counter[float] = field(default_factory=Counter)  # bucket -> requests

    def __iadd__(self, other: Slice) -> Slice:
        self.sums.update(other.sums)
        self.labels.update(other.labels)
        self.latency.update(other.latency)
        return self


def merged(slices: Any) -> Slice:
    total = Slice()
    for s in slices:
        total += s
    return total


@dataclass
class DayRow:
    requests: int = 0
    tiers: Counter[str] = field(default_factory=Counter)
    priced: int = 0
    cost: float = 0.0
    latency: Counter[float] = field(default_factory=Counter)


@dataclass
class WindowCounts:
    """One drift window: requests per tier, and the confidence's count, sum and sum of squares."""

    requests: int = 0
    tiers: Counter[str] = field(default_factory=Counter)
    confidence_n: int = 0
    confidence_sum: float = 0.0
    confidence_squares: float = 0.0


class Histogram:
    """Values known to bucket precision, with their counts: percentiles and order statistics by rank."""

    def __init__(self, buckets: Counter[float]):
        items = sorted((b, n) for b, n in buckets.items() if n)
        self.values = np.array([b for b, _ in items], dtype=float)
        self.cumulative = np.cumsum([n for _, n in items], dtype=np.int64)
        self.n = int(self.cumulative[-1]) if items else 0

    def order_statistic(self, rank: int | None) -> float | None:
        """The ``rank``-th smallest value (1-based); None for no rank."""
        if rank is None:
            return None
        return float(self.values[int(np.searchsorted(self.cumulative, rank))])

    def percentile(self, q: float) -> float | None:
        """Like ``numpy.percentile`` (linear between the two nearest ranks)."""
        if self.n == 0:
            return None
        position = q * (self.n - 1)
        below = int(position)
        low, high = self.order_statistic(below + 1), self.order_statistic(min(below + 2, self.n))
        assert low is not None and high is not None
        return low + (position - below) * (high - low)


@dataclass
class Aggregates:
    """What the report reads: slices per (tier, model), rows per UTC day, and the two drift windows."""

    slices: dict[Group, Slice]
    days: dict[date, DayRow]
    baseline: WindowCounts
    recent: WindowCounts
    calibrations: dict[str, int] = field(default_factory=dict)  # verified answers per calibration in force


class ReportQueries:
    """The aggregate reads of one window, written once for both dialects.

    Two scans of the window: one for every sum, one for the latency histogram, each grouped by UTC
    day, drift window, tier and model, so that the slices, the days and the drift windows are all
    sums of the same groups. Review labels come from the decided review items.
    """

    def __init__(self, conn: Connection, since: datetime, until: datetime,
                 where: ColumnElement[bool] | None = None):
        """``where``: a further condition on the requests (an experiment's variant, say)."""
        self.conn, self.dialect, self.until = conn, conn.dialect.name, until
        self.window = and_(r.created_at >= since, r.created_at < until, *(() if where is None else (where,)))
        self.joined = (requests.outerjoin(feedback, f.request_id == r.request_id)
                       .outerjoin(reviews, v.request_id == r.request_id))

    def read(self, split: datetime) -> Aggregates:
        """Everything the report needs; ``split`` starts the recent drift window."""
        slices: dict[Group, Slice] = {}
        days: dict[date, DayRow] = {}
        windows = (WindowCounts(), WindowCounts())
        day = self._day().label("day")
        recent = case((r.created_at >= split, 1), else_=0).label("recent")
        keys = (day, recent, r.tier, r.model_served)
        query = select(*keys, *(c.label(k) for k, c in {**SUMS, **CONFIDENCE}.items())).select_from(self.joined)
        for row in self.conn.execute(query.where(self.window).group_by(*keys)).mappings():
            sums = {k: row[k] or 0 for k in (*SUMS, *CONFIDENCE)}
            tier, model = row["tier"], row["model_served"]
            slices.setdefault((tier, model), Slice()).sums.update({k: sums[k] for k in SUMS})
            point = days.setdefault(_as_date(row["day"]), DayRow())
            point.requests += sums["requests"]
            point.priced += sums["priced"]
            point.cost += sums["cost_sum"]
            window = windows[int(row["recent"])]
            window.requests += sums["requests"]
            if tier:
                point.tiers[tier] += sums["requests"]
                window.tiers[tier] += sums["requests"]
            window.confidence_n += sums["confidence_n"]
            window.confidence_sum += sums["confidence_sum"]
            window.confidence_squares += sums["confidence_squares"]
        bucket = self._bucket(r.latency_total_ms).label("bucket")
        histogram = (select(day, r.tier, r.model_served, bucket, func.count())
                     .where(self.window, r.latency_total_ms.isnot(None)).group_by(day, r.tier, r.model_served, bucket))
        for d, tier, model, b, n in self.conn.execute(histogram):
            slices.setdefault((tier, model), Slice()).latency[float(b)] += n
            days.setdefault(_as_date(d), DayRow()).latency[float(b)] += n
        self._labels(slices)
        return Aggregates(slices=slices, days=days, baseline=windows[0], recent=windows[1],
                          calibrations=self._calibrations())

    def whole(self) -> Slice:
        """Every request of the window (and condition) as one slice."""
        return merged(self.read(split=self.until).slices.values())

    def answer_costs(self) -> list[float]:
        """What each priced answer cost (answer, samples, verification): for intervals that need the values."""
        query = select(record_cost).where(self.window, answered, r.cost_usd.isnot(None))
        return [float(c) for (c,) in self.conn.execute(query)]

    def guard_time(self) -> tuple[int, float]:
        """Answers with a measured guard time, and its mean in ms: guard's own CPU per answer."""
        query = select(func.count(), func.avg(r.latency_guard_ms)).where(self.window, answered,
                                                                         r.latency_guard_ms.isnot(None))
        n, mean = self.conn.execute(query).one()
        return int(n or 0), float(mean or 0.0)

    def variants_by_model(self) -> dict[str, list[str]]:
        """"experiment/variant" names each served model answered for."""
        query = (select(r.model_served, r.experiment, r.variant).where(self.window, r.experiment.isnot(None))
                 .distinct())
        out: dict[str, list[str]] = {}
        for model, experiment, variant in self.conn.execute(query):
            out.setdefault(model or "unknown", []).append(f"{experiment}/{variant}")
        return {model: sorted(names) for model, names in out.items()}

    def users(self) -> int:
        """Distinct users the app named."""
        return int(self.conn.execute(select(func.count(func.distinct(r.user))).where(self.window)).scalar() or 0)

    def _calibrations(self) -> dict[str, int]:
        """Answers with a tier per support calibration in force (``shipped`` when none was activated)."""
        query = (select(r.calibration_id, func.count()).where(self.window, r.tier.isnot(None))
                 .group_by(r.calibration_id))
        return {calibration or "shipped": n for calibration, n in self.conn.execute(query)}

    def _labels(self, slices: dict[Group, Slice]) -> None:
        """Each decided review's label (``guard.labels``), counted by stratum: flagged, audit or other."""
        plain = (select(r.tier, r.model_served, stratum.label("stratum"), v.status, func.count())
                 .select_from(self.joined).where(self.window, v.status.in_(("approved", "rejected")))
                 .group_by(r.tier, r.model_served, stratum, v.status))
        for tier, model, where, status, n in self.conn.execute(plain):
            slices.setdefault((tier, model), Slice()).labels[(where, review_label(status, ""))] += n
        edited = (select(r.tier, r.model_served, stratum.label("stratum"), v.draft, v.final_text)
                  .select_from(self.joined).where(self.window, v.status == "edited"))
        for tier, model, where, draft, final_text in self.conn.execute(edited):
            label = review_label("edited", draft, final_text)
            slices.setdefault((tier, model), Slice()).labels[(where, label or "unlabelled")] += 1

    def _floor(self, value: ColumnElement[float]) -> ColumnElement[float]:
        # SQLite's CAST truncates (the values are never negative); PostgreSQL's rounds, so floor() there.
        return cast(func.floor(value), Float) if self.dialect == "postgresql" else cast(cast(value, Integer), Float)

    def _bucket(self, ms: ColumnElement[float]) -> ColumnElement[float]:
        """The value's bucket: 1 ms below 1 s, then three significant digits."""
        return case(*((ms < limit, self._floor(ms / width) * width)
                      for limit, width in ((1_000, 1), (10_000, 10), (100_000, 100), (1_000_000, 1_000))),
                    else_=self._floor(ms / 10_000) * 10_000)

    def _day(self) -> ColumnElement[Any]:
        if self.dialect == "postgresql":
            return func.date(func.timezone("UTC", r.created_at))
        return func.date(r.created_at)  # SQLite keeps naive UTC times


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)

