"""Which metrics each suite kind reports, computed from the per-item results.

One registry serves the report (values and bootstrap intervals) and compare
(paired deltas), so a metric means the same thing everywhere. Each metric is
a function of ``Columns``: numpy arrays over the scored items, in item order,
so a bootstrap resample is just an index into every column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from guard.evals import metrics as m
from guard.evals.results import DetectionResult, GenerationResult, Result

Columns = dict[str, np.ndarray]
Metric = Callable[[Columns], m.Value]

DETECTION_METRICS: dict[str, Metric] = {
    "accuracy": lambda c: m.accuracy(c["hallucinated"], c["flagged"]),
    "precision_hallucinated": lambda c: m.precision(c["hallucinated"], c["flagged"]),
    "recall_hallucinated": lambda c: m.recall(c["hallucinated"], c["flagged"]),
    "f1_hallucinated": lambda c: m.f1(c["hallucinated"], c["flagged"]),
    "balanced_accuracy": lambda c: m.balanced_accuracy(c["hallucinated"], c["flagged"]),
    "auroc": lambda c: m.auroc(c["hallucinated"], c["score"]),
    "ece": lambda c: m.ece(c["hallucinated"], c["score"]),
    "latency_p50_ms": lambda c: m.percentile(c["latency_ms"], 50),
    "latency_p95_ms": lambda c: m.percentile(c["latency_ms"], 95),
}


def _tier_rate(tier: str) -> Metric:
    return lambda c: m.rate(c["tier"] == tier)


def _cost_per_item(c: Columns) -> m.Value:
    unknown = int(np.isnan(c["cost_usd"]).sum())
    if unknown:
        return m.Undefined(f"model price unknown for {unknown} item(s)")
    return m.mean(c["cost_usd"], "no items")


GENERATION_METRICS: dict[str, Metric] = {
    "fact_recall": lambda c: m.mean(c["fact_recall"], "no item has reference facts"),
    "hallucination_rate": lambda c: m.rate(c["flagged"]),
    "citation_recall": lambda c: m.mean(c["citation_recall"], "no answer cited a source"),
    "citation_precision": lambda c: m.mean(c["citation_precision"], "no answer cited a source"),
    "source_recall": lambda c: m.mean(c["source_recall"], "no item lists expected sources"),
    "review_rate": lambda c: m.rate(c["review_required"]),
    "tier_high_rate": _tier_rate("high"),
    "tier_medium_rate": _tier_rate("medium"),
    "tier_low_rate": _tier_rate("low"),
    "latency_p50_ms": lambda c: m.percentile(c["latency_ms"], 50),
    "latency_p95_ms": lambda c: m.percentile(c["latency_ms"], 95),
    "tokens_per_item": lambda c: m.mean(c["tokens"], "no items"),
    "cost_per_item_usd": _cost_per_item,
}

REGISTRY: dict[str, dict[str, Metric]] = {"detection": DETECTION_METRICS, "generation": GENERATION_METRICS}

# Whole-run metrics: about the run rather than the items, so they carry no interval.
RUN_METRICS = ("error_rate", "items_scored")


def metric_values(cols: Columns, kind: str) -> dict[str, m.Value]:
    """Every item metric of ``kind`` on these columns."""
    return {name: metric(cols) for name, metric in REGISTRY[kind].items()}


def metric_names(kind: str) -> list[str]:
    return [*REGISTRY[kind], *RUN_METRICS]


def is_scored(result: Result) -> bool:
    """Metrics count the item: it finished without error and, for detection, guard gave it a score."""
    return result.ok and not (isinstance(result, DetectionResult) and result.score is None)


def scored(results: Sequence[Result]) -> list[Result]:
    return [r for r in results if is_scored(r)]


def _nan(value: float | None) -> float:
    return np.nan if value is None else value


def columns(results: Sequence[Result], kind: str) -> Columns:
    """Arrays over ``scored(results)`` holding what the kind's metrics read."""
    rows = scored(results)
    latency = np.array([_nan(r.latency_ms) for r in rows], dtype=float)
    if kind == "detection":
        det: list[DetectionResult] = rows  # type: ignore[assignment]
        return {
            "hallucinated": np.array([r.hallucinated for r in det], dtype=bool),
            "flagged": np.array([bool(r.flagged) for r in det], dtype=bool),
            "score": np.array([r.score for r in det], dtype=float),
            "latency_ms": latency,
        }
    gen: list[GenerationResult] = rows  # type: ignore[assignment]
    return {
        "fact_recall": np.array([_nan(r.fact_recall) for r in gen], dtype=float),
        "flagged": np.array([bool(r.flagged) for r in gen], dtype=bool),
        "review_required": np.array([bool(r.review_required) for r in gen], dtype=bool),
        "tier": np.array([r.tier or "" for r in gen], dtype=object),
        "citation_recall": np.array([_nan(r.citation_recall) for r in gen], dtype=float),
        "citation_precision": np.array([_nan(r.citation_precision) for r in gen], dtype=float),
        "source_recall": np.array([_nan(r.source_recall) for r in gen], dtype=float),
        "latency_ms": latency,
        "tokens": np.array([r.prompt_tokens + r.completion_tokens for r in gen], dtype=float),
        "cost_usd": np.array([_nan(r.cost_usd) for r in gen], dtype=float),
    }


def take(cols: Columns, index: np.ndarray) -> Columns:
    return {name: values[index] for name, values in cols.items()}


def run_metrics(results: Sequence[Result]) -> dict[str, m.Value]:
    total = len(results)
    failed = sum(1 for r in results if not r.ok)
    return {
        "error_rate": failed / total if total else m.Undefined("no items"),
        "items_scored": float(len(scored(results))),
    }
