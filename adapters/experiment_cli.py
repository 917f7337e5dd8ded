"""``guard experiment``: start, pause and end experiments on live traffic, and read their report.

Definitions live in the store, so a change here reaches every running worker
within ``server.experiments_refresh_s`` without a restart. ``start`` adds an
experiment from the config when the store does not have it yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from guard.adapters.report_cli import parse_moment
from guard.adapters.review_cli import ConfigOption, DatabaseOption, _config, _console, _store

if TYPE_CHECKING:
    from rich.console import Console

    from guard.experiments.definitions import Experiment
    from guard.experiments.report import ExperimentReport
    from guard.store import Store

experiment_app = typer.Typer(no_args_is_help=True)


def _fail(exc: Exception) -> typer.Exit:
    _console().print(f"[red]error:[/red] {exc}")
    return typer.Exit(1)


@contextmanager
def _seeded(config: Optional[Path], database: Optional[str]) -> Iterator[Store]:
    """The store, with the config's experiments it does not have yet added (the YAML seeds the store); an
    experiment the command cannot act on is a one-line error."""
    from guard.experiments import definitions
    from guard.experiments.definitions import ExperimentError

    cfg = _config(config)
    with _store(cfg, database) as store:
        definitions.seed(store, cfg)
        try:
            yield store
        except ExperimentError as exc:
            raise _fail(exc) from None


def _line(experiment: Experiment) -> str:
    variants = ", ".join(f"{v.name} ({v.weight:g})" for v in experiment.definition.variants)
    shipped = f", everyone gets {experiment.winner}" if experiment.status == "ended" else ""
    return f"{experiment.name}: {experiment.status}{shipped}; variants {variants}"


@experiment_app.command("list")
def list_experiments(config: Optional[Path] = ConfigOption, database: Optional[str] = DatabaseOption) -> None:
    """Every experiment in the store and its status."""
    from guard.experiments import definitions

    console = _console()
    with _seeded(config, database) as store:
        for experiment in definitions.list_experiments(store):
            console.print(_line(experiment))


@experiment_app.command("start")
def start(name: str, config: Optional[Path] = ConfigOption, database: Optional[str] = DatabaseOption) -> None:
    """Run NAME (resume a paused one); the config's experiments are added to the store, running, on first use."""
    from guard.experiments import definitions

    with _seeded(config, database) as store:
        _console().print(_line(definitions.start(store, name)))


@experiment_app.command("pause")
def pause(name: str, config: Optional[Path] = ConfigOption, database: Optional[str] = DatabaseOption) -> None:
    """Stop assigning NAME's variants: everyone gets the served config until it is started again."""
    from guard.experiments import definitions

    with _seeded(config, database) as store:
        _console().print(_line(definitions.pause(store, name)))


@experiment_app.command("end")
def end(name: str, ship: Annotated[str, typer.Option("--ship", help="The variant everyone gets from now on.")],
        config: Optional[Path] = ConfigOption, database: Optional[str] = DatabaseOption) -> None:
    """End NAME and send everyone to the --ship variant (write it into the config when convenient)."""
    from guard.experiments import definitions

    with _seeded(config, database) as store:
        _console().print(_line(definitions.end(store, name, ship)))


@experiment_app.command("report")
def report(
    name: str,
    since: Annotated[str, typer.Option(help="Start of the window: a duration before now (7d, 24h) or an ISO date.")] = "30d",
    until: Annotated[Optional[str], typer.Option(help="End of the window; default now.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    config: Optional[Path] = ConfigOption,
    database: Optional[str] = DatabaseOption,
) -> None:
    """Per variant: requests, users, metrics with 95% intervals, difference to control, guardrails, verdict."""
    from guard.experiments.report import build_experiment_report

    now = datetime.now(timezone.utc)
    start_at, end_at = parse_moment(since, now), parse_moment(until, now) if until else now
    with _seeded(config, database) as store:
        result = build_experiment_report(store, name, since=start_at, until=end_at)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        print_report(result, _console())


def print_report(result: ExperimentReport, out: Console) -> None:
    from rich.table import Table

    out.print(f"[bold]experiment {result.name}[/bold] ({result.status}), primary metric {result.primary_metric}, "
              f"{result.since:%Y-%m-%d %H:%M} to {result.until:%Y-%m-%d %H:%M} UTC")
    table = Table("metric", *[f"{v.name}{' (control)' if v.outcome == 'control' else ''}"
                              for v in result.variants.values()])
    table.add_row("requests / users", *[f"{v.requests} / {v.users}" for v in result.variants.values()])
    for metric in next(iter(result.variants.values())).metrics:
        cells = []
        for v in result.variants.values():
            m = v.metrics[metric]
            cell = "no data" if m.value is None else f"{_fmt(m.value)} [{_fmt(m.ci95[0])}, {_fmt(m.ci95[1])}]"  # type: ignore[index]
            d = v.difference.get(metric)
            if d is not None and d.value is not None:
                cell += f"\nΔ {_fmt(d.value, signed=True)} [{_fmt(d.ci95[0], signed=True)}, {_fmt(d.ci95[1], signed=True)}]"  # type: ignore[index]
            if metric in v.guardrails:
                g = v.guardrails[metric]
                cell += f"\nguardrail {g.allowed}: {g.state}"
            cells.append(cell)
        marker = " *" if metric == result.primary_metric else ""
        table.add_row(metric + marker, *cells)
    out.print(table)
    out.print(f"[bold]verdict: {result.verdict}[/bold] — {result.reason}")
    out.print(f"method: {result.method}")


def _fmt(value: float, signed: bool = False) -> str:
    return f"{value:+.3g}" if signed else f"{value:.3g}"
