"""``guard report``: the product health report of a time window, in the terminal, as JSON or as an HTML page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_moment(text: str, now: datetime) -> datetime:
    """``7d`` / ``24h`` / ``30m`` / ``2w`` before ``now``, or an ISO date or time (UTC unless it says otherwise)."""
    if match := _DURATION.match(text):
        return now - timedelta(**{_UNITS[match[2]]: float(match[1])})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is neither a duration like 7d, 24h, 30m, 2w nor an ISO date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class GroupBy(str, Enum):
    key = "key"


def report(
    since: Annotated[str, typer.Option(help="Start of the window: a duration before now (7d, 24h, 2w) or an ISO date.")] = "7d",
    until: Annotated[str | None, typer.Option(help="End of the window, same forms; default now.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML page here.")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="guard.yaml to read.")] = None,
    database: Annotated[str | None, typer.Option(help="Store to read (default: telemetry.database).")] = None,
    by: Annotated[GroupBy | None, typer.Option("--by", help="Instead of the health report, requests, failures, "
                                               "held answers, low tier and spend per proxy API key (by name).")] = None,
) -> None:
    """The layered health check: model quality, product usage and business impact, by tier, with drift."""
    now = datetime.now(timezone.utc)
    start, end = parse_moment(since, now), parse_moment(until, now) if until else now
    if start >= end:
        raise typer.BadParameter(f"the window is empty: {start:%Y-%m-%d %H:%M} is not before {end:%Y-%m-%d %H:%M}")
    import json

    from rich.console import Console

    from guard.config import load_config
    from guard.errors import GuardError
    from guard.report import build_report, render_html
    from guard.adapters.report_terminal import render_terminal
    from guard.adapters.stores import open_recorded_store
    from guard.store.engine import display_name

    errors = Console(stderr=True)
    try:
        cfg = load_config(config)
        database = database or cfg.telemetry.database
        store = open_recorded_store(database, busy_timeout_s=cfg.telemetry.busy_timeout_s)
        try:
            if by is GroupBy.key:
                _by_key(store.usage_by_key(start, end), start, end, as_json)
                return
            result = build_report(store, since=start, until=end, config=cfg)
        finally:
            store.close()
    except GuardError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    window = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    if html is not None:
        html.write_text(render_html(result), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    console = Console()
    console.print(f"store: {display_name(database)}")
    if result.requests == 0:
        console.print(f"no requests in this window ({window}); widen it with --since, e.g. --since 30d")
    else:
        render_terminal(result, console)
    if html is not None:
        console.print(f"HTML report written to {html}")


def _by_key(rows: list[dict[str, Any]], start: datetime, end: datetime, as_json: bool) -> None:
    """One line per key name; requests made without a key (open server, library calls) under ``null``/"(no key)"."""
    import json

    from rich.console import Console
    from rich.table import Table

    if as_json:
        typer.echo(json.dumps({"window": {"since": start.isoformat(), "until": end.isoformat()}, "by": "key",
                               "groups": rows}, indent=2))
        return
    table = Table(title=f"Requests by API key, {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    for column in ("key", "requests", "failed", "held", "low tier", "cost USD", "mean confidence"):
        table.add_column(column, justify="left" if column == "key" else "right")
    for row in rows:
        confidence = row["mean_confidence"]
        table.add_row(row["key"] or "(no key)", str(row["requests"]), str(row["failed"]), str(row["held"]),
                      str(row["low_tier"]), f"{row['cost_usd'] or 0:.4f}",
                      "-" if confidence is None else f"{confidence:.2f}")
    Console().print(table)
