"""One arm of an eval run: a suite's rows under one guard config, from checkpoint to written report.

Eval runs keep out of the app's production state: telemetry is off (no
request records; review items go to a scratch database, not the real queue), and a generation suite with its
own documents is grounded in a knowledge base kept for evals alone.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console

from guard.config import GuardConfig
from guard.evals.checkpoint import Checkpoint
from guard.evals.detection import DetectionEvaluator
from guard.evals.fingerprint import config_hash, file_hash, folder_hash
from guard.evals.generation import GenerationEvaluator
from guard.evals.judge import make_judge
from guard.evals.knowledge import eval_knowledge_base
from guard.evals.report import Report, build_report, write_report
from guard.evals.runner import Evaluator, run_items
from guard.evals.suite import Row, Suite
from guard.pipeline import Guard


def checkpoint_path(report_path: Path) -> Path:
    return report_path.with_name(report_path.stem + ".checkpoint.jsonl")


def decision_threshold(suite: Suite, config: GuardConfig) -> float:
    """The suite's, else an explicit ``support.threshold``, else 0.5: confidence is a calibrated probability."""
    if suite.decision_threshold is not None:
        return suite.decision_threshold
    return config.support.threshold if config.support.threshold is not None else 0.5


def eval_config(suite: Suite, config: GuardConfig, console: Console) -> GuardConfig:
    """The config an eval runs under: telemetry off, per-request logs quiet (the progress bar reports),
    and grounded in the suite's documents if it has any."""
    quiet = config.logging if config.logging.level == "debug" else config.logging.model_copy(update={"level": "warning"})
    # The review queue is always durable: an eval's review items go to a scratch database, not the app's queue.
    # One per run: a file shared by every run on the machine would carry another guard version's schema.
    folder = tempfile.mkdtemp(prefix="guard-eval-")
    atexit.register(shutil.rmtree, folder, True)
    scratch = str(Path(folder) / "reviews.db")
    config = config.model_copy(update={
        "telemetry": config.telemetry.model_copy(update={"enabled": False, "database": scratch}), "logging": quiet})
    if suite.documents is not None:
        config = eval_knowledge_base(config, suite.documents, console)
    return config


async def run_arm(
    suite: Suite,
    rows: list[Row],
    guard: Guard,
    report_path: Path,
    *,
    arm: str | None = None,
    concurrency: int | None = None,
    suite_file: Path | None = None,
    console: Console | None = None,
    system_prompt: str | None = None,
) -> Report:
    """Run (or resume) every row with ``guard``, write the report, and drop the checkpoint once it is safe.

    ``guard`` is built by the caller (usually on ``eval_config``), so a suite
    can be run on a guard with custom layers too.
    """
    started = time.perf_counter()
    console = console or Console(stderr=True)
    config = guard.config
    documents_hash = folder_hash(suite.documents) if suite.documents is not None else None
    evaluator: Evaluator
    threshold: float | None = None
    if suite.kind == "detection":
        threshold = decision_threshold(suite, config)
        evaluator = DetectionEvaluator(guard, threshold)
        scoring: dict = {"decision_threshold": threshold}
    else:
        evaluator = GenerationEvaluator(guard, make_judge(suite.judge, config), system_prompt)
        scoring = {"judge": suite.judge.model_dump()}
        if system_prompt is not None:  # only then: the hash of a run without one stays what it was
            scoring["system_prompt"] = system_prompt
    identity = {
        "suite": suite.name, "kind": suite.kind, "config_hash": config_hash(config, scoring),
        "dataset_hash": file_hash(suite.dataset), "documents_hash": documents_hash,
    }
    checkpoint = Checkpoint(checkpoint_path(report_path), identity)
    label = f"{suite.name} [{arm}]" if arm else suite.name
    results = await run_items(rows, evaluator, checkpoint, concurrency=concurrency or suite.concurrency,
                              label=label, console=console)
    report = build_report(
        suite, results, config_hash=identity["config_hash"], dataset_hash=identity["dataset_hash"],
        documents_hash=documents_hash, decision_threshold=threshold, arm=arm, suite_file=suite_file,
        wall_seconds=time.perf_counter() - started,
    )
    write_report(report, report_path)
    checkpoint.remove()
    return report
