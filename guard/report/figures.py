"""The figures of the health check and their intervals, from one slice's aggregates.

One function serves the whole window, each tier and each model alike, so a tier's edit rate is
computed exactly as the overall one is.
"""

from __future__ import annotations

from guard.report.model import Figures, Interval, Latency
from guard.report.query import Histogram, Slice
from guard.report.stats import PERCENTILES, mean_interval, mixture, quantile_ranks, wilson


def figures(data: Slice) -> Figures:
    """All figures of a slice, each share with its Wilson interval, percentiles and means with theirs."""
    s, labels = data.sums, data.labels
    intervals: dict[str, Interval] = {}

    def share(key: str, hits: int, n: int) -> float | None:
        intervals[key] = wilson(hits, n)
        return hits / n if n else None

    def average(key: str, n: int, total: float, squares: float) -> float | None:
        intervals[key] = mean_interval(n, total, squares)
        return total / n if n else None

    flagged_labelled = labels["flagged", "faithful"] + labels["flagged", "hallucinated"]
    audit_labelled = labels["audit", "faithful"] + labels["audit", "hallucinated"]
    wrong = sum(n for (_, label), n in labels.items() if label == "hallucinated")
    labelled = wrong + sum(n for (_, label), n in labels.items() if label == "faithful")
    estimate, intervals["hallucination_rate"] = mixture(
        (s["flagged"], s["support_checked"]), (labels["flagged", "hallucinated"], flagged_labelled),
        (labels["audit", "hallucinated"], audit_labelled))
    latency, latency_known = _latency(data.latency, intervals)
    spend = s["cost_sum"] if s["priced"] else None
    return Figures(
        requests=s["requests"],
        answered=s["answered"],
        failed=s["requests"] - s["answered"],
        flag_rate=share("flag_rate", s["flagged"], s["support_checked"]),
        support_checked=s["support_checked"],
        flagged=s["flagged"],
        hallucination_rate=estimate,
        hallucination_labels=flagged_labelled + audit_labelled,
        flagged_labelled=flagged_labelled,
        flagged_wrong=labels["flagged", "hallucinated"],
        audit_labelled=audit_labelled,
        audit_wrong=labels["audit", "hallucinated"],
        reviewer_rejection_rate=share("reviewer_rejection_rate", s["rejected"], s["reviews_decided"]),
        reviews_decided=s["reviews_decided"],
        accuracy=share("accuracy", labelled - wrong, labelled),
        reviews_labelled=labelled,
        latency_ms=latency,
        latency_known=latency_known,
        thumbs_up_ratio=share("thumbs_up_ratio", s["thumbs_up"], s["ratings"]),
        ratings=s["ratings"],
        edit_rate=share("edit_rate", s["edited"], s["drafts_with_outcome"]),
        mean_edit_distance=average("mean_edit_distance", s["distance_n"], s["distance_sum"], s["distance_squares"]),
        drafts_with_outcome=s["drafts_with_outcome"],
        edit_distances=s["distance_n"],
        adoption=share("adoption", s["used"], s["use_known"]),
        use_known=s["use_known"],
        deflection=share("deflection", s["deflected"], s["requests"]),
        resolution_rate=share("resolution_rate", s["resolved"], s["resolution_known"]),
        resolution_known=s["resolution_known"],
        cost_usd=spend,
        cost_per_answer_usd=average("cost_per_answer_usd", s["answer_cost_n"], s["answer_cost_sum"],
                                    s["answer_cost_squares"]),
        priced_answers=s["answer_cost_n"],
        cost_per_resolved_usd=spend / s["resolved"] if spend is not None and s["resolved"] else None,
        intervals=intervals,
    )


def latency(buckets: Histogram) -> Latency:
    """p50 and p95 (nulls when no latency is known)."""
    return Latency(**{name: _round(buckets.percentile(q)) for name, q in PERCENTILES.items()})


def _latency(buckets: dict[float, int], intervals: dict[str, Interval]) -> tuple[Latency, int]:
    """The percentiles with their order-statistic intervals."""
    histogram = Histogram(buckets)  # type: ignore[arg-type]
    for name, q in PERCENTILES.items():
        low, high = quantile_ranks(histogram.n, q)
        intervals[f"latency_{name}_ms"] = (histogram.order_statistic(low), histogram.order_statistic(high))
    return latency(histogram), histogram.n


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
