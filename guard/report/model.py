"""The health report as data: what ``--json`` prints and what the renderers draw.

Ratios are fractions (0..1), latencies milliseconds, costs USD. A figure with
no data behind it is ``None`` (``null`` in JSON) and its status ``NO DATA``:
never a made-up 0. Each figure has a 95 % interval ``[low, high]`` (``null`` for
a side the data cannot bound); a target is PASS or FAIL only when the whole
interval settles it, otherwise ``TOO FEW DATA``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["PASS", "WARN", "FAIL", "TOO FEW DATA", "NO DATA"]
Interval = tuple[float | None, float | None]
Layer = Literal["model quality", "product usage", "business impact"]
Unit = Literal["ratio", "ms", "usd"]


class Window(BaseModel):
    since: datetime
    until: datetime


class Latency(BaseModel):
    p50: float | None = None
    p95: float | None = None


class Figures(BaseModel):
    """Every figure of the health check, for one slice of requests (all of them, one tier, one model)."""

    requests: int = 0
    answered: int = 0
    failed: int = 0
    flag_rate: float | None = None  # answers guard listed an unsupported claim for, of those the support check ran on
    support_checked: int = 0
    flagged: int = 0
    hallucination_rate: float | None = None  # estimated from reviewers' labels: see ``stats.mixture``
    hallucination_labels: int = 0  # labelled flagged answers plus labelled audit samples
    flagged_labelled: int = 0  # flagged answers a reviewer's decision labels (guard.labels.review_label)
    flagged_wrong: int = 0  # ... of which labelled hallucinated: the flag was right
    audit_labelled: int = 0  # unflagged answers sampled for audit and labelled
    audit_wrong: int = 0  # ... of which labelled hallucinated: guard missed them
    reviewer_rejection_rate: float | None = None  # rejected, of reviews decided
    reviews_decided: int = 0
    accuracy: float | None = None  # labelled faithful, of decided reviews with a label
    reviews_labelled: int = 0
    latency_ms: Latency = Field(default_factory=Latency)
    latency_known: int = 0
    thumbs_up_ratio: float | None = None
    ratings: int = 0
    edit_rate: float | None = None  # drafts changed beyond whitespace/case/punctuation, of those whose fate is known
    mean_edit_distance: float | None = None
    drafts_with_outcome: int = 0
    edit_distances: int = 0
    adoption: float | None = None  # answers used as sent or after editing, of those whose use is known
    use_known: int = 0
    deflection: float | None = None  # answered without going to a person, of all requests
    resolution_rate: float | None = None
    resolution_known: int = 0
    cost_usd: float | None = None  # total spend: answers, extra samples, verification
    cost_per_answer_usd: float | None = None
    priced_answers: int = 0
    cost_per_resolved_usd: float | None = None
    intervals: dict[str, Interval] = Field(default_factory=dict)  # metric key -> 95 % interval


class Target(BaseModel):
    value: float
    direction: Literal["max", "min"]  # max: lower is better; min: higher is better


class Metric(BaseModel):
    """One line of the health check."""

    key: str
    layer: Layer
    label: str
    unit: Unit
    value: float | None
    interval: Interval | None  # 95 %; a null side is unbounded by the data
    n: int  # the items the value is a share or statistic of
    target: Target | None
    status: Status | None  # None for a figure shown without a target
    more_needed: int | None = None  # TOO FEW DATA: about this many more items settle it at the current rate
    basis: str  # what the value is a share of, in words, e.g. "40 rated answers"
    method: str | None = None  # how an estimated figure is computed, in one line


class Drift(BaseModel):
    """The recent window against the rest of the report's window, with a test of each change."""

    status: Literal["OK", "ALERT", "NO DATA"]
    message: str
    recent: Window
    baseline: Window
    recent_requests: int
    baseline_requests: int
    tier_mix_recent: dict[str, float] = Field(default_factory=dict)
    tier_mix_baseline: dict[str, float] = Field(default_factory=dict)
    tier_psi: float | None = None
    tier_p_value: float | None = None  # chi-square test of the tier counts: recent against baseline
    confidence_recent: float | None = None
    confidence_baseline: float | None = None
    confidence_recent_n: int = 0
    confidence_baseline_n: int = 0
    confidence_delta: float | None = None
    confidence_delta_interval: Interval | None = None  # Welch's 95 % interval of the difference in means
    confidence_p_value: float | None = None  # Welch's t-test


class Summary(BaseModel):
    """The plain-language part, for people who do not read F1 scores."""

    status: str  # e.g. "3 on target, 1 off target, 2 too few data"
    on_target: int
    off_target: int
    too_few_data: int
    no_data: int
    with_target: int
    highlights: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)


class Day(BaseModel):
    date: date
    requests: int
    tiers: dict[str, int]
    latency_ms: Latency
    cost_usd: float | None


class HealthReport(BaseModel):
    """The layered health check of one product over one window."""

    product: str
    window: Window
    requests: int
    edit_rate: float | None
    thumbs_up_ratio: float | None
    flag_rate: float | None
    hallucination_rate: float | None
    latency_ms: Latency
    cost_usd: float | None
    metrics: list[Metric]
    health: dict[str, Status]
    by_tier: dict[str, Figures]
    tier_health: dict[str, dict[str, Status]]  # tier -> metric -> status, graded like the overall health
    by_model: dict[str, Figures]  # per served model
    overall: Figures
    targets: dict[str, Target]
    drift: Drift
    summary: Summary
    daily: list[Day]
    calibrations: dict[str, int] = {}  # answers per support calibration in force (guard.calibration); "shipped": none
