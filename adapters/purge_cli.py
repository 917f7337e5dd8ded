"""``guard purge --before DATE``: delete what is older than a date, for an operator (retention runs on its own)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from guard.adapters.report_cli import parse_moment


def purge(
    before: Annotated[str, typer.Option(help="Delete what was created before this: an ISO date (UTC unless it "
                                             "says otherwise) or a duration before now (90d, 12w).")],
    records: Annotated[bool, typer.Option(help="Request records, their feedback and refused records.")] = True,
    reviews: Annotated[bool, typer.Option(help="Review items that ended (decided or expired), with their "
                                               "history and sent events; pending items are always kept.")] = True,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="guard.yaml to read.")] = None,
    database: Annotated[str | None, typer.Option(help="Store to purge (default: telemetry.database).")] = None,
) -> None:
    """Delete records and ended review items older than --before, for good."""
    cutoff = parse_moment(before, datetime.now(timezone.utc))
    what = " and ".join(name for name, chosen in (("records", records), ("ended review items", reviews)) if chosen)
    if not what:
        raise typer.BadParameter("nothing to purge: --no-records and --no-reviews together leave nothing")
    if not yes:
        typer.confirm(f"Delete {what} created before {cutoff.isoformat()}?", abort=True)
    from rich.console import Console

    from guard.config import load_config
    from guard.errors import GuardError
    from guard.adapters.stores import open_recorded_store
    from guard.retention import purge as purge_store

    try:
        cfg = load_config(config)
        store = open_recorded_store(database or cfg.telemetry.database, busy_timeout_s=cfg.telemetry.busy_timeout_s)
        try:
            deleted = purge_store(store, records_before=cutoff if records else None,
                                  reviews_before=cutoff if reviews else None)
        finally:
            store.close()
    except GuardError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    Console().print(f"deleted {deleted['records']} records and {deleted['reviews']} review items "
                  f"created before {cutoff.isoformat()}")
