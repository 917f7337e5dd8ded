"""Bearer keys: app keys for the API, admin keys for reviews and metrics, digests only in files."""

from __future__ import annotations

import hashlib

import httpx
import openai
import pytest

from guard.adapters.server.auth import check_bind
from guard.config import ServerConfig, load_config
from guard.errors import ConfigError
from tests.server.conftest import ADMIN_KEY, APP_KEY, MODEL

QUESTION = [{"role": "user", "content": "hi"}]


@pytest.fixture
def keyed(start_proxy):
    return start_proxy(server={"api_keys": [APP_KEY], "admin_keys": [ADMIN_KEY]})


def test_a_missing_or_wrong_key_is_a_401_in_openai_shape(keyed):
    with pytest.raises(openai.AuthenticationError) as caught:
        keyed.client("sk-wrong").chat.completions.create(model=MODEL, messages=QUESTION)
    assert caught.value.body["code"] == "invalid_api_key"

    missing = httpx.post(keyed.url + "/v1/chat/completions", json={"model": MODEL, "messages": QUESTION})
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "authentication_error"


def test_app_and_admin_keys_both_open_the_completion_route(keyed):
    for key in (APP_KEY, ADMIN_KEY):
        assert keyed.client(key).chat.completions.create(model=MODEL, messages=QUESTION).choices


@pytest.mark.parametrize("path", ["/v1/reviews", "/metrics", "/v1/reviews/rv_x"])
def test_admin_routes_refuse_app_keys_with_403(keyed, path):
    app = httpx.get(keyed.url + path, headers={"authorization": f"Bearer {APP_KEY}"})
    admin = httpx.get(keyed.url + path, headers={"authorization": f"Bearer {ADMIN_KEY}"})

    assert app.status_code == 403 and app.json()["error"]["code"] == "admin_key_required"
    assert admin.status_code in (200, 404)


def test_sdk_raises_permission_denied_for_an_app_key_on_admin_routes(keyed):
    with pytest.raises(openai.PermissionDeniedError):
        keyed.client(APP_KEY).get("/reviews", cast_to=object)


def test_yaml_accepts_key_digests_and_refuses_plain_keys(tmp_path):
    digest = "sha256:" + hashlib.sha256(APP_KEY.encode()).hexdigest()
    good = tmp_path / "good.yaml"
    good.write_text(f"server:\n  api_keys: ['{digest}']\n")
    assert load_config(good).server.api_keys == [digest]

    bad = tmp_path / "bad.yaml"
    bad.write_text(f"server:\n  api_keys: ['{APP_KEY}']\n")
    with pytest.raises(ConfigError, match="sha256"):
        load_config(bad)


def test_plain_keys_from_the_environment_are_kept_only_as_digests(monkeypatch):
    monkeypatch.setenv("GUARD_SERVER__API_KEYS", f"{APP_KEY},other-key-0123456789")

    config = load_config()

    assert config.server.api_keys[0] == "sha256:" + hashlib.sha256(APP_KEY.encode()).hexdigest()
    assert APP_KEY not in config.model_dump_json()


def test_without_keys_the_server_binds_only_to_loopback():
    check_bind(ServerConfig(host="127.0.0.1"))
    with pytest.raises(ValueError, match="without API keys"):
        check_bind(ServerConfig(host="0.0.0.0"))
    check_bind(ServerConfig(host="0.0.0.0", api_keys=["k" * 16]))
