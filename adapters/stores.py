"""The store a read-only command reads: named to the user, and never created by reading it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from guard.store import Store


def open_recorded_store(database: str, *, busy_timeout_s: float = 5.0) -> Store:
    """The store at ``database`` if anything was ever recorded there; a clear exit (status 1) if not.

    Opening a SQLite store creates it, and an empty new file would only hide a wrong path.
    """
    from guard.store import open_store
    from guard.store.engine import display_name, sqlite_file

    file = sqlite_file(database)
    if file is not None and not file.is_file():
        typer.echo(f"no store at {display_name(database)}: nothing has been recorded there yet. guard serve and "
                   "guard.Client write it (telemetry.database); pass --database or --config to read another", err=True)
        raise typer.Exit(1)
    return open_store(database, busy_timeout_s=busy_timeout_s)
