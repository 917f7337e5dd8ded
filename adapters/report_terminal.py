"""The health report in a terminal, through rich: the same content as the HTML page, without the charts."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from guard.report.format import fmt, fmt_interval, fmt_status_value, fmt_target
from guard.report.health import DEFS, MODEL_COLUMNS, TIER_COLUMNS, value_of
from guard.report.model import Figures, HealthReport, Status

_STYLES = {"PASS": "bold green", "WARN": "bold yellow", "FAIL": "bold red", "TOO FEW DATA": "yellow", "NO DATA": "dim",
           "OK": "green", "ALERT": "bold red"}


def render_terminal(report: HealthReport, console: Console) -> None:
    """Print the summary, the health table, the by-tier table, drift, highlights and actions."""
    w = report.window
    console.print(Text(f"{report.product}: product health, {w.since:%Y-%m-%d %H:%M} → {w.until:%Y-%m-%d %H:%M} UTC",
                       style="bold"))
    console.print(Text(report.summary.status, style="bold"))
    if report.calibrations:
        console.print("Support calibration: " + ", ".join(f"{name} ({n} answers)" for name, n in
                                                          report.calibrations.items()), highlight=False)
    console.print(_health_table(report))
    for m in report.metrics:
        if m.method:
            console.print(Text(f"{m.label}, estimated: {m.method}", style="dim"))
    console.print(_tier_table(report))
    if report.by_model:
        console.print(_model_table(report))
    console.print(Text.assemble(("Drift: ", "bold"), (report.drift.status, _STYLES[report.drift.status]),
                                ". " + report.drift.message))
    console.print(Text("Highlights", style="bold"))
    for line in report.summary.highlights:
        console.print(f"  • {line}", highlight=False)
    console.print(Text("Actions", style="bold"))
    for line in report.summary.actions or ["Nothing needs attention."]:
        console.print(f"  • {line}", highlight=False)


def _status(status: Status | None) -> Text:
    return Text(status or "", style=_STYLES.get(status or "", ""))


def _health_table(report: HealthReport) -> Table:
    table = Table(title="Health check (95 % intervals)", title_justify="left")
    table.add_column("Metric", no_wrap=True)
    table.add_column("Value", justify="right", no_wrap=True)
    table.add_column("95 % interval", justify="right", no_wrap=True)
    table.add_column("Target", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Based on")
    layer = None
    for m in report.metrics:
        if m.layer != layer:
            layer = m.layer
            table.add_row(Text(layer.capitalize(), style="bold underline"))
        status = _status(m.status)
        if m.more_needed:
            status.append(f" (~{m.more_needed:,} more)", style="dim")
        table.add_row("  " + m.label, fmt_status_value(m.value, m.unit, m.status), fmt_interval(m.interval, m.unit) if m.n else "",
                      fmt_target(m.target, m.unit), status, m.basis)
    return table


def _tier_table(report: HealthReport) -> Table:
    """Tiers as columns, so it fits a terminal; values coloured against the same targets as the health check."""
    def cell(tier: str, figs: Figures, key: str) -> Text:
        status = report.tier_health[tier].get(key)
        return Text(_cell(figs, key, status), style=_STYLES.get(status or "", ""))

    return _columns("By confidence tier", report.by_tier, TIER_COLUMNS, cell)


def _model_table(report: HealthReport) -> Table:
    """Models as columns: the labelled hallucination estimate beside guard's flag rate, per served model."""
    return _columns("By model", report.by_model, MODEL_COLUMNS, lambda _, figs, key: _cell(figs, key))


def _columns(title: str, groups: dict[str, Figures], keys: tuple[str, ...],
             cell: Callable[[str, Figures, str], str | Text]) -> Table:
    """One column per group (a tier, a model), one row per metric."""
    table = Table(title=title, title_justify="left")
    table.add_column("Metric", no_wrap=True)
    for name, figs in groups.items():
        table.add_column(f"{name} ({figs.requests})", justify="right", no_wrap=True)
    for key in keys:
        table.add_row(DEFS[key].label, *(cell(name, figs, key) for name, figs in groups.items()))
    return table


def _cell(figs: Figures, key: str, status: str | None = None) -> str:
    """A figure with its 95 % interval, as the health check shows it; ``too few data`` or ``no data`` without one."""
    unit, value = DEFS[key].unit, value_of(figs, key)
    if value is None:
        return fmt_status_value(None, unit, status)
    return f"{fmt(value, unit)} ({fmt_interval(figs.intervals.get(key), unit)})"
