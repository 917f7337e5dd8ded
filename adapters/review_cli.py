"""``guard review``: work the human review queue from a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Column, Table

from guard.config import load_config
from guard.errors import ConfigError
from guard.review import ReviewQueue
from guard.sqlite import Database

review_app = typer.Typer(no_args_is_help=True)
console = Console()
ConfigOption = typer.Option(None, "--config", "-c", help="guard.yaml to read (default: ./guard.yaml when present).")


def _queue(config_path: Optional[Path]) -> ReviewQueue:
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    return ReviewQueue(Database(config.telemetry.database))


@review_app.command("list")
def list_pending(config: Optional[Path] = ConfigOption, limit: int = typer.Option(50, min=1)) -> None:
    """Pending reviews, oldest first."""
    table = Table(Column("id", no_wrap=True), "tier", "confidence", "question", "draft")
    for item in _queue(config).pending(limit):
        conf = "-" if item.confidence is None else f"{item.confidence:.2f}"
        table.add_row(item.id, item.tier, conf, (item.question or "")[:60], item.draft[:80])
    console.print(table)


@review_app.command("decide")
def decide(
    review_id: str,
    decision: str = typer.Argument(..., help="approved or rejected"),
    final_text: Optional[str] = typer.Option(None, "--final-text", help="The answer as the reviewer corrected it."),
    reviewer: Optional[str] = typer.Option(None, "--reviewer"),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Approve or reject a held answer; the decision is kept as a label for calibration."""
    try:
        item = _queue(config).decide(review_id, decision, final_text=final_text, reviewer=reviewer)  # type: ignore[arg-type]
    except (KeyError, ValueError) as exc:
        console.print(f"[red]{exc.args[0]}[/red]")
        raise typer.Exit(1) from None
    console.print(f"{item.id}: {item.status}")
