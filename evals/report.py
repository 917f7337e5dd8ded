"""The JSON report of one run: metrics with intervals, threshold verdicts, hashes, and every item."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guard.evals import metrics as m
from guard.evals.results import AnyResult, DetectionResult, GenerationResult
from guard.evals.scoring import columns, metric_values, run_metrics, scored, take
from guard.evals.suite import Suite


class ReportError(ValueError):
    """A file that is not a readable eval report."""


class SuiteInfo(BaseModel):
    name: str
    kind: Literal["detection", "generation"]
    file: str | None = None
    dataset: str


class Counts(BaseModel):
    items: int
    scored: int
    failed: int
    unscored: int = Field(0, description="Finished without error but guard produced no confidence.")


class ThresholdVerdict(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    target: str
    value: float | None
    passed: bool = Field(alias="pass")


class Report(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    suite: SuiteInfo
    arm: str | None = Field(None, description="Which config of an A/B run produced this report.")
    created_at: str
    guard_version: str
    config_hash: str
    dataset_hash: str
    documents_hash: str | None = None
    decision_threshold: float | None = None
    wall_seconds: float | None = Field(None, description="Wall time of the invocation that finished the run.")
    counts: Counts
    metrics: dict[str, float | None]
    undefined: dict[str, str] = Field(default_factory=dict, description="Why a metric reads null.")
    intervals: dict[str, tuple[float, float] | None] = Field(default_factory=dict)
    reliability: list[dict[str, Any]] = Field(default_factory=list)
    thresholds: dict[str, ThresholdVerdict] = Field(default_factory=dict)
    passed: bool = Field(description="Every threshold met, and at least one item scored: nothing measured never passes.")
    items: list[AnyResult]

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def build_report(
    suite: Suite,
    results: list[DetectionResult] | list[GenerationResult],
    *,
    config_hash: str,
    dataset_hash: str,
    documents_hash: str | None = None,
    decision_threshold: float | None = None,
    arm: str | None = None,
    suite_file: Path | None = None,
    wall_seconds: float | None = None,
) -> Report:
    cols = columns(results, suite.kind)
    n_scored = len(scored(results))
    values = {**metric_values(cols, suite.kind), **run_metrics(results)}
    intervals = m.bootstrap_intervals(lambda index: metric_values(take(cols, index), suite.kind), n_scored,
                                      resamples=suite.bootstrap_resamples, seed=suite.seed)
    plain = {name: plain_value(v) for name, v in values.items()}
    verdicts = {
        name: ThresholdVerdict(target=str(t), value=plain.get(name), passed=t.passes(plain.get(name)))
        for name, t in suite.thresholds.items()
    }
    reliability = []
    if suite.kind == "detection" and n_scored:
        reliability = [vars(b) for b in m.reliability_table(cols["hallucinated"], cols["score"])]
    failed = sum(1 for r in results if not r.ok)
    return Report(
        suite=SuiteInfo(name=suite.name, kind=suite.kind, file=str(suite_file) if suite_file else None,
                        dataset=str(suite.dataset)),
        arm=arm,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        guard_version=_guard_version(),
        config_hash=config_hash,
        dataset_hash=dataset_hash,
        documents_hash=documents_hash,
        decision_threshold=decision_threshold,
        wall_seconds=None if wall_seconds is None else round(wall_seconds, 2),
        counts=Counts(items=len(results), scored=n_scored, failed=failed, unscored=len(results) - failed - n_scored),
        metrics=plain,
        undefined={name: v.reason for name, v in values.items() if isinstance(v, m.Undefined)},
        intervals={name: plain_interval(i) for name, i in intervals.items()},
        reliability=reliability,
        thresholds=verdicts,
        passed=n_scored > 0 and all(v.passed for v in verdicts.values()),
        items=results,
    )


def format_value(value: float | None) -> str:
    """A metric for people: 4 significant digits, thousands grouped, a dash when missing."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def plain_value(value: m.Value) -> float | None:
    """A metric as JSON holds it: rounded, or null when undefined (the reason is kept apart)."""
    return None if isinstance(value, m.Undefined) else round(float(value), 6)


def plain_interval(interval: m.Interval | m.Undefined | None) -> tuple[float, float] | None:
    if interval is None or isinstance(interval, m.Undefined):
        return None
    return round(interval.low, 6), round(interval.high, 6)


def _guard_version() -> str:
    try:
        return version("guard-llm")
    except PackageNotFoundError:
        return "unknown"


def write_report(report: Report, path: Path) -> None:
    """Write atomically: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(report.dump(), indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


def load_report(path: str | Path) -> Report:
    file = Path(path)
    try:
        return Report.model_validate_json(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"report not found: {file}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ReportError(f"{file}: not an eval report ({where}: {first['msg']})") from None
