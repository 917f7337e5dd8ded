"""Targets, grading and the metric lines of the layered health check.

A verdict needs the data to settle it: PASS when the whole 95 % interval meets the target, a miss
(FAIL, or WARN when the value is within ``report.warn_margin`` of the target) when the whole interval
misses it, and otherwise ``TOO FEW DATA``, with about how many more items would settle it at the
current rate. Fewer than ``report.min_items`` items never settle anything. ``NO DATA`` when nothing
was measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from guard.config import GuardConfig, ReportConfig
from guard.report.model import Figures, Interval, Layer, Metric, Status, Target, Unit
from guard.report.stats import PERCENTILES, items_to_settle, items_to_settle_share

DEFAULT_LATENCY_P95_S = 5.0

HALLUCINATION_METHOD = ("flag rate × share of reviewed flagged answers found wrong + (1 − flag rate) × share of "
                        "audited unflagged answers found wrong (review.audit_fraction samples them).")


@dataclass(frozen=True)
class MetricDef:
    key: str
    layer: Layer
    label: str
    unit: Unit
    count: str  # the Figures field counting the items behind the value
    basis: str  # format string over Figures fields
    more: str  # what brings more items: "decide {about}more review items", ``about`` "about 40 " or empty
    kind: Literal["share", "statistic", "estimate"] = "share"
    base: str | None = None  # the count whose zero means NO DATA, when it is not ``count``


METRICS: tuple[MetricDef, ...] = (
    MetricDef("hallucination_rate", "model quality", "Hallucination rate", "ratio", "hallucination_labels",
              "{flagged_labelled} flagged and {audit_labelled} audited answers labelled; {support_checked} checked",
              "decide {about}more review and audit items", "estimate", base="support_checked"),
    MetricDef("flag_rate", "model quality", "Flagged by guard", "ratio", "support_checked",
              "{support_checked} answers checked", "record {about}more checked answers"),
    MetricDef("reviewer_rejection_rate", "model quality", "Rejected by reviewers", "ratio", "reviews_decided",
              "{reviews_decided} reviews decided", "decide {about}more review items"),
    MetricDef("accuracy", "model quality", "Accuracy (reviewed)", "ratio", "reviews_labelled",
              "{reviews_labelled} decided reviews with a label", "decide {about}more review items"),
    MetricDef("latency_p50_ms", "model quality", "Latency p50", "ms", "latency_known", "{latency_known} requests",
              "record {about}more requests", "statistic"),
    MetricDef("latency_p95_ms", "model quality", "Latency p95", "ms", "latency_known", "{latency_known} requests",
              "record {about}more requests", "statistic"),
    MetricDef("thumbs_up_ratio", "product usage", "Thumbs-up ratio", "ratio", "ratings", "{ratings} ratings",
              "collect {about}more ratings"),
    MetricDef("edit_rate", "product usage", "Edit rate", "ratio", "drafts_with_outcome",
              "{drafts_with_outcome} drafts with a known outcome", "learn the fate of {about}more drafts"),
    MetricDef("mean_edit_distance", "product usage", "Mean edit distance", "ratio", "edit_distances",
              "{edit_distances} drafts with a known outcome", "learn the fate of {about}more drafts", "statistic"),
    MetricDef("adoption", "product usage", "Adoption", "ratio", "use_known", "{use_known} answers whose use is known",
              "learn the use of {about}more answers"),
    MetricDef("deflection", "business impact", "Deflection", "ratio", "requests", "{requests} requests",
              "record {about}more requests"),
    MetricDef("resolution_rate", "business impact", "Resolution rate", "ratio", "resolution_known",
              "{resolution_known} answers with an outcome", "report the outcome of {about}more answers"),
    MetricDef("cost_per_answer_usd", "business impact", "Cost per answer", "usd", "priced_answers",
              "{priced_answers} priced answers", "record {about}more priced answers", "statistic"),
    MetricDef("cost_per_resolved_usd", "business impact", "Cost per resolved answer", "usd", "resolution_known",
              "{resolution_known} answers with an outcome", "report the outcome of {about}more answers", "statistic"),
)


# The figures shown per tier, in the by-tier tables.
TIER_COLUMNS = ("hallucination_rate", "flag_rate", "reviewer_rejection_rate", "accuracy", "latency_p95_ms",
                "thumbs_up_ratio", "edit_rate", "mean_edit_distance", "deflection", "cost_per_answer_usd")
# The figures shown per served model.
MODEL_COLUMNS = ("hallucination_rate", "flag_rate", "accuracy", "latency_p95_ms")
DEFS = {d.key: d for d in METRICS}


def targets(config: GuardConfig) -> dict[str, Target]:
    """The targets in force: the ``report`` section, plus the accuracy and latency the product spec names."""
    rc = config.report
    latency_s = rc.latency_p95_max_s or getattr(config.product, "max_latency_s", None) or DEFAULT_LATENCY_P95_S
    found: dict[str, Target | None] = {
        "hallucination_rate": Target(value=rc.hallucination_rate_max, direction="max"),
        "latency_p95_ms": Target(value=latency_s * 1000, direction="max"),
        "thumbs_up_ratio": Target(value=rc.thumbs_up_min, direction="min"),
        "edit_rate": Target(value=rc.edit_rate_max, direction="max"),
        "deflection": Target(value=rc.deflection_min, direction="min"),
        "accuracy": _optional(getattr(config.product, "accuracy_target", None), "min"),
        "resolution_rate": _optional(rc.resolution_min, "min"),
        "cost_per_answer_usd": _optional(rc.cost_per_answer_max_usd, "max"),
    }
    return {k: t for k, t in found.items() if t is not None}


def grade(value: float | None, interval: Interval, n: int, target: Target, config: ReportConfig,
          has_data: bool = True) -> Status:
    """PASS or a miss (WARN within the margin, else FAIL) only when the interval settles it; else TOO FEW DATA."""
    if not has_data:
        return "NO DATA"
    if value is None or n < config.min_items:
        return "TOO FEW DATA"
    low, high = interval
    best, worst = (low, high) if target.direction == "max" else (high, low)
    if _meets(worst, target):
        return "PASS"
    if best is not None and not _meets(best, target):
        slack = target.value * config.warn_margin
        near = value <= target.value + slack if target.direction == "max" else value >= target.value - slack
        return "WARN" if near else "FAIL"
    return "TOO FEW DATA"


def more_needed(figs: Figures, d: MetricDef, target: Target, config: ReportConfig) -> int | None:
    """About how many more items settle a TOO FEW DATA verdict, at the current value; None when none can."""
    value, n = value_of(figs, d.key), getattr(figs, d.count)
    if value is None:
        return max(config.min_items - n, 1) if getattr(figs, d.base or d.count) else None
    if d.kind == "share":
        return items_to_settle_share(value, n, target.value, config.min_items)
    low, high = figs.intervals.get(d.key, (None, None))
    quantile = PERCENTILES.get(d.key.removeprefix("latency_").removesuffix("_ms")) if d.key.startswith("latency_") else None
    return items_to_settle(value, high if value < target.value else low, n, target.value, config.min_items, quantile)


def value_of(figs: Figures, key: str) -> float | None:
    """A metric's value in ``figs`` by its key (latency keys read the percentile)."""
    if key.startswith("latency_"):
        return getattr(figs.latency_ms, key.removeprefix("latency_").removesuffix("_ms"))
    return getattr(figs, key)


def status_of(figs: Figures, key: str, target: Target, config: ReportConfig) -> Status:
    d = DEFS[key]
    return grade(value_of(figs, key), figs.intervals.get(key, (None, None)), getattr(figs, d.count), target, config,
                 has_data=bool(getattr(figs, d.base or d.count)))


def tier_health(figs: Figures, goals: dict[str, Target], config: ReportConfig) -> dict[str, Status]:
    """The status of each targeted figure of one tier, graded like the overall ones."""
    return {key: status_of(figs, key, goal, config) for key, goal in goals.items()}


def metric_lines(figs: Figures, goals: dict[str, Target], config: ReportConfig) -> list[Metric]:
    """The health check's lines, in layer order, each graded against its target when it has one."""
    lines = []
    for d in METRICS:
        target = goals.get(d.key)
        status = status_of(figs, d.key, target, config) if target else None
        lines.append(Metric(
            key=d.key, layer=d.layer, label=d.label, unit=d.unit, value=value_of(figs, d.key),
            interval=figs.intervals.get(d.key), n=getattr(figs, d.count), target=target, status=status,
            more_needed=more_needed(figs, d, target, config) if target and status == "TOO FEW DATA" else None,
            basis=d.basis.format(**figs.model_dump()),
            method=HALLUCINATION_METHOD if d.key == "hallucination_rate" else None))
    return lines


def _meets(value: float | None, target: Target) -> bool:
    if value is None:
        return False
    return value <= target.value if target.direction == "max" else value >= target.value


def _optional(value: float | None, direction: str) -> Target | None:
    return None if value is None else Target(value=value, direction=direction)
