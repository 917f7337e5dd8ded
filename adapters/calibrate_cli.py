"""``guard calibrate``: fit the support calibration on this product's labels, show what it changes, put it in force."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from guard.adapters.report_cli import parse_moment

if TYPE_CHECKING:
    from rich.console import Console

    from guard.calibrate import LabelledAnswer
    from guard.calibration import SupportCalibration
    from guard.config import GuardConfig
    from guard.store import Store


def calibrate_command(
    files: Annotated[list[Path] | None, typer.Option("--from-file", help="Labelled answers, one JSON row a line: "
                     "sources, response, label (faithful/hallucinated), optional question. Repeatable.")] = None,
    from_reviews: Annotated[bool, typer.Option("--from-reviews", help="Label with the store's decided reviews and "
                            "feedback (guard.labels says what each decision means).")] = False,
    since: Annotated[str, typer.Option(help="With --from-reviews: answers given since (90d, 2w, an ISO date).")] = "90d",
    limit: Annotated[int | None, typer.Option(min=1, help="Use this many labels, sampled with a fixed seed.")] = None,
    folds: Annotated[int, typer.Option(min=2, max=20, help="Cross-validation folds for the before/after.")] = 5,
    out: Annotated[Path | None, typer.Option("--out", help="Write the calibration here (load it with "
                   "support.calibration: PATH).")] = None,
    activate: Annotated[bool, typer.Option("--activate", help="Store it and put it in force: every worker "
                        "on this store applies it within seconds, no restart.")] = False,
    deactivate: Annotated[bool, typer.Option("--deactivate", help="Only stop applying the store's active "
                          "calibration (back to support.calibration or the shipped one).")] = False,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="guard.yaml to read.")] = None,
    database: Annotated[str | None, typer.Option(help="Store (default: telemetry.database).")] = None,
) -> None:
    """Fit the confidence map and the operating points on your labels; print before/after, cross-validated."""
    from rich.console import Console  # here, like the model stack below: help must not pay for them

    from guard.calibrate import TooFewLabels
    from guard.calibration import ActiveCalibration, configured_calibration
    from guard.config import load_config
    from guard.errors import GuardError

    console, errors = Console(), Console(stderr=True)
    try:
        cfg = load_config(config)
        if deactivate:
            with _store(cfg, database) as store:
                console.print(f"deactivated {store.deactivate_calibrations()} calibration(s)")
            return
        if not files and not from_reviews:
            raise typer.BadParameter("say where the labels are: --from-file PATH and/or --from-reviews")
        if from_reviews or activate:
            with _store(cfg, database) as store:
                rows, sources = _labels(files or [], store if from_reviews else None, since, limit)
                current = ActiveCalibration(store, configured_calibration(cfg.support.calibration,
                                                                          cfg.support.verifier),
                                            cfg.support.verifier).refresh()
                calibration = _run(rows, sources, cfg, current, errors)
                if activate:
                    store.save_calibration(calibration.model_dump(mode="json"), activate=True)
        else:
            rows, sources = _labels(files, None, since, limit)
            current = configured_calibration(cfg.support.calibration, cfg.support.verifier)
            calibration = _run(rows, sources, cfg, current, errors)
    except TooFewLabels as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    except (GuardError, ValueError, OSError, ImportError) as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    print_calibration(calibration, console)
    if cfg.support.threshold is not None:
        console.print(f"note: support.threshold ({cfg.support.threshold}) is set and pins the threshold; of this "
                      "calibration only the confidence map applies while it is", soft_wrap=True)
    if out is not None:
        out.write_text(calibration.model_dump_json(indent=2) + "\n")
        console.print(f"wrote {out} (support.calibration: {out})")
    if activate:
        console.print(f"activated {calibration.id}: workers on this store apply it within seconds")
    if out is None and not activate:
        console.print("nothing written: pass --out PATH and/or --activate")


@contextmanager
def _store(cfg: GuardConfig, database: str | None) -> Iterator[Store]:
    from guard.store import open_store

    store = open_store(database or cfg.telemetry.database, busy_timeout_s=cfg.telemetry.busy_timeout_s)
    try:
        yield store
    finally:
        store.close()


def _labels(files: list[Path], store: Store | None, since: str, limit: int | None) -> tuple[list[LabelledAnswer], dict]:
    from guard.calibrate import from_file, from_store

    rows: list[LabelledAnswer] = []
    sources: dict = {}
    for path in files:
        found = from_file(path)
        rows += found
        sources[f"file:{path.name}"] = len(found)
    if store is not None:
        start = parse_moment(since, datetime.now(timezone.utc))
        found, skipped = from_store(store, start)
        rows += found
        sources[f"store since {start:%Y-%m-%d}"] = {"reviews": sum(r.origin == "review" for r in found),
                                                     "feedback": sum(r.origin == "feedback" for r in found),
                                                     "skipped": dict(skipped)}
    if limit is not None and limit < len(rows):
        rows = random.Random(0).sample(rows, limit)
        sources["sampled"] = limit
    return rows, sources


def _run(rows: list[LabelledAnswer], sources: dict, cfg: GuardConfig,
         current: SupportCalibration | None, errors: Console) -> SupportCalibration:
    from guard.calibrate import calibrate

    errors.print(f"scoring {len(rows)} labelled answers with the {cfg.support.verifier!r} verifier ...")
    every = max(1, len(rows) // 10)

    def progress(done: int) -> None:
        if done % every == 0 or done == len(rows):
            errors.print(f"  {done}/{len(rows)}")

    return calibrate(rows, cfg, current=current, fitted_on={"labels": sources}, progress=progress)


def print_calibration(cal: SupportCalibration, console: Console) -> None:
    """What was fitted, on what, and the cross-validated before/after per metric with 95 % intervals."""
    from guard.calibrate import METRICS

    cv, fitted = cal.cross_validated, cal.fitted_on
    console.print(f"support calibration {cal.id} for the {cal.verifier!r} verifier, risk level {cv['risk']!r}: "
                  f"{fitted['answers']} labelled answers ({fitted['faithful']} faithful, {fitted['hallucinated']} "
                  f"hallucinated; {fitted['without_claims']} without a claim to check), {cv['folds']}-fold "
                  f"cross-validated against {cv['before']}", soft_wrap=True)
    console.print(f"{'':19}{'before':24}{'after':24}change        [95 % bootstrap intervals]", highlight=False,
                  soft_wrap=True)
    for name, label in METRICS.items():
        row = cv["metrics"][name]
        cells = [_cell(row[side], row[f"{side}_95"], signed=side == "change") for side in ("before", "after", "change")]
        console.print(f"{label:19}{cells[0]:24}{cells[1]:24}{cells[2]}", highlight=False, soft_wrap=True)
    console.print("false-flag rate: faithful answers with a claim listed unsupported; catch rate: hallucinated "
                  "answers with one; ECE: of the confidence", soft_wrap=True)
    console.print("thresholds: " + json.dumps(cal.thresholds) + f"; confidence map: intercept "
                  f"{cal.support.intercept:.3f}, slope {cal.support.slope:.3f}", soft_wrap=True)
    if cal.blend:
        console.print(f"blend (refitted): intercept {cal.blend['intercept']:.2f}, trees {cal.blend['offline']:.2f}, "
                      f"cross-encoder {cal.blend['support_model']:.2f}", soft_wrap=True)
    elif fitted.get("blend"):
        console.print(f"blend {fitted['blend']}", soft_wrap=True)


def _cell(value: float | None, interval: list[float] | None, signed: bool) -> str:
    if value is None:
        return "n/a"
    form = "+.3f" if signed else ".3f"
    return f"{value:{form}}" + (f" [{interval[0]:{form}}, {interval[1]:{form}}]" if interval else "")
