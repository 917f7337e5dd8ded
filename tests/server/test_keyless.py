"""Without API keys the proxy is open, so it stays out of a browser's reach and off the network."""

from __future__ import annotations

import httpx
import pytest

from guard import Guard
from guard.adapters.server.app import create_app
from tests.server.conftest import MODEL, server_config

BODY = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}


def test_the_sdk_on_this_machine_is_served_without_a_key(proxy):
    assert proxy.client().chat.completions.create(**BODY).choices


def test_a_request_for_another_host_name_is_refused(proxy):
    """DNS rebinding: a web page's own name pointing at 127.0.0.1 still sends its own Host."""
    refused = httpx.post(proxy.url + "/v1/chat/completions", json=BODY, headers={"host": "attacker.example"})

    assert refused.status_code == 403 and refused.json()["error"]["code"] == "keyless_not_local"


def test_a_cross_site_origin_is_refused(proxy):
    refused = httpx.post(proxy.url + "/v1/chat/completions", json=BODY, headers={"origin": "https://attacker.example"})

    assert refused.status_code == 403 and refused.json()["error"]["code"] == "cross_site_refused"


def test_a_page_served_from_this_machine_may_call_it(proxy):
    local = httpx.post(proxy.url + "/v1/chat/completions", json=BODY, headers={"origin": "http://localhost:3000"})

    assert local.status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_post_that_is_not_json_is_refused(proxy, content_type):
    """A page can POST text/plain or a form to any address without a preflight; JSON it cannot."""
    headers = {"content-type": content_type} if content_type else {}
    refused = httpx.post(proxy.url + "/v1/chat/completions", content=httpx.Request("POST", "/", json=BODY).content,
                         headers=headers)

    assert refused.status_code == 415 and refused.json()["error"]["code"] == "unsupported_media_type"


def test_create_app_refuses_a_keyless_non_loopback_host():
    config = server_config(server={"host": "0.0.0.0"})

    with pytest.raises(ValueError, match="without API keys"):
        create_app(Guard(config), config)


async def test_a_keyless_app_refuses_requests_that_reached_it_on_a_non_loopback_address():
    """``uvicorn --factory --host 0.0.0.0``: create_app never saw the bind address, the request's scope has it."""
    config = server_config()
    app = create_app(Guard(config), config)
    outside = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://192.0.2.2:8000")
    inside = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000")

    async with outside, inside:
        refused = await outside.get("/v1/models", headers={"host": "localhost"})
        served = await inside.get("/v1/models")

    assert refused.status_code == 403 and refused.json()["error"]["code"] == "keyless_not_local"
    assert served.status_code == 200


def test_with_keys_a_non_loopback_host_is_served(start_proxy):
    proxy = start_proxy(server={"api_keys": ["a-key-long-enough-1"]})

    response = httpx.get(proxy.url + "/v1/models", headers={"host": "guard.internal.example",
                                                             "authorization": "Bearer a-key-long-enough-1"})

    assert response.status_code == 200
