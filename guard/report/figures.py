"""The figures of the health check, computed from records for any slice of requests.

One function serves the whole window and each tier alike, so a tier's edit
rate is computed exactly as the overall one is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from guard.report.model import Figures, Latency
from guard.store.models import FeedbackRecord, RequestRecord, ReviewItem

_DECIDED = ("approved", "edited", "rejected")


def figures(records: list[RequestRecord], feedback: Mapping[str, FeedbackRecord],
            reviews: Mapping[str, ReviewItem]) -> Figures:
    """All figures for ``records``; ``feedback`` and ``reviews`` are keyed by request id."""
    answered = [r for r in records if is_answered(r)]
    mine_fb = [feedback[r.request_id] for r in records if r.request_id in feedback]
    mine_rv = [reviews[r.request_id] for r in records if r.request_id in reviews]
    decided = [rv for rv in mine_rv if rv.status in _DECIDED]
    checked = [r for r in answered if _support_checked(r)]
    ratings = [f.rating for f in mine_fb if f.rating]
    pairs = [(feedback.get(r.request_id), reviews.get(r.request_id)) for r in answered]
    outcomes = [o for o in (_edit_outcome(fb, rv) for fb, rv in pairs) if o is not None]
    used = [u for u in (_used(fb, rv) for fb, rv in pairs) if u is not None]
    resolved = [f.resolved for f in mine_fb if f.resolved is not None]
    spend = total_cost(records)
    answer_costs = [record_cost(r) for r in answered if r.cost_usd is not None]
    return Figures(
        requests=len(records),
        answered=len(answered),
        failed=len(records) - len(answered),
        hallucination_rate=share(bool(r.unsupported) for r in checked),
        support_checked=len(checked),
        reviewer_rejection_rate=share(rv.status == "rejected" for rv in decided),
        accuracy=share(rv.status == "approved" for rv in decided),
        reviews_decided=len(decided),
        latency_ms=latency([r.latency_total_ms for r in records]),
        thumbs_up_ratio=share(x > 0 for x in ratings),
        ratings=len(ratings),
        edit_rate=share(edited for edited, _ in outcomes),
        mean_edit_distance=mean(d for _, d in outcomes if d is not None),
        drafts_with_outcome=len(outcomes),
        adoption=share(used),
        use_known=len(used),
        deflection=share(is_answered(r) and r.delivered and r.review_id is None for r in records),
        resolution_rate=share(resolved),
        resolution_known=len(resolved),
        cost_usd=spend,
        cost_per_answer_usd=mean(answer_costs),
        cost_per_resolved_usd=spend / sum(resolved) if spend is not None and any(resolved) else None,
    )


def is_answered(record: RequestRecord) -> bool:
    """The call produced a verdict (it did not fail)."""
    return record.error_class is None and record.tier is not None


def latency(values: Iterable[float | None]) -> Latency:
    """p50 and p95 of the known values, or nulls when there are none."""
    known = [v for v in values if v is not None]
    if not known:
        return Latency()
    p50, p95 = np.percentile(known, [50, 95])
    return Latency(p50=round(float(p50), 1), p95=round(float(p95), 1))


def share(flags: Iterable[bool]) -> float | None:
    """The share of true flags, or None when there are no flags at all (no data is not 0 %)."""
    values = list(flags)
    return sum(values) / len(values) if values else None


def mean(values: Iterable[float]) -> float | None:
    known = list(values)
    return sum(known) / len(known) if known else None


def _support_checked(record: RequestRecord) -> bool:
    status = (record.layers.get("support") or {}).get("status")
    return status == "ok" or bool(record.unsupported)


def _edit_outcome(fb: FeedbackRecord | None, rv: ReviewItem | None) -> tuple[bool, float | None] | None:
    """(edited, edit distance) when what was finally sent is known: the user's feedback wins over the review."""
    if fb is not None and fb.edited is not None:
        return fb.edited, fb.edit_distance
    if rv is not None and rv.status == "edited":
        return True, rv.edit_distance
    if rv is not None and rv.status == "approved":
        return False, 0.0
    return None


def _used(fb: FeedbackRecord | None, rv: ReviewItem | None) -> bool | None:
    """Whether the answer was used (as sent or after editing), when feedback or a review says so."""
    if fb is not None and fb.final_text is not None:
        return bool(fb.final_text.strip())
    if rv is not None and rv.status != "pending":
        return rv.status in ("approved", "edited")
    return None


def record_cost(record: RequestRecord) -> float:
    """What one request cost: the answer, extra samples and verification calls."""
    return (record.cost_usd or 0.0) + (record.samples_cost_usd or 0.0) + record.verification_cost_usd


def total_cost(records: list[RequestRecord]) -> float | None:
    """Total spend of the records with a known price, or None when none has one."""
    priced = [record_cost(r) for r in records if r.cost_usd is not None or r.verification_cost_usd]
    return sum(priced) if priced else None
