"""The experiments page in a real browser: variants, metrics with intervals, the guardrails and the verdict."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from guard import Guard, GuardConfig
from guard.adapters.server.app import create_app
from tests.experiments.conftest import EXPERIMENT, PROMPTS, write_traffic

ADMIN_KEY = "console-admin-key-2"
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


@pytest.fixture(scope="module")
def console_url(tmp_path_factory, live_server_factory):
    work = tmp_path_factory.mktemp("experiments-page")
    with pytest.MonkeyPatch.context() as env:
        for key in [k for k in os.environ if k.startswith("GUARD_")]:
            env.delenv(key)
        env.chdir(work)
        config = GuardConfig(
            models={"default": "openai/fake-model"}, telemetry={"database": str(work / "guard.db")},
            grounding={"enabled": False}, support={"enabled": False}, citations={"enabled": False},
            server={"admin_keys": [ADMIN_KEY], "warm_up": False}, experiments=[EXPERIMENT], prompts=PROMPTS)
        guard = Guard(config)
        from guard.experiments import definitions

        definitions.seed(guard.store, config)
        write_traffic(guard.store, edit_rates={"control": 0.5, "concise": 0.2}, per_variant=120,
                      latency={"control": 800.0, "concise": 2000.0})
        server = live_server_factory(create_app(guard, config))
        yield server.url + "/console"


def sign_in(page, url: str) -> None:
    page.goto(url + "/")
    page.get_by_label("Your name").fill("Ana")
    page.get_by_label("Admin key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()


def test_the_experiments_page_shows_each_variant_with_intervals_guardrails_and_the_verdict(page, console_url):
    sign_in(page, console_url)
    page.get_by_role("link", name="Experiments").click()

    section = page.locator("section.experiment", has_text="concise-prompt")
    assert "running" in section.get_by_role("heading").inner_text()
    headers = section.locator("thead th").all_inner_texts()
    assert headers == ["Metric", "control (control)", "concise"]
    edit_rate = section.locator("tr[data-metric=edit_rate] td")
    assert "[" in edit_rate.nth(0).inner_text()  # an interval beside the value
    assert "Δ -" in edit_rate.nth(1).inner_text()  # concise is edited less
    latency = section.locator("tr[data-metric=latency_p95_ms] td").nth(1).inner_text()
    assert "guardrail +20%: fail" in latency
    assert "Verdict: keep control" in section.locator(".verdict").inner_text()  # better, but twice as slow
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "console-experiments.png"), full_page=True)


def test_the_experiments_page_needs_a_console_session(page, console_url):
    page.goto(console_url + "/experiments")
    assert page.get_by_role("heading", name="Sign in to the review console").is_visible()
