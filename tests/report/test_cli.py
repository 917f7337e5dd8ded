"""``guard report`` over a real store: JSON on stdout, an HTML file, a readable terminal report."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from guard.adapters.cli import app
from guard.adapters.report_cli import parse_moment
from guard.store import open_store
from tests.report.records import request


@pytest.fixture
def database(tmp_path):
    url = str(tmp_path / "guard.db")
    store = open_store(url)
    now = datetime.now(timezone.utc)
    store.write_requests([request(i, ("high", "low")[i % 2], at=now - timedelta(hours=i + 1)) for i in range(20)])
    store.record_feedback("gr_0", rating=1)
    store.record_feedback("gr_1", rating=-1, final_text="Refunds take 30 days, see the policy.")
    store.close()
    return url


def test_json_report_reads_the_store(database):
    result = CliRunner().invoke(app, ["report", "--since", "7d", "--json", "--database", database])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["requests"] == 20
    assert data["thumbs_up_ratio"] == 0.5
    assert data["edit_rate"] == 1.0
    assert data["by_tier"]["low"]["requests"] == 10


def test_html_option_writes_the_page_and_the_terminal_report_prints(database, tmp_path):
    page = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--since", "2d", "--html", str(page), "--database", database])
    assert result.exit_code == 0, result.output
    assert "on target" in result.output and "Health check" in result.output
    assert page.read_text().startswith("<!doctype html>")


def test_an_empty_window_is_refused(database):
    result = CliRunner().invoke(app, ["report", "--since", "1d", "--until", "2d", "--database", database])
    assert result.exit_code != 0


def test_durations_and_iso_dates_are_understood():
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert parse_moment("7d", now) == now - timedelta(days=7)
    assert parse_moment("36h", now) == now - timedelta(hours=36)
    assert parse_moment("2026-11-20", now) == datetime(2026, 11, 20, tzinfo=timezone.utc)


def test_by_key_groups_the_windows_requests_and_spend_by_api_key_name(tmp_path):
    url = str(tmp_path / "keys.db")
    store = open_store(url)
    now = datetime.now(timezone.utc)
    store.write_requests([request(i, ("high", "low")[i % 2], at=now - timedelta(hours=1), cost_usd=0.01,
                                 key_name="support-app" if i < 3 else "billing-app" if i < 4 else None)
                          for i in range(5)])
    store.close()

    as_json = CliRunner().invoke(app, ["report", "--since", "1d", "--by", "key", "--json", "--database", url])
    as_table = CliRunner().invoke(app, ["report", "--since", "1d", "--by", "key", "--database", url])

    assert as_json.exit_code == 0, as_json.output
    groups = {g["key"]: g for g in json.loads(as_json.output)["groups"]}
    assert {k: g["requests"] for k, g in groups.items()} == {"support-app": 3, "billing-app": 1, None: 1}
    assert groups["support-app"]["low_tier"] == 1 and groups["support-app"]["cost_usd"] == pytest.approx(0.03)
    assert "support-app" in as_table.output and "(no key)" in as_table.output
