"""Failed console logins are limited per client address, so an admin key cannot be guessed at speed."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from guard import Guard, GuardConfig
from guard.adapters.server.app import create_app
from guard.errors import ConfigError

ADMIN_KEY = "admin-key-for-throttle-tests"


@pytest.fixture
def console(tmp_path):
    config = GuardConfig(telemetry={"database": str(tmp_path / "guard.db")},
                         server={"admin_keys": [ADMIN_KEY], "console_failed_logins": "2 per minute",
                                 "warm_up": False})
    with TestClient(create_app(Guard(config), config), base_url="https://testserver") as client:
        yield client


def log_in(client: TestClient, key: str):
    return client.post("/console/login", data={"name": "Ana", "key": key}, follow_redirects=False)


def test_failed_logins_beyond_the_limit_are_refused_with_retry_after(console):
    assert [log_in(console, "guess-1").status_code, log_in(console, "guess-2").status_code] == [401, 401]

    refused = log_in(console, "guess-3")

    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many failed logins" in refused.text


def test_the_right_key_is_refused_too_once_the_limit_is_reached(console):
    log_in(console, "guess-1"), log_in(console, "guess-2")

    assert log_in(console, ADMIN_KEY).status_code == 429


def test_successful_logins_do_not_count_against_the_limit(console):
    for _ in range(3):
        assert log_in(console, ADMIN_KEY).status_code == 303


def test_a_rate_that_is_not_a_rate_is_a_config_error():
    with pytest.raises((ConfigError, ValueError), match="not a rate"):
        GuardConfig(server={"console_failed_logins": "often"})
