"""``guard eval export --from-reviews``: the decided review items of a window as a generation and a detection suite."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from guard.adapters.report_cli import parse_moment
from guard.adapters.review_cli import ConfigOption, DatabaseOption, _config, _console, _store


def export(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the suites into (created).")],
    from_reviews: Annotated[bool, typer.Option("--from-reviews", help="Export decided review items (the source "
                                                                      "there is today).")] = False,
    since: Annotated[str, typer.Option(help="Reviews created since: a duration (30d, 2w) or an ISO date.")] = "30d",
    config: Optional[Path] = ConfigOption,
    database: Optional[str] = DatabaseOption,
) -> None:
    """Reviewed answers as eval data: a generation suite (approved or edited answers as references) and a
    detection suite (drafts with their review label), ready for `guard eval run`."""
    if not from_reviews:
        raise typer.BadParameter("say where the data comes from: --from-reviews", param_hint="--from-reviews")
    from guard.evals.export import export_reviews

    now = datetime.now(timezone.utc)
    cfg = _config(config)
    with _store(cfg, database) as store:
        done = export_reviews(store, cfg, out, since=parse_moment(since, now), until=now)
    console = _console()
    console.print(f"{done.reviews} decided reviews -> {done.generation_rows} generation rows ({done.generation}), "
                  f"{done.detection_rows} detection rows ({done.detection})")
    if not done.generation_rows and not done.detection_rows:
        console.print("[yellow]nothing to run yet:[/yellow] no decided review in the window")
        raise typer.Exit(1)
