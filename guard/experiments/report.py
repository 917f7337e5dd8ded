"""``guard experiment report``: per variant, each metric with its always-valid 95 % interval, the difference to
control with its interval, the guardrails, and a verdict.

The verdict: ``ship <variant>`` when a variant's interval for the primary metric's
difference to control lies wholly on the better side and none of its guardrails
is shown to be broken; ``keep control`` when every other variant is shown worse
(or breaks a guardrail); else ``inconclusive``, with how many more requests would
settle it if the effect and the spread stay as measured. Every interval is a
confidence sequence (``guard.experiments.sequential``), so the verdict stays valid
however often the report is read.
"""

from __future__ import annotations

import math
from statistics import fmean
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_
from sqlalchemy.engine import Connection

from guard.config import ExperimentConfig, parse_margin
from guard.experiments import sequential as seq
from guard.experiments.definitions import Experiment, get_experiment
from guard.report.query import ReportQueries
from guard.store.schema import requests

if TYPE_CHECKING:
    from guard.store import Store

METHOD = ("always-valid 95% confidence sequences (normal-mixture SPRT, Johari et al. 2017): valid at every look, "
          "so the report may be read daily and acted on when decisive")
METRICS = ("edit_rate", "thumbs_up_ratio", "hallucination_rate", "review_rate", "latency_p95_ms",
           "cost_per_answer_usd")
HIGHER_IS_BETTER = frozenset({"thumbs_up_ratio"})
RATE_TAU = 0.1  # rates: most sensitive to differences of about 10 points
RELATIVE_TAU = 0.1  # costs: most sensitive to differences of about 10 % of control's


class MetricEstimate(BaseModel):
    value: float | None
    ci95: list[float] | None = None
    n: int = 0  # observations behind it (e.g. drafts whose fate is known, for the edit rate)


class Guardrail(BaseModel):
    allowed: str  # how much worse the variant may be, as configured
    state: Literal["pass", "fail", "unknown"]  # shown within it, shown beyond it, not yet known


class VariantReport(BaseModel):
    name: str
    requests: int
    users: int
    metrics: dict[str, MetricEstimate]
    difference: dict[str, MetricEstimate] = Field(default_factory=dict)  # variant - control; empty for control
    guardrails: dict[str, Guardrail] = Field(default_factory=dict)
    outcome: Literal["control", "better", "worse", "undecided"]


class ExperimentReport(BaseModel):
    name: str
    status: str
    winner: str | None
    control: str
    primary_metric: str
    since: datetime
    until: datetime
    variants: dict[str, VariantReport]
    verdict: str  # "ship <variant>", "keep control" or "inconclusive"
    more_requests: int | None = None  # inconclusive: about how many more would settle it (None: not in sight)
    reason: str
    method: str = METHOD


class _Arm:
    """One variant's aggregates, read by the database, and what the metrics are computed from."""

    def __init__(self, queries: ReportQueries):
        data = queries.whole()
        s = data.sums
        self.requests, self.users = s["requests"], queries.users()
        self.counts = {
            "edit_rate": (s["edited"], s["drafts_with_outcome"]),
            "thumbs_up_ratio": (s["thumbs_up"], s["ratings"]),
            "hallucination_rate": (s["flagged"], s["support_checked"]),  # flagged, of answers the support check ran on
            "review_rate": (s["reviewed"], s["answered"]),
        }
        # to bucket precision (three significant digits): the order statistics the interval needs
        self.latencies = [value for value, n in sorted(data.latency.items()) for _ in range(n)]
        self.costs = queries.answer_costs()


def experiment_report(experiment: Experiment, conn: Connection, *, since: datetime, until: datetime) -> ExperimentReport:
    """The report of ``experiment`` over the requests it served in ``[since, until)``."""
    definition = experiment.definition
    end = min(until, experiment.ended_at) if experiment.ended_at else until  # after the end everyone gets the winner
    arms = {v.name: _Arm(ReportQueries(conn, since, end, where=and_(requests.c.experiment == definition.name,
                                                                      requests.c.variant == v.name)))
            for v in definition.variants}
    control_name = definition.control or definition.variants[0].name
    control = arms[control_name]
    scales = {"cost_per_answer_usd": RELATIVE_TAU * (abs(fmean(control.costs)) if control.costs else 0.0),
              # latency intervals come from order statistics; this scale serves only the "more requests" estimate
              "latency_p95_ms": RELATIVE_TAU * (report_value(control, "latency_p95_ms", {}) or 0.0)}
    variants: dict[str, VariantReport] = {}
    for name, arm in arms.items():
        report = VariantReport(name=name, requests=arm.requests, users=arm.users,
                               metrics={m: _dump(_estimate(arm, m, scales)) for m in METRICS},
                               outcome="control")
        if name != control_name:
            diffs = {m: _difference(control, arm, m, scales) for m in METRICS}
            report.difference = {m: _dump(d) for m, d in diffs.items()}
            report.guardrails = {m: _guardrail(m, allowed, diffs[m], report_value(control, m, scales))
                                 for m, allowed in definition.guardrails.items()}
            report.outcome = _outcome(diffs[definition.primary_metric], definition.primary_metric, report.guardrails)
        variants[name] = report
    verdict, more, reason = _verdict(definition, variants, arms, scales)
    return ExperimentReport(name=definition.name, status=experiment.status, winner=experiment.winner,
                            control=control_name, primary_metric=definition.primary_metric, since=since, until=until,
                            variants=variants, verdict=verdict, more_requests=more, reason=reason)


def build_experiment_report(store: Store, name: str, *, since: datetime, until: datetime) -> ExperimentReport:
    """The report read from the store, aggregated by the database (blocking: async callers use a thread)."""
    experiment = get_experiment(store, name)
    with store.reading() as conn:
        return experiment_report(experiment, conn, since=since, until=until)


def report_value(arm: _Arm, metric: str, scales: dict[str, float]) -> float | None:
    estimate = _estimate(arm, metric, scales)
    return None if estimate is None else estimate.value


def _count(rate: float | None, n: int) -> tuple[int, int]:
    return (0, 0) if rate is None else (round(rate * n), n)


def _estimate(arm: _Arm, metric: str, scales: dict[str, float]) -> seq.Estimate | None:
    if metric in arm.counts:
        return seq.proportion(*arm.counts[metric], tau=RATE_TAU)
    if metric == "latency_p95_ms":
        return seq.quantile(arm.latencies, 0.95)
    return seq.mean(arm.costs, tau=scales[metric] or 1e-9)


def _difference(control: _Arm, arm: _Arm, metric: str, scales: dict[str, float]) -> seq.Estimate | None:
    if metric in arm.counts:
        return seq.proportion_difference(control.counts[metric], arm.counts[metric], tau=RATE_TAU)
    if metric == "latency_p95_ms":
        return seq.quantile_difference(control.latencies, arm.latencies, 0.95)
    return seq.mean_difference(control.costs, arm.costs, tau=scales[metric] or 1e-9)


def _dump(estimate: seq.Estimate | None) -> MetricEstimate:
    if estimate is None:
        return MetricEstimate(value=None)
    return MetricEstimate(value=_round(estimate.value), ci95=[_round(estimate.low), _round(estimate.high)],
                          n=estimate.n)


def _round(value: float) -> float:
    return value if math.isinf(value) else round(value, 6)


def _worse_by(diff: seq.Estimate, metric: str) -> tuple[float, float]:
    """The interval of how much worse the variant is (positive: worse), whichever way the metric points."""
    return (-diff.high, -diff.low) if metric in HIGHER_IS_BETTER else (diff.low, diff.high)


def _guardrail(metric: str, allowed: str, diff: seq.Estimate | None, control_value: float | None) -> Guardrail:
    margin, relative = parse_margin(allowed, where=metric)
    if diff is None or (relative and control_value is None):
        return Guardrail(allowed=allowed, state="unknown")
    limit = margin * abs(control_value) if relative else margin  # type: ignore[arg-type]
    low, high = _worse_by(diff, metric)
    state = "fail" if low > limit else "pass" if high <= limit else "unknown"
    return Guardrail(allowed=allowed, state=state)


def _outcome(diff: seq.Estimate | None, metric: str, guardrails: dict[str, Guardrail]) -> str:
    if any(g.state == "fail" for g in guardrails.values()):
        return "worse"
    if diff is None:
        return "undecided"
    low, high = _worse_by(diff, metric)
    return "better" if high < 0 else "worse" if low > 0 else "undecided"


def _verdict(definition: ExperimentConfig, variants: dict[str, VariantReport], arms: dict[str, _Arm],
             scales: dict[str, float]) -> tuple[str, int | None, str]:
    metric = definition.primary_metric
    others = [v for v in variants.values() if v.outcome != "control"]
    better = [v for v in others if v.outcome == "better"]
    if better:
        best = min(better, key=lambda v: _worse_by_point(v, metric))
        return f"ship {best.name}", None, (f"{best.name} beats control on {metric} "
                                           f"({_signed(v_diff(best, metric))}, 95% {_interval(best, metric)}) "
                                           "and breaks no guardrail")
    if all(v.outcome == "worse" for v in others):
        return "keep control", None, "; ".join(_why_worse(v, metric) for v in others)
    more = _more_requests(definition, variants, arms, scales)
    undecided = ", ".join(f"{v.name} {_signed(v_diff(v, metric))} (95% {_interval(v, metric)})"
                          for v in others if v.outcome == "undecided")
    tail = (f"about {more} more requests would settle it if the difference holds" if more is not None
            else "no difference big enough to settle is in sight")
    return "inconclusive", more, f"{metric} difference to control: {undecided}; {tail}"


def _why_worse(variant: VariantReport, metric: str) -> str:
    broken = [f"{m} ({g.allowed})" for m, g in variant.guardrails.items() if g.state == "fail"]
    if broken:
        return f"{variant.name} breaks its guardrail on {', '.join(broken)}"
    return f"{variant.name} is worse than control on {metric} ({_signed(v_diff(variant, metric))}, 95% {_interval(variant, metric)})"


def v_diff(variant: VariantReport, metric: str) -> float | None:
    return variant.difference[metric].value


def _worse_by_point(variant: VariantReport, metric: str) -> float:
    value = v_diff(variant, metric) or 0.0
    return -value if metric in HIGHER_IS_BETTER else value


def _signed(value: float | None) -> str:
    return "no data" if value is None else f"{value:+.3g}"


def _interval(variant: VariantReport, metric: str) -> str:
    ci = variant.difference[metric].ci95
    return "n/a" if ci is None else f"[{ci[0]:+.3g}, {ci[1]:+.3g}]"


def _more_requests(definition: ExperimentConfig, variants: dict[str, VariantReport], arms: dict[str, _Arm],
                   scales: dict[str, float]) -> int | None:
    """The fewest more requests after which some undecided variant's primary difference would exclude zero."""
    metric = definition.primary_metric
    control = arms[definition.control or definition.variants[0].name]
    needed = []
    for v in variants.values():
        if v.outcome != "undecided":
            continue
        diff = _difference(control, arms[v.name], metric, scales)
        if diff is None or not math.isfinite(diff.high - diff.low):
            continue
        width = (diff.high - diff.low) / 2
        var = _variance_for(width, metric, scales)
        factor = seq.scale_to_settle(var, diff.value, _tau(metric, scales))
        if factor is not None:
            base = control.requests + arms[v.name].requests
            needed.append(max(1, math.ceil(base * (factor - 1))))
    return min(needed) if needed else None


def _tau(metric: str, scales: dict[str, float]) -> float:
    return scales.get(metric) or RATE_TAU


def _variance_for(width: float, metric: str, scales: dict[str, float]) -> float:
    """The estimator variance behind an interval of half-width ``width`` (inverting ``half_width`` numerically)."""
    tau = _tau(metric, scales)
    low, high = 1e-18, max(width * width, 1e-12)
    while seq.half_width(high, tau) < width:
        high *= 2
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if seq.half_width(mid, tau) < width else (low, mid)
    return high
