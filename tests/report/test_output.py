"""What leaves the report: the JSON object, the self-contained HTML page, the terminal text."""

from __future__ import annotations

import io
import json
import re

from rich.console import Console

from guard.adapters.report_terminal import render_terminal
from guard.config import GuardConfig
from guard.report import compute_report, render_html, render_html_fragment
from tests.report.records import SINCE, UNTIL, feedback, request, review


def sample_report():
    records = [request(i, ("high", "medium", "low")[i % 3], unsupported=[{"text": "x"}] if i % 10 == 0 else [])
               for i in range(60)]
    fb = [feedback(i, rating=1 if i % 4 else -1, final_text="sent", edited=i % 3 == 2, edit_distance=0.2 * (i % 3 == 2))
          for i in range(0, 60, 2)]
    return compute_report(records, fb, [review(5, "rejected")], since=SINCE, until=UNTIL, config=GuardConfig())


def test_json_object_has_the_documented_keys():
    data = json.loads(json.dumps(sample_report().model_dump(mode="json")))
    for key in ("window", "requests", "edit_rate", "thumbs_up_ratio", "flag_rate", "hallucination_rate", "latency_ms",
                "cost_usd", "metrics", "by_tier", "by_model", "health", "drift", "summary"):
        assert key in data
    assert set(data["latency_ms"]) == {"p50", "p95"}
    assert set(data["by_tier"]) == {"high", "medium", "low"}
    assert set(data["by_model"]) == {"gpt-4o-mini"}
    assert set(data["health"].values()) <= {"PASS", "WARN", "FAIL", "TOO FEW DATA", "NO DATA"}
    thumbs = next(m for m in data["metrics"] if m["key"] == "thumbs_up_ratio")
    assert {"value", "interval", "n", "status", "more_needed"} <= set(thumbs) and len(thumbs["interval"]) == 2
    assert {"too_few_data", "off_target", "on_target", "no_data"} <= set(data["summary"])
    assert {"tier_p_value", "confidence_p_value", "recent_requests", "baseline_requests"} <= set(data["drift"])
    assert data["requests"] == 60


def test_html_page_is_self_contained_with_its_four_charts():
    page = render_html(sample_report())
    assert not re.search(r"https?://", page)
    assert "<script" not in page and "src=" not in page
    assert page.count("<svg") == 4
    for title in ("Answers per day by confidence tier", "Latency per day (p50 and p95)", "Edit rate by tier",
                  "Cost per day (USD)"):
        assert title in page


def test_html_states_status_in_words_beside_the_colours():
    page = render_html(sample_report())
    assert "✓ PASS" in page or "✗ FAIL" in page
    assert "? TOO FEW DATA" in page and "95 % interval" in page and "By model" in page
    assert "Health check" in page and "Actions" in page and "Drift: " in page


def test_fragment_is_the_page_body_without_the_shell():
    report = sample_report()
    fragment = render_html_fragment(report)
    assert "<html" not in fragment and fragment.startswith("<section")
    assert fragment in render_html(report)


def test_terminal_report_shows_the_summary_and_every_metric():
    out = io.StringIO()
    render_terminal(sample_report(), Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    assert "on target" in text and "too few data" in text and "95 % interval" in text
    for label in ("Hallucination rate", "Flagged by guard", "Latency p95", "Thumbs-up ratio", "Edit rate", "Deflection",
                  "By model", "Drift"):
        assert label in text


def test_the_terminal_tier_table_gives_each_figure_its_interval():
    out = io.StringIO()
    report = sample_report()
    render_terminal(report, Console(file=out, width=240, color_system=None))
    tier_table = out.getvalue().split("By confidence tier", 1)[1].split("By model", 1)[0]
    deflection = next(line for line in tier_table.splitlines() if line.strip("│ ").startswith("Deflection"))
    low, high = report.by_tier["high"].intervals["deflection"]
    assert f"({low:.1%}–{high:.1%})" in deflection


def test_an_empty_window_renders_and_reports_no_data_rather_than_zeros():
    report = compute_report([], [], [], since=SINCE, until=UNTIL, config=GuardConfig())
    assert report.requests == 0 and report.latency_ms.p95 is None and report.cost_usd is None
    assert set(report.health.values()) == {"NO DATA"}
    assert report.summary.status == "No data yet for any target"
    assert "no data" in render_html(report)
