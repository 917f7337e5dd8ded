"""Runs a suite's items concurrently, with a progress bar, resuming from the checkpoint.

An item that raises is recorded with its error and the run goes on: one bad
row or one model timeout must not cost the other thousand results.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from guard.evals.checkpoint import Checkpoint
from guard.evals.results import Result
from guard.evals.suite import Row
from guard.metadata import GuardMetadata


class LayerFailed(RuntimeError):
    """A guard layer reported ``error`` on the item: its verdict was not reached the way the suite measures."""


def require_layers_ok(meta: GuardMetadata) -> None:
    """Fail the item when a layer errored; guard degrades gracefully in production, but an eval that scored
    the degraded verdict would report a broken layer as a quality figure."""
    broken = [f"{name}: {report.reason}" for name, report in meta.layers.items() if report.status == "error"]
    if broken:
        raise LayerFailed("; ".join(broken))


class Evaluator(Protocol):
    """Turns one dataset row into its result; ``failure`` builds the result of a row that raised."""

    async def evaluate(self, row: Row) -> Result: ...

    def failure(self, row: Row, error: str) -> Result: ...


async def run_items(
    rows: Sequence[Row],
    evaluator: Evaluator,
    checkpoint: Checkpoint,
    *,
    concurrency: int = 4,
    label: str = "eval",
    console: Console | None = None,
) -> list[Result]:
    """Every row's result, in row order; rows already in the checkpoint are not run again."""
    console = console or Console(stderr=True)
    finished, discarded = checkpoint.resume()
    if discarded:
        console.print(f"[yellow]{checkpoint.path.name} was for another config or dataset; starting over[/]")
    pending = [row for row in rows if row.id not in finished]
    if len(pending) < len(rows):
        console.print(f"resuming: {len(rows) - len(pending)} of {len(rows)} items already done")
    gate = asyncio.Semaphore(max(1, concurrency))

    with _progress(console) as progress:
        task = progress.add_task(label, total=len(rows), completed=len(rows) - len(pending))

        async def run_one(row: Row) -> None:
            async with gate:
                try:
                    result = await evaluator.evaluate(row)
                except Exception as exc:  # noqa: BLE001 - recorded on the item, never fatal to the run
                    result = evaluator.failure(row, f"{type(exc).__name__}: {exc}")
            checkpoint.append(result)
            finished[row.id] = result
            progress.advance(task)

        # The first item runs alone so models that load lazily load once, not once per worker.
        if pending:
            await run_one(pending[0])
        await asyncio.gather(*(run_one(row) for row in pending[1:]))
    return [finished[row.id] for row in rows]


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
        console=console,
    )
