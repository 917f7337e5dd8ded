"""``guard spec``: the product spec checked, what its risk level turns on and why, and recommendations from evidence.

The recommendation reads the records: for each model the product has served
(through experiments too), accuracy where people reviewed, hallucination rate,
p95 latency and cost per answer, against the spec's targets; the cheapest model
that meets ``accuracy_target`` and the latency target wins, or the report says
that none does and by how much. The capacity estimate turns the measured guard
time per answer into workers for ``daily_requests_estimate`` and
``peak_concurrency_estimate``. Without records it says what it would need.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from guard.config import RISK_DEFAULTS, GuardConfig
from guard.experiments import sequential
from guard.report.figures import figures
from guard.report.health import targets
from guard.report.query import Group, ReportQueries, Slice, merged

if TYPE_CHECKING:
    from guard.store import Store

RISK_MEANING = {"low": "a wrong answer is an inconvenience", "medium": "a wrong answer costs rework",
                "high": "a wrong answer can cause financial or legal harm", "critical": "a wrong answer can harm safety"}
WHY = {
    "citations.required": "every factual sentence must cite a retrieved source, so a reader can check it",
    "consistency.enabled": "the answer is sampled several times; disagreement lowers confidence",
    "review.policy": "low-confidence answers {}",
    "streaming.mode": "streams {}",
    "grounding.refuse_without_source": "{}",
}
UTILISATION = 0.7  # plan workers to run at most this busy, so bursts queue briefly instead of piling up
MIN_REVIEWED = 30  # fewer reviewed answers than this: accuracy is shown, but its interval is wide


class RiskSetting(BaseModel):
    setting: str
    value: Any
    risk_default: Any
    source: str  # "risk default" or "set explicitly"
    why: str


class ModelEvidence(BaseModel):
    model: str
    requests: int
    variants: list[str] = Field(default_factory=list)  # experiment/variant arms that served it
    accuracy: float | None = None
    accuracy_ci95: list[float] | None = None
    reviewed: int = 0
    hallucination_rate: float | None = None
    latency_p95_ms: float | None = None
    cost_per_answer_usd: float | None = None
    meets: bool | None = None  # None: not enough evidence to say
    gaps: list[str] = Field(default_factory=list)  # why it misses, or what is unknown


class Capacity(BaseModel):
    guard_ms_per_answer: float | None = None
    latency_p50_s: float | None = None
    daily_requests_estimate: int | None = None
    peak_concurrency_estimate: int | None = None
    workers_for_daily: int | None = None
    workers_for_peak: int | None = None
    workers: int | None = None
    note: str


class SpecReport(BaseModel):
    product: str
    risk: str
    risk_meaning: str
    settings: list[RiskSetting]
    checks: list[str]  # things in the spec worth a second look
    targets: dict[str, float | None]
    models: list[ModelEvidence]
    recommendation: str
    capacity: Capacity


def risk_settings(config: GuardConfig) -> list[RiskSetting]:
    """What the risk level turns on, each with its value in force and whether the risk level or the config set it."""
    rows = []
    for dotted, default in RISK_DEFAULTS[config.product.risk].items():
        section, field = dotted.split(".")
        value = getattr(getattr(config, section), field)
        why = WHY[dotted]
        if dotted == "review.policy":
            why = why.format("are held for a person before the user sees them" if value == "block"
                             else "reach the user and are queued for a person")
        elif dotted == "streaming.mode":
            why = why.format("are verified before the first token is sent" if value == "buffer"
                             else "send tokens at once, then the verdict")
        elif dotted == "grounding.refuse_without_source":
            why = why.format("no source found, no answer" if value else "answers even without a source (rated lower)")
        rows.append(RiskSetting(setting=dotted, value=value, risk_default=default,
                                source="risk default" if value == default else "set explicitly", why=why))
    return rows


def spec_checks(config: GuardConfig) -> list[str]:
    """Combinations in the spec that are allowed but probably not meant."""
    spec, checks = config.product, []
    risky = spec.risk.value in ("high", "critical")
    if risky and not config.review.enabled:
        checks.append(f"risk is {spec.risk.value} but review is off: no wrong answer will reach a person")
    if risky and config.citations.required is False:
        checks.append(f"risk is {spec.risk.value} but citations.required is false: answers need not cite sources")
    if spec.max_latency_s is not None and config.consistency.enabled:
        checks.append(f"self-consistency draws {config.consistency.samples} samples: it costs more tokens, and "
                      f"max_latency_s ({spec.max_latency_s:g} s) must cover the slowest of them")
    if spec.daily_requests_estimate is None and spec.peak_concurrency_estimate is None:
        checks.append("no daily_requests_estimate or peak_concurrency_estimate: no capacity estimate")
    if spec.data_residency and not config.models.default.startswith("local/"):
        checks.append(f"data_residency is {spec.data_residency!r}: guard records it but does not enforce it; "
                      f"check where {config.models.default} is served")
    return checks


def model_evidence(slices: dict[Group, Slice], variants: dict[str, list[str]], config: GuardConfig) -> list[ModelEvidence]:
    """Each served model's figures, aggregated by the database."""
    goals = targets(config)
    by_model: dict[str, Slice] = {}
    for (_, model), data in slices.items():
        total = by_model.setdefault(model or "unknown", Slice())
        total += data
    evidence = []
    for model, data in sorted(by_model.items()):
        if not data.sums["answered"]:
            continue
        figs = figures(data)
        accuracy = None
        if figs.accuracy is not None:
            accuracy = sequential.proportion(round(figs.accuracy * figs.reviews_labelled), figs.reviews_labelled,
                                             tau=0.1)
        row = ModelEvidence(
            model=model, requests=figs.answered, variants=variants.get(model, []),
            accuracy=figs.accuracy, accuracy_ci95=accuracy.ci95 if accuracy else None,
            reviewed=figs.reviews_labelled, hallucination_rate=figs.hallucination_rate,
            latency_p95_ms=figs.latency_ms.p95, cost_per_answer_usd=figs.cost_per_answer_usd)
        _judge(row, goals["accuracy"].value if "accuracy" in goals else None, goals["latency_p95_ms"].value)
        evidence.append(row)
    return evidence


def _judge(row: ModelEvidence, accuracy_target: float | None, latency_target_ms: float) -> None:
    misses, unknown = [], []
    if accuracy_target is not None:
        if row.accuracy is None:
            unknown.append(f"accuracy unknown: no reviewed answer (review at least {MIN_REVIEWED})")
        elif row.accuracy < accuracy_target:
            misses.append(f"accuracy {row.accuracy:.0%} is {accuracy_target - row.accuracy:.0%} short of "
                          f"{accuracy_target:.0%}")
        elif row.reviewed < MIN_REVIEWED:
            unknown.append(f"accuracy {row.accuracy:.0%} on only {row.reviewed} reviewed answers")
    if row.latency_p95_ms is not None and row.latency_p95_ms > latency_target_ms:
        misses.append(f"p95 latency {row.latency_p95_ms / 1000:.2f} s is {(row.latency_p95_ms - latency_target_ms) / 1000:.2f} s "
                      f"over {latency_target_ms / 1000:g} s")
    row.gaps = misses + unknown
    row.meets = False if misses else None if unknown else True


def recommend(models: list[ModelEvidence]) -> str:
    if not models:
        return ("no answered request recorded yet: serve traffic through guard (or an experiment), and have people "
                "review some answers (guard review, the console); then each model's accuracy, latency and cost "
                "can be weighed against the spec")
    meeting = [m for m in models if m.meets]
    if meeting:
        cheapest = min(meeting, key=lambda m: (m.cost_per_answer_usd is None, m.cost_per_answer_usd or 0.0))
        cost = ("cost unknown" if cheapest.cost_per_answer_usd is None
                else f"${cheapest.cost_per_answer_usd:.5f} per answer")
        others = [m.model for m in meeting if m is not cheapest]
        also = f"; {', '.join(others)} also meet{'s' if len(others) == 1 else ''} them at a higher cost" if others else ""
        return (f"{cheapest.model}: meets the accuracy and latency targets at the lowest cost ({cost}, accuracy "
                f"{cheapest.accuracy:.0%} on {cheapest.reviewed} reviewed answers){also}")
    lines = [f"{m.model}: {'; '.join(m.gaps)}" for m in models]
    verdict = "no model meets the targets" if all(m.meets is False for m in models) else \
        "no model is shown to meet the targets yet"
    return verdict + " — " + " | ".join(lines)


def capacity(queries: ReportQueries, slices: dict[Group, Slice], config: GuardConfig) -> Capacity:
    """Workers for the spec's load at the measured guard time per answer.

    guard's own time per answer (total minus the model's) is CPU on one core of a worker; the model's wait
    costs no CPU. Peak requests per second follow from the peak concurrency by Little's law (concurrency =
    rate × latency).
    """
    spec = config.product
    answered, guard_ms = queries.guard_time()
    if not answered:
        return Capacity(daily_requests_estimate=spec.daily_requests_estimate,
                        peak_concurrency_estimate=spec.peak_concurrency_estimate,
                        note="no answered request recorded yet: capacity needs guard's measured time per answer")
    p50 = figures(merged(slices.values())).latency_ms.p50
    p50_s = (p50 or 0.0) / 1000
    per_worker = UTILISATION * 1000 / guard_ms if guard_ms > 0 else math.inf  # answers per second per worker
    daily = peak = None
    if spec.daily_requests_estimate is not None:
        daily = max(1, math.ceil(spec.daily_requests_estimate / 86_400 / per_worker))
    if spec.peak_concurrency_estimate is not None and p50_s > 0:
        peak = max(1, math.ceil(spec.peak_concurrency_estimate / p50_s / per_worker))
    needed = max((w for w in (daily, peak) if w is not None), default=None)
    note = (f"guard takes {guard_ms:.1f} ms of CPU per answer (mean over {answered} answers), so one worker "
            f"serves about {per_worker:.0f} answers/s at {UTILISATION:.0%} busy")
    if peak is not None:
        at = f"{p50_s:.2f} s" if p50_s >= 1 else f"{p50_s * 1000:.0f} ms"
        note += (f"; {spec.peak_concurrency_estimate} requests in flight at a p50 of {at} is "
                 f"{spec.peak_concurrency_estimate / p50_s:,.1f} requests/s")
    if spec.daily_requests_estimate is not None:
        note += f"; {spec.daily_requests_estimate:,} a day is {spec.daily_requests_estimate / 86_400:.2f} requests/s on average"
    return Capacity(guard_ms_per_answer=round(guard_ms, 2), latency_p50_s=round(p50_s, 3),
                    daily_requests_estimate=spec.daily_requests_estimate,
                    peak_concurrency_estimate=spec.peak_concurrency_estimate, workers_for_daily=daily,
                    workers_for_peak=peak, workers=needed, note=note)


def spec_report(config: GuardConfig, queries: ReportQueries) -> SpecReport:
    """The spec explained and checked against the records ``queries`` reads."""
    goals = targets(config)
    slices = queries.read(split=queries.until).slices  # one read of the window serves models and capacity
    models = model_evidence(slices, queries.variants_by_model(), config)
    return SpecReport(
        product=config.product.name, risk=config.product.risk.value,
        risk_meaning=RISK_MEANING[config.product.risk.value], settings=risk_settings(config),
        checks=spec_checks(config),
        targets={"accuracy": goals["accuracy"].value if "accuracy" in goals else None,
                 "latency_p95_ms": goals["latency_p95_ms"].value,
                 "cost_per_answer_usd": goals["cost_per_answer_usd"].value if "cost_per_answer_usd" in goals else None},
        models=models, recommendation=recommend(models), capacity=capacity(queries, slices, config))


def build_spec_report(store: Store, config: GuardConfig, *, since: datetime, until: datetime) -> SpecReport:
    """The spec report over the records of ``[since, until)``, aggregated by the database (blocking)."""
    with store.reading() as conn:
        return spec_report(config, ReportQueries(conn, since, until))
