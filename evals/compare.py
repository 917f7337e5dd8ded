"""A/B between two reports on the same items: metric deltas with paired intervals, and what changed.

Deltas are B minus A over the items both runs scored. The bootstrap resamples
those items once for both arms, so the interval reflects the change itself,
not the spread of two independent runs; an interval that excludes 0 is a change
the data supports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from guard.evals import metrics as m
from guard.evals.report import Report, ReportError, plain_interval, plain_value
from guard.evals.results import DetectionResult, Result
from guard.evals.scoring import columns, is_scored, metric_values, take


@dataclass
class Delta:
    a: float | None
    b: float | None
    delta: float | None
    interval: tuple[float, float] | None


@dataclass
class ChangedItem:
    id: str
    a: str
    b: str
    label: str | None = None  # detection: the human label
    effect: str | None = None  # detection: "fixed" or "broken" against the label


@dataclass
class Comparison:
    kind: str
    a: str
    b: str
    paired: int
    only_a: int
    only_b: int
    same_dataset: bool
    deltas: dict[str, Delta] = field(default_factory=dict)
    changed: list[ChangedItem] = field(default_factory=list)

    def dump(self) -> dict:
        return asdict(self)


def compare_reports(a: Report, b: Report, *, resamples: int = 1000, seed: int = 0,
                    names: tuple[str, str] = ("A", "B")) -> Comparison:
    if a.suite.kind != b.suite.kind:
        raise ReportError(f"cannot compare a {a.suite.kind} report with a {b.suite.kind} report")
    kind = a.suite.kind
    items_a = {i.id: i for i in a.items}
    items_b = {i.id: i for i in b.items}
    common = [i for i in items_a if i in items_b]
    both_scored = [i for i in common if is_scored(items_a[i]) and is_scored(items_b[i])]
    cols_a = columns([items_a[i] for i in both_scored], kind)
    cols_b = columns([items_b[i] for i in both_scored], kind)
    values_a, values_b = metric_values(cols_a, kind), metric_values(cols_b, kind)

    def paired_deltas(index: np.ndarray) -> dict[str, m.Value]:
        resampled_a = metric_values(take(cols_a, index), kind)
        resampled_b = metric_values(take(cols_b, index), kind)
        return {name: _difference(resampled_b[name], resampled_a[name]) for name in resampled_a}

    intervals = m.bootstrap_intervals(paired_deltas, len(both_scored), resamples=resamples, seed=seed)
    deltas = {}
    for name in values_a:
        va, vb = plain_value(values_a[name]), plain_value(values_b[name])
        deltas[name] = Delta(a=va, b=vb, delta=None if va is None or vb is None else round(vb - va, 6),
                             interval=plain_interval(intervals.get(name)))
    return Comparison(
        kind=kind, a=names[0], b=names[1], paired=len(both_scored),
        only_a=len(set(items_a) - set(items_b)), only_b=len(set(items_b) - set(items_a)),
        same_dataset=a.dataset_hash == b.dataset_hash, deltas=deltas,
        changed=[_changed(items_a[i], items_b[i]) for i in common if _call(items_a[i]) != _call(items_b[i])],
    )


def _difference(b: m.Value, a: m.Value) -> m.Value:
    if isinstance(a, m.Undefined):
        return a
    if isinstance(b, m.Undefined):
        return b
    return b - a


def _call(item: Result) -> str:
    if not item.ok:
        return "error"
    return item.verdict or "no score"


def _changed(a: Result, b: Result) -> ChangedItem:
    change = ChangedItem(id=a.id, a=_call(a), b=_call(b))
    if isinstance(a, DetectionResult) and isinstance(b, DetectionResult):
        change.label = "hallucinated" if a.hallucinated else "faithful"
        if b.verdict == change.label:
            change.effect = "fixed"
        elif a.verdict == change.label:
            change.effect = "broken"
    return change
