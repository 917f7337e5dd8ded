"""The console's experiments page: every experiment in the store, its variants' metrics with intervals,
the differences to control, the guardrails and the verdict, as ``guard experiment report`` computes them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from guard.experiments.definitions import list_experiments
from guard.experiments.report import ExperimentReport, build_experiment_report
from guard.store import Store

LABELS = {"edit_rate": "Edit rate", "thumbs_up_ratio": "Thumbs-up ratio", "hallucination_rate": "Hallucination rate",
          "review_rate": "Sent to review", "latency_p95_ms": "Latency p95", "cost_per_answer_usd": "Cost per answer"}


def experiment_reports(store: Store, window: timedelta) -> list[ExperimentReport]:
    """Each experiment's report over the window, newest experiment first (blocking: run it in a thread)."""
    until = datetime.now(timezone.utc)
    return [build_experiment_report(store, e.name, since=until - window, until=until)
            for e in reversed(list_experiments(store))]


def fmt(metric: str, value: float | None, signed: bool = False) -> str:
    """A metric's value as people read it: ratios in %, latency in ms, cost in dollars."""
    if value is None:
        return "no data"
    sign = "+" if signed else ""
    if metric == "latency_p95_ms":
        return f"{value:{sign},.0f} ms"
    if metric == "cost_per_answer_usd":
        return f"{value:{sign}.5f} $"
    return f"{value * 100:{sign}.1f}%"
