"""The HTML report: one file that opens anywhere, with its plots drawn inline."""

from __future__ import annotations

import asyncio
import re

from rich.console import Console

from guard.evals.html import render_html
from guard.evals.plots import histogram, nice_ticks
from guard.evals.arm import run_arm
from guard.evals.suite import load_rows, load_suite
from tests.evals.conftest import DETECTION_ROWS, write_suite


def _html(tmp_path, guard, rows=DETECTION_ROWS) -> str:
    suite = load_suite(write_suite(tmp_path, rows, thresholds={"auroc": ">= 0.5"}))
    report = asyncio.run(run_arm(suite, load_rows(suite), guard, tmp_path / "r.json", console=Console(quiet=True)))
    return render_html(report)


def test_the_html_report_loads_nothing_from_elsewhere(tmp_path, scripted_guard):
    page = _html(tmp_path, scripted_guard)
    assert not re.search(r"<script|<link|<img|src=|href=|url\(|@import", page, re.IGNORECASE)


def test_the_html_report_draws_roc_reliability_tier_mix_and_latency(tmp_path, scripted_guard):
    page = _html(tmp_path, scripted_guard)
    labels = re.findall(r'<svg[^>]*aria-label="([^"]+)"', page)
    assert [label.split(" (")[0] for label in labels] == ["ROC curve", "Reliability", "Tier mix", "Latency"]
    assert "AUROC 0.889" in page


def test_item_text_is_escaped(tmp_path, scripted_guard):
    rows = [{**DETECTION_ROWS[0], "id": "<script>alert(1)</script>"}, *DETECTION_ROWS[1:]]
    page = _html(tmp_path, scripted_guard, rows)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page


def test_a_slow_outlier_joins_the_last_latency_bar_instead_of_stretching_the_axis():
    svg = histogram("Latency", [100.0 + i for i in range(199)] + [60_000.0], "ms per item")
    axis_end = int(re.search(r"\(1 above (\d+) in the last bar\)", svg).group(1))
    assert axis_end < 1000


def test_ticks_step_in_round_numbers():
    assert nice_ticks(4597) == [0, 1000, 2000, 3000, 4000, 5000]
    assert nice_ticks(534, 4) == [0, 200, 400, 600]
