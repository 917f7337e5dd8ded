"""Targets, grading and the metric lines of the layered health check.

A metric that meets its target is PASS; one that misses it by no more than
``report.warn_margin`` (a fraction of the target) is WARN; beyond that FAIL.
"""

from __future__ import annotations

from dataclasses import dataclass

from guard.config import GuardConfig
from guard.report.model import Figures, Layer, Metric, Status, Target, Unit

DEFAULT_LATENCY_P95_S = 5.0


@dataclass(frozen=True)
class MetricDef:
    key: str
    layer: Layer
    label: str
    unit: Unit
    basis: str  # format string over Figures fields


METRICS: tuple[MetricDef, ...] = (
    MetricDef("hallucination_rate", "model quality", "Hallucination rate", "ratio", "{support_checked} answers checked"),
    MetricDef("reviewer_rejection_rate", "model quality", "Rejected by reviewers", "ratio", "{reviews_decided} reviews decided"),
    MetricDef("accuracy", "model quality", "Accuracy (reviewed)", "ratio", "{reviews_decided} reviews decided"),
    MetricDef("latency_p50_ms", "model quality", "Latency p50", "ms", "{requests} requests"),
    MetricDef("latency_p95_ms", "model quality", "Latency p95", "ms", "{requests} requests"),
    MetricDef("thumbs_up_ratio", "product usage", "Thumbs-up ratio", "ratio", "{ratings} ratings"),
    MetricDef("edit_rate", "product usage", "Edit rate", "ratio", "{drafts_with_outcome} drafts with a known outcome"),
    MetricDef("mean_edit_distance", "product usage", "Mean edit distance", "ratio", "{drafts_with_outcome} drafts with a known outcome"),
    MetricDef("adoption", "product usage", "Adoption", "ratio", "{use_known} answers whose use is known"),
    MetricDef("deflection", "business impact", "Deflection", "ratio", "{requests} requests"),
    MetricDef("resolution_rate", "business impact", "Resolution rate", "ratio", "{resolution_known} answers with an outcome"),
    MetricDef("cost_per_answer_usd", "business impact", "Cost per answer", "usd", "{answered} answers"),
    MetricDef("cost_per_resolved_usd", "business impact", "Cost per resolved answer", "usd", "{resolution_known} answers with an outcome"),
)


# The figures shown per tier, in the by-tier tables.
TIER_COLUMNS = ("hallucination_rate", "reviewer_rejection_rate", "accuracy", "latency_p95_ms", "thumbs_up_ratio",
                "edit_rate", "mean_edit_distance", "deflection", "cost_per_answer_usd")
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


def grade(value: float | None, target: Target, margin: float) -> Status:
    """PASS, WARN (a miss within ``margin`` of the target) or FAIL; NO DATA when there is no value."""
    if value is None:
        return "NO DATA"
    if target.direction == "max":
        return "PASS" if value <= target.value else "WARN" if value <= target.value * (1 + margin) else "FAIL"
    return "PASS" if value >= target.value else "WARN" if value >= target.value * (1 - margin) else "FAIL"


def value_of(figs: Figures, key: str) -> float | None:
    """A metric's value in ``figs`` by its key (latency keys read the percentile)."""
    if key.startswith("latency_"):
        return getattr(figs.latency_ms, key.removeprefix("latency_").removesuffix("_ms"))
    return getattr(figs, key)


def tier_health(figs: Figures, goals: dict[str, Target], margin: float) -> dict[str, Status]:
    """The status of each targeted figure of one tier, graded like the overall ones."""
    return {key: grade(value_of(figs, key), goal, margin) for key, goal in goals.items()}


def metric_lines(figs: Figures, goals: dict[str, Target], margin: float) -> list[Metric]:
    """The health check's lines, in layer order, each graded against its target when it has one."""
    lines = []
    for d in METRICS:
        value = value_of(figs, d.key)
        target = goals.get(d.key)
        lines.append(Metric(key=d.key, layer=d.layer, label=d.label, unit=d.unit, value=value, target=target,
                            status=grade(value, target, margin) if target else None,
                            basis=d.basis.format(**figs.model_dump())))
    return lines


def _optional(value: float | None, direction: str) -> Target | None:
    return None if value is None else Target(value=value, direction=direction)
