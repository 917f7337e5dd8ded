"""Failed console logins are limited per client address, so an admin key cannot be guessed at speed.

Behind a reverse proxy (``server.forwarded_allow_ips``) the address is the one the proxy saw.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from guard import Guard, GuardConfig
from guard.adapters.server.app import create_app
from guard.errors import ConfigError

ADMIN_KEY = "admin-key-for-throttle-tests"


PROXY = ("10.0.0.2", 50000)  # a reverse proxy in front of guard


def console_client(tmp_path, client: tuple[str, int] = ("testclient", 50000), **server) -> TestClient:
    config = GuardConfig(telemetry={"database": str(tmp_path / "guard.db")},
                         server={"admin_keys": [ADMIN_KEY], "console_failed_logins": "2 per minute",
                                 "warm_up": False, **server})
    return TestClient(create_app(Guard(config), config), base_url="https://testserver", client=client)


@pytest.fixture
def console(tmp_path):
    with console_client(tmp_path) as client:
        yield client


def log_in(client: TestClient, key: str, forwarded_for: str | None = None):
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    return client.post("/console/login", data={"name": "Ana", "key": key}, headers=headers, follow_redirects=False)


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


def test_behind_a_trusted_proxy_one_clients_failures_do_not_lock_out_another(tmp_path):
    with console_client(tmp_path, PROXY, forwarded_allow_ips=["10.0.0.0/8"]) as behind_proxy:
        log_in(behind_proxy, "guess-1", "203.0.113.7"), log_in(behind_proxy, "guess-2", "203.0.113.7")

        assert log_in(behind_proxy, "guess-3", "203.0.113.7").status_code == 429
        assert log_in(behind_proxy, ADMIN_KEY, "198.51.100.4").status_code == 303


def test_a_forwarded_for_header_from_an_untrusted_client_is_ignored(tmp_path):
    with console_client(tmp_path, ("198.51.100.9", 50000)) as direct:  # not a configured proxy: no dodging the count
        log_in(direct, "guess-1", "203.0.113.1"), log_in(direct, "guess-2", "203.0.113.2")

        assert log_in(direct, "guess-3", "203.0.113.3").status_code == 429


def test_forwarded_allow_ips_must_be_addresses_or_networks():
    with pytest.raises((ConfigError, ValueError), match="neither an IP address"):
        GuardConfig(server={"forwarded_allow_ips": ["proxy.internal"]})
