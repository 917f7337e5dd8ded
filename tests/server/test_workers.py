"""``guard serve --workers 2`` as an operator runs it: each worker logs as one server does, /metrics counts them all."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
import yaml

from tests.server.conftest import MODEL
from tests.support.serve import GuardServe

REQUESTS = 16


def _requests_counted(metrics: str) -> float:
    return sum(float(value) for value in re.findall(r"^guard_requests_total\{[^}]*\} (\S+)$", metrics, re.M))


@pytest.fixture
def two_workers(upstream, tmp_path):
    """A real ``guard serve --workers 2`` subprocess in front of the scripted upstream; stopped with SIGTERM."""
    config = tmp_path / "guard.yaml"
    config.write_text(yaml.safe_dump({
        "models": {"default": MODEL, "max_attempts": 1, "timeout_s": 30},
        "grounding": {"enabled": False}, "support": {"enabled": False}, "citations": {"enabled": False},
        "consistency": {"enabled": False}, "review": {"enabled": False},
        "server": {"warm_up": False}, "logging": {"format": "json", "level": "info"},
        "telemetry": {"database": str(tmp_path / "guard.db")}}))
    server = GuardServe(config, "--workers", "2").ready(timeout_s=120)  # two interpreters import guard
    yield server.url, server.log_path
    server.stop()


def test_two_workers_report_the_sum_of_their_requests_and_each_logs_as_one_server(two_workers):
    url, stderr = two_workers
    question = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(REQUESTS):  # a new connection each: the kernel hands them to either worker
        assert httpx.post(url + "/v1/chat/completions", json=question, timeout=30).status_code == 200

    # Every scrape, whichever worker answers it, counts every request.
    scrapes = [_requests_counted(httpx.get(url + "/metrics", timeout=10).text) for _ in range(8)]
    assert scrapes == [REQUESTS] * 8

    time.sleep(0.5)  # the last log lines reach the file
    events = [json.loads(line) for line in stderr.read_text().splitlines() if line.startswith("{")]
    assert sum(e.get("event") == "guarded_completion" for e in events) == REQUESTS
