"""``guard eval run`` and ``guard eval compare``.

Exit status is the CI contract: 0 all thresholds met, 1 a threshold failed,
2 the suite, config or report could not be used (nothing was judged).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

if TYPE_CHECKING:
    from guard.config import GuardConfig

EXIT_THRESHOLD_FAILED = 1
EXIT_UNUSABLE = 2
EXIT_INTERRUPTED = 130

eval_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Run eval suites, gate releases, compare runs.")


def _consoles() -> tuple[Any, Any]:
    """stdout and stderr consoles; rich loads here, not when help is printed."""
    from rich.console import Console

    return Console(), Console(stderr=True)


def _unusable(exc: Exception) -> typer.Exit:
    from rich.markup import escape

    _consoles()[1].print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
    return typer.Exit(EXIT_UNUSABLE)


@eval_app.command("list")
def list_suites() -> None:
    """The suites shipped with guard; run one by name: guard eval run NAME."""
    from rich.table import Table

    from guard.evals.suite import SuiteError, load_suite, shipped_suites

    table = Table("name", "kind", "description")
    for name, file in shipped_suites().items():
        try:
            suite = load_suite(file)
        except SuiteError as exc:
            table.add_row(name, "-", f"cannot run: {exc}")
            continue
        table.add_row(name, suite.kind, suite.description or "")
    _consoles()[0].print(table)


def _arm_path(path: Path, arm: str) -> Path:
    """Where arm B's file goes beside arm A's: out.json -> out.b.json."""
    return path.with_name(f"{path.stem}.{arm}{path.suffix}")


@eval_app.command("run")
def run(
    suite_name: Annotated[str, typer.Argument(help="A suite YAML file, or a shipped suite's name (guard eval list).",
                                              metavar="SUITE")],
    report: Annotated[Optional[Path], typer.Option(help="JSON report path (default: ./<suite name>.report.json).")] = None,
    html: Annotated[Optional[Path], typer.Option(help="Also write a self-contained HTML report here.")] = None,
    config: Annotated[Optional[Path], typer.Option(help="guard.yaml to evaluate (default: the suite's, else ./guard.yaml).")] = None,
    config_b: Annotated[Optional[Path], typer.Option("--config-b", help="Second config: run both on the same items (A/B).")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N items.")] = None,
    concurrency: Annotated[Optional[int], typer.Option(
        min=1, max=64, help="Items in flight at once (default: the suite's, else 4).")] = None,
    variant: Annotated[Optional[str], typer.Option(
        help="Run as an experiment's variant serves (EXPERIMENT/VARIANT): its model, system prompt and settings.",
        metavar="EXPERIMENT/VARIANT")] = None,
) -> None:
    """Run a suite; exit 1 if a threshold fails, 2 if the suite cannot run. Interrupted runs resume."""
    import asyncio

    from guard.config import load_config
    from guard.errors import ConfigError, KnowledgeBaseError, StoreUnavailable
    from guard.evals.compare import compare_reports
    from guard.evals.html import write_html
    from guard.evals.report import Report
    from guard.evals.arm import checkpoint_path, eval_config, run_arm
    from guard.evals.suite import SuiteError, load_rows, load_suite, suite_file
    from guard.evals.terminal import print_comparison, print_report
    from guard.experiments.definitions import ExperimentError
    from guard.pipeline import Guard

    out, err = _consoles()
    system_prompt = None
    try:
        suite_path = suite_file(suite_name)
        suite = load_suite(suite_path)
        rows = load_rows(suite)[:limit]
        configs = {"a" if config_b else None: load_config(config or suite.config)}
        if config_b:
            configs["b"] = load_config(config_b)
        if variant:
            if config_b:
                raise ConfigError("--variant and --config-b: run each variant on its own, then guard eval compare")
            configs[None], system_prompt = _variant(configs[None], variant)
        guards = {arm: Guard(eval_config(suite, arm_config, err)) for arm, arm_config in configs.items()}
    except (SuiteError, ConfigError, KnowledgeBaseError, ExperimentError, StoreUnavailable) as exc:
        raise _unusable(exc) from None

    report_path = report or Path(f"{suite.name}.report.json")
    reports: list[Report] = []
    for arm, guard in guards.items():
        path = _arm_path(report_path, arm) if arm == "b" else report_path
        try:
            result = asyncio.run(run_arm(suite, rows, guard, path, arm=arm or variant, concurrency=concurrency,
                                         suite_file=suite_path, console=err, system_prompt=system_prompt))
        except KeyboardInterrupt:
            err.print(f"\n[yellow]interrupted[/]: finished items are kept in {checkpoint_path(path)}; "
                      "run the same command again to resume")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except ConfigError as exc:  # e.g. a verifier the config names but cannot build
            raise _unusable(exc) from None
        print_report(result, out)
        out.print(f"report: {path}")
        if html:
            html_path = _arm_path(html, arm) if arm == "b" else html
            write_html(result, html_path)
            out.print(f"html: {html_path}")
        reports.append(result)

    if len(reports) == 2:
        print_comparison(compare_reports(*reports, resamples=suite.bootstrap_resamples, seed=suite.seed,
                                         names=("A", "B")), out)
    if not all(r.passed for r in reports):
        raise typer.Exit(EXIT_THRESHOLD_FAILED)


def _variant(config: GuardConfig, spec: str) -> tuple[GuardConfig, str | None]:
    """The config (and system prompt) an experiment's variant serves with; the store is read only when the
    experiment is not in the config."""
    from guard.experiments.offline import variant_config
    from guard.store import open_store

    if any(e.name == spec.partition("/")[0] for e in config.experiments):
        return variant_config(config, spec)
    store = open_store(config.telemetry.database, busy_timeout_s=config.telemetry.busy_timeout_s)
    try:
        return variant_config(config, spec, store)
    finally:
        store.close()


@eval_app.command("compare")
def compare(
    report_a: Annotated[Path, typer.Argument(metavar="A.json", help="Baseline report.")],
    report_b: Annotated[Path, typer.Argument(metavar="B.json", help="Candidate report.")],
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the comparison as JSON here.")] = None,
) -> None:
    """Metric deltas (B - A) with paired bootstrap intervals, and the items whose verdict changed."""
    import json

    from guard.evals.compare import compare_reports
    from guard.evals.report import ReportError, load_report
    from guard.evals.terminal import print_comparison

    out = _consoles()[0]
    try:
        comparison = compare_reports(load_report(report_a), load_report(report_b),
                                     names=(report_a.name, report_b.name))
    except ReportError as exc:
        raise _unusable(exc) from None
    print_comparison(comparison, out)
    if json_out:
        json_out.write_text(json.dumps(comparison.dump(), indent=2), encoding="utf-8")
        out.print(f"comparison: {json_out}")
