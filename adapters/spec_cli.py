"""``guard spec``: the product spec checked and explained, with recommendations from the records."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from guard.adapters.report_cli import parse_moment
from guard.adapters.review_cli import ConfigOption, DatabaseOption, _config, _console, _store

if TYPE_CHECKING:
    from rich.console import Console

    from guard.spec import SpecReport


def spec(
    since: Annotated[str, typer.Option(help="Records since: a duration (30d, 2w) or an ISO date.")] = "30d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    config: Optional[Path] = ConfigOption,
    database: Optional[str] = DatabaseOption,
) -> None:
    """Validate product.*, say what the risk level turns on and why, and recommend a model and a worker count from
    the records."""
    from guard.spec import build_spec_report

    now = datetime.now(timezone.utc)
    cfg = _config(config)  # an invalid spec exits 2 with one line per problem
    with _store(cfg, database) as store:
        report = build_spec_report(store, cfg, since=parse_moment(since, now), until=now)
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        print_spec(report, _console())


def print_spec(report: SpecReport, out: Console) -> None:
    from rich.table import Table

    out.print(f"[bold]{report.product}[/bold]: risk {report.risk} ({report.risk_meaning}). The spec is valid.")
    for s in report.settings:
        source = "risk default" if s.source == "risk default" else f"set explicitly; the risk default is {s.risk_default}"
        out.print(f"  {s.setting} = {s.value}  ({source}): {s.why}")
    for check in report.checks:
        out.print(f"  [yellow]check:[/yellow] {check}")
    t = report.targets
    latency = t["latency_p95_ms"] / 1000 if t["latency_p95_ms"] is not None else None
    out.print(f"targets: accuracy >= {t['accuracy']:.0%}" if t["accuracy"] is not None else "targets: accuracy none",
              f", p95 latency <= {latency:g} s" if latency is not None else "",
              f", cost per answer <= ${t['cost_per_answer_usd']:g}" if t["cost_per_answer_usd"] is not None else "",
              sep="")
    if report.models:
        table = Table("model", "requests", "accuracy (reviewed)", "hallucination", "p95 latency", "cost/answer",
                      "meets targets")
        for m in report.models:
            accuracy = "no reviews" if m.accuracy is None else (
                f"{m.accuracy:.0%} [{m.accuracy_ci95[0]:.0%}, {m.accuracy_ci95[1]:.0%}] of {m.reviewed}")  # type: ignore[index]
            table.add_row(m.model + (f"\n{', '.join(m.variants)}" if m.variants else ""), str(m.requests), accuracy,
                          "n/a" if m.hallucination_rate is None else f"{m.hallucination_rate:.1%}",
                          "n/a" if m.latency_p95_ms is None else f"{m.latency_p95_ms / 1000:.2f} s",
                          "n/a" if m.cost_per_answer_usd is None else f"${m.cost_per_answer_usd:.5f}",
                          {True: "yes", False: "no", None: "not yet known"}[m.meets])
        out.print(table)
    out.print(f"[bold]recommendation:[/bold] {report.recommendation}")
    c = report.capacity
    workers = f"{c.workers} worker{'s' if c.workers != 1 else ''}" if c.workers is not None else "no estimate"
    out.print(f"[bold]capacity:[/bold] {workers} — {c.note}")
