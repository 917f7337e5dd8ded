"""Readable terminal summaries of a report and of a comparison."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from guard.evals.compare import Comparison
from guard.evals.report import Report, format_value

MAX_CHANGED_SHOWN = 30


def print_report(report: Report, console: Console) -> None:
    title = report.suite.name + (f" [{report.arm}]" if report.arm else "")
    took = f" in {report.wall_seconds:.1f} s" if report.wall_seconds is not None else ""
    table = Table(title=f"{title}: {report.counts.scored}/{report.counts.items} items scored, "
                        f"{report.counts.failed} failed{took}", title_justify="left")
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("95% interval", justify="right", no_wrap=True)
    table.add_column("threshold", no_wrap=True)
    table.add_column("note", style="dim")
    for name, value in report.metrics.items():
        interval = report.intervals.get(name)
        verdict = report.thresholds.get(name)
        gate = ""
        if verdict:
            gate = f"[green]{verdict.target} pass[/]" if verdict.passed else f"[red]{verdict.target} FAIL[/]"
        table.add_row(name, format_value(value), f"[{format_value(interval[0])}, {format_value(interval[1])}]" if interval else "", gate,
                      escape(report.undefined.get(name, "")))
    console.print(table)
    if report.counts.unscored:
        console.print(f"[yellow]{report.counts.unscored} item(s) got no confidence from guard and are not scored; "
                      "see each item's layers in the report[/]")
    if report.passed:
        console.print("[bold green]PASSED[/]")
    elif report.counts.scored == 0:
        console.print("[bold red]FAILED[/]: no item was scored")
    else:
        console.print("[bold red]FAILED[/]: a threshold was not met")


def print_comparison(comparison: Comparison, console: Console) -> None:
    c = comparison
    if not c.same_dataset:
        console.print("[yellow]the two reports ran on different datasets; compared on the items they share[/]")
    table = Table(title=f"{c.b} vs {c.a}: {c.paired} paired items (only in {c.a}: {c.only_a}, only in {c.b}: {c.only_b})",
                  title_justify="left")
    for column in ("metric", c.a, c.b, "delta", "95% interval"):
        table.add_column(column, justify="left" if column == "metric" else "right", no_wrap=True)
    for name, d in c.deltas.items():
        interval = f"[{format_value(d.interval[0])}, {format_value(d.interval[1])}]" if d.interval else ""
        significant = d.interval is not None and (d.interval[0] > 0 or d.interval[1] < 0)
        delta = "—" if d.delta is None else f"{d.delta:+.4g}"
        table.add_row(name, format_value(d.a), format_value(d.b), f"[bold]{delta}[/]" if significant else delta, interval)
    console.print(table)
    console.print(f"{len(c.changed)} item(s) changed verdict")
    for item in c.changed[:MAX_CHANGED_SHOWN]:
        extra = f" (label {item.label}: {item.effect})" if item.effect else (f" (label {item.label})" if item.label else "")
        console.print(f"  {escape(item.id)}: {item.a} → {item.b}{extra}", highlight=False)
    if len(c.changed) > MAX_CHANGED_SHOWN:
        console.print(f"  ... and {len(c.changed) - MAX_CHANGED_SHOWN} more (use --json for all)")
