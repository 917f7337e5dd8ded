"""A suite file: what to run (kind, dataset) and what counts as passing (thresholds).

Everything that can be wrong with a suite is found when it loads, before any
item runs, and reported as one ``SuiteError`` naming the file and each problem.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from guard.evals.scoring import metric_names

SuiteKind = Literal["detection", "generation"]

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
}
_THRESHOLD = re.compile(r"^\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


class SuiteError(ValueError):
    """The suite cannot run as written; the message names the file and each problem."""


class Threshold(BaseModel):
    """A pass condition on one metric, written like ``">= 0.70"``."""

    model_config = ConfigDict(frozen=True)

    op: Literal[">=", ">", "<=", "<"]
    target: float

    @classmethod
    def parse(cls, text: Any) -> "Threshold":
        match = _THRESHOLD.match(text) if isinstance(text, str) else None
        if not match:
            raise ValueError(f"{text!r} is not a threshold; write a comparison and a number, e.g. \">= 0.70\"")
        return cls(op=match.group(1), target=float(match.group(2)))

    def passes(self, value: float | None) -> bool:
        """An unavailable metric never passes: a gate must not go green on missing evidence."""
        return value is not None and _OPERATORS[self.op](value, self.target)

    def __str__(self) -> str:
        return f"{self.op} {self.target:g}"


class FactJudgeSpec(BaseModel):
    """How generation answers are scored against reference facts."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["support", "llm"] = Field(
        "support", description="support: the configured offline support check; llm: a model as judge.")
    model: str | None = Field(None, description="Judge model for kind=llm; the guard config's default model if unset.")


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    kind: SuiteKind
    dataset: Path = Field(description="JSON Lines file, relative to the suite file.")
    description: str | None = None
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    decision_threshold: float | None = Field(
        None, ge=0, le=1,
        description="Detection: an item is called hallucinated when guard's confidence is below this. "
                    "Defaults to the guard config's support.threshold.")
    judge: FactJudgeSpec = Field(default_factory=FactJudgeSpec)
    documents: Path | None = Field(
        None, description="Generation: a folder of documents to ground answers in, relative to the suite file; "
                          "ingested into a knowledge base kept for evals, so the app's own is left alone.")
    config: Path | None = Field(None, description="guard.yaml for this suite, relative to the suite file.")
    concurrency: int = Field(4, ge=1, le=64, description="Items in flight at once; 1 for a model that serves one "
                                                         "request at a time, so latencies are not queueing time.")
    bootstrap_resamples: int = Field(1000, ge=100, le=100_000)
    seed: int = 0

    @field_validator("thresholds", mode="before")
    @classmethod
    def _parse_thresholds(cls, raw: Any) -> dict[str, Threshold]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise ValueError("must map metric names to conditions, e.g. {auroc: \">= 0.75\"}")
        parsed = {}
        for name, text in raw.items():
            try:
                parsed[str(name)] = Threshold.parse(text)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return parsed

    @model_validator(mode="after")
    def _known_metrics(self) -> "Suite":
        unknown = sorted(set(self.thresholds) - set(metric_names(self.kind)))
        if unknown:
            raise ValueError(f"thresholds on unknown {self.kind} metrics {unknown}; "
                             f"known: {', '.join(metric_names(self.kind))}")
        if self.kind == "detection" and self.documents is not None:
            raise ValueError("documents applies to generation suites only: detection rows carry their sources")
        return self


def shipped_suites() -> dict[str, Path]:
    """The suites installed with guard (``guard/evals/suites``), by name: they run by name after ``pip install``."""
    folder = Path(__file__).resolve().parent / "suites"
    return {file.stem: file for file in sorted(folder.glob("*.yaml"))}


def suite_file(name_or_path: str | Path) -> Path:
    """A suite YAML file as given, or else the shipped suite of that name; an error lists the shipped names."""
    file = Path(name_or_path)
    if file.is_file():
        return file
    shipped = shipped_suites()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise SuiteError(f"no suite file {file} and no shipped suite named {str(name_or_path)!r}; "
                     f"shipped suites: {', '.join(shipped)}")


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; relative paths in it become absolute, anchored at the file."""
    file = Path(path)
    if not file.is_file():
        raise SuiteError(f"suite file not found: {file}")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SuiteError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SuiteError(f"{file}: top level must be a mapping with name, kind, dataset and thresholds")
    try:
        suite = Suite.model_validate(raw)
    except ValidationError as exc:
        problems = [f"  {'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg'].removeprefix('Value error, ')}"
                    for e in exc.errors()]
        raise SuiteError(f"{file}: invalid suite:\n" + "\n".join(problems)) from None
    base = file.resolve().parent
    suite = suite.model_copy(update={
        "dataset": (base / suite.dataset).resolve(),
        # not resolved: a suite may link its documents (the shipped examples_kb links to examples/kb in a checkout)
        "documents": Path(os.path.normpath(base / suite.documents)) if suite.documents else None,
        "config": (base / suite.config).resolve() if suite.config else None,
    })
    if not suite.dataset.is_file():
        raise SuiteError(f"{file}: dataset not found: {suite.dataset}")
    if suite.documents is not None and not suite.documents.is_dir():
        raise SuiteError(f"{file}: documents folder not found: {suite.documents}")
    if suite.config is not None and not suite.config.is_file():
        raise SuiteError(f"{file}: config not found: {suite.config}")
    return suite


# -- dataset rows -------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)


class DetectionRow(_Row):
    """A response to check against its sources, with the human label."""

    sources: list[str] = Field(min_length=1)
    response: str
    label: Literal["faithful", "hallucinated"]
    question: str | None = None

    @property
    def hallucinated(self) -> bool:
        return self.label == "hallucinated"


class GenerationRow(_Row):
    """A question for the full pipeline, with what a correct answer must contain."""

    question: str = Field(min_length=1)
    reference_answer: str | None = None
    reference_facts: list[str] = Field(default_factory=list)
    expected_sources: list[str] = Field(default_factory=list, description="Document paths a good answer cites.")

    @property
    def facts(self) -> list[str]:
        """The facts to check; a reference answer alone counts as one fact."""
        if self.reference_facts:
            return self.reference_facts
        return [self.reference_answer] if self.reference_answer else []


Row = DetectionRow | GenerationRow
_ROW_TYPES: dict[str, type[_Row]] = {"detection": DetectionRow, "generation": GenerationRow}
_MAX_REPORTED = 5


def load_rows(suite: Suite) -> list[Row]:
    """Every row of the dataset, validated; rows without an id are named by line number."""
    row_type = _ROW_TYPES[suite.kind]
    rows: list[Any] = []
    problems: list[str] = []
    seen: set[str] = set()
    with suite.dataset.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError("a row must be a JSON object")
                data.setdefault("id", f"line-{number}")
                row = row_type.model_validate(data)
            except (ValueError, ValidationError) as exc:
                problems.append(f"  line {number}: {_row_problem(exc)}")
                continue
            if row.id in seen:
                problems.append(f"  line {number}: duplicate id {row.id!r}")
            seen.add(row.id)
            rows.append(row)
    if problems:
        shown = problems[:_MAX_REPORTED] + ([f"  ... and {len(problems) - _MAX_REPORTED} more"]
                                            if len(problems) > _MAX_REPORTED else [])
        raise SuiteError(f"{suite.dataset}: {len(problems)} invalid {suite.kind} row(s):\n" + "\n".join(shown))
    if not rows:
        raise SuiteError(f"{suite.dataset}: no rows")
    return rows


def _row_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return str(exc)
