"""Every error in the OpenAI shape, with the status that makes the SDK raise the matching exception."""

from __future__ import annotations

import logging

import httpx
import openai
import pytest

from guard.logs import configure_logging
from tests.server.conftest import MODEL
from tests.store.test_guard_recording import wait_for
from tests.support.fake_upstream import Reply

QUESTION = [{"role": "user", "content": "hi"}]


def _error(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_malformed_json_is_a_400_in_openai_shape(proxy):
    response = httpx.post(proxy.url + "/v1/chat/completions", content=b'{"model": ', 
                          headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert _error(response)["code"] == "invalid_json"


@pytest.mark.parametrize(("body", "param"), [
    ({"model": MODEL, "messages": []}, "messages"),
    ({"model": MODEL, "messages": "hi"}, "messages"),
    ({"model": MODEL, "messages": [{"role": "wizard", "content": "hi"}]}, "messages.0.role"),
    ({"model": MODEL, "messages": QUESTION, "temperature": "hot"}, "temperature"),
    ({"model": MODEL, "messages": QUESTION, "n": 0}, "n"),
    ({"model": "no-such-model", "messages": QUESTION}, "model"),
    ({"model": MODEL, "messages": QUESTION, "guard": {"mood": "happy"}}, "guard.mood"),
    ({"model": MODEL, "messages": QUESTION, "guard": {"risk": "high"}}, "guard.risk"),
])
def test_invalid_requests_raise_bad_request_naming_the_field(proxy, body, param):
    body = dict(body)
    extra = {"guard": body.pop("guard")} if "guard" in body else None
    with pytest.raises(openai.BadRequestError) as caught:
        proxy.client().chat.completions.create(**body, extra_body=extra)

    assert caught.value.status_code == 400
    assert caught.value.body["param"] == param


def test_a_body_over_the_limit_is_refused_while_reading_with_413(start_proxy):
    proxy = start_proxy(server={"max_body_bytes": 2048})
    big = {"model": MODEL, "messages": [{"role": "user", "content": "x" * 10_000}]}

    with pytest.raises(openai.APIStatusError) as caught:
        proxy.client().chat.completions.create(**big)
    assert caught.value.status_code == 413

    def chunks():  # no content-length: the limit must stop the read itself
        yield b'{"model": "' + MODEL.encode() + b'", "messages": [{"role": "user", "content": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}]}'

    response = httpx.post(proxy.url + "/v1/chat/completions", content=chunks(),
                          headers={"content-type": "application/json"})
    assert response.status_code == 413 and _error(response)["code"] == "request_too_large"


def test_upstream_rate_limit_passes_through_with_retry_after(proxy, upstream):
    upstream.script["fake-model"] = [Reply(status=429, error_message="slow down", headers={"retry-after": "7"})]

    with pytest.raises(openai.RateLimitError) as caught:
        proxy.client().chat.completions.create(model=MODEL, messages=QUESTION)

    assert caught.value.response.headers["retry-after"] == "7"
    assert "slow down" in caught.value.message


@pytest.mark.parametrize("status", [500, 503])
def test_upstream_server_errors_pass_through_as_server_errors(proxy, upstream, status):
    upstream.script["fake-model"] = [Reply(status=status)]

    with pytest.raises(openai.InternalServerError) as caught:
        proxy.client().chat.completions.create(model=MODEL, messages=QUESTION)

    assert caught.value.status_code == status


def test_upstream_bad_request_is_the_clients_bad_request(proxy, upstream):
    upstream.script["fake-model"] = [Reply(status=400, error_message="context too long")]

    with pytest.raises(openai.BadRequestError) as caught:
        proxy.client().chat.completions.create(model=MODEL, messages=QUESTION)

    assert "context too long" in caught.value.message


def test_upstream_timeout_is_a_504(start_proxy, upstream):
    proxy = start_proxy(models={"timeout_s": 0.3})
    upstream.script["fake-model"] = [Reply(stream_pieces=["late"], chunk_delay_s=2.0)]

    with pytest.raises(openai.InternalServerError) as caught:
        proxy.client().chat.completions.create(model=MODEL, messages=QUESTION, stream=True)

    assert caught.value.status_code == 504
    assert caught.value.body["code"] == "upstream_timeout"


def test_unknown_route_is_a_404_in_openai_shape(proxy):
    with pytest.raises(openai.NotFoundError):
        proxy.client().get("/nowhere", cast_to=object)


def test_unreachable_upstream_is_a_502(start_proxy, upstream, monkeypatch):
    proxy = start_proxy()
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")

    with pytest.raises(openai.InternalServerError) as caught:
        proxy.client().chat.completions.create(model=MODEL, messages=QUESTION)

    assert caught.value.status_code == 502


def test_an_unexpected_error_is_a_500_and_its_log_line_masks_personal_data(start_proxy, monkeypatch, capsys, caplog):
    proxy = start_proxy(product={"pii_handling": "redact"}, logging={"format": "json"})
    configure_logging(proxy.guard.config.logging)  # what `guard serve` does

    address = "@".join(("jane.doe", "example.com"))  # built at run time: a traceback quotes source lines

    async def broken(*_args, **_kwargs):
        raise RuntimeError(f"no route for {address}")

    monkeypatch.setattr(proxy.guard, "acomplete", broken)
    server_log = logging.getLogger("uvicorn.error")  # uvicorn's own lines do not reach the root logger
    server_log.addHandler(caplog.handler)
    try:
        with pytest.raises(openai.InternalServerError) as caught:
            proxy.client().chat.completions.create(model=MODEL, messages=QUESTION)
        wait_for(lambda: "no route for" in caplog.text, 5)  # the server logs it once the answer is sent
    finally:
        server_log.removeHandler(caplog.handler)

    assert caught.value.body["code"] == "internal_error"
    guards_line = capsys.readouterr().err
    assert "unhandled_error" in guards_line and address not in guards_line
    # the server's own traceback of the error (uvicorn logs what Starlette re-raises) is masked too
    assert "no route for" in caplog.text and address not in caplog.text


def test_guards_own_value_error_is_a_500_logged_with_the_request_id_not_the_clients_400(start_proxy, monkeypatch,
                                                                                          capsys):
    """Only the client's mistakes are 400s: a bug inside guard must show as a 500, or no test would see it."""
    proxy = start_proxy(product={"pii_handling": "redact"}, logging={"format": "json"})
    configure_logging(proxy.guard.config.logging)

    async def broken(*_args, **_kwargs):
        raise ValueError("could not parse the answer for jane.doe@example.com")

    monkeypatch.setattr(proxy.guard.llm, "complete", broken)
    with pytest.raises(openai.InternalServerError) as caught:
        proxy.client().chat.completions.create(model=MODEL, messages=QUESTION)

    assert caught.value.status_code == 500 and caught.value.body["code"] == "internal_error"
    request_id = caught.value.body["message"].split("(request ")[1].split(")")[0]
    logged = [line for line in capsys.readouterr().err.splitlines() if "unhandled_error" in line]
    assert len(logged) == 1 and request_id in logged[0] and request_id.startswith("gr_")
    assert "jane.doe@example.com" not in logged[0] and "ValueError" in logged[0]


def test_more_choices_than_configured_is_the_clients_400_naming_n(start_proxy, upstream):
    proxy = start_proxy(models={"max_n": 2})

    with pytest.raises(openai.BadRequestError) as caught:
        proxy.client().chat.completions.create(model=MODEL, messages=QUESTION, n=3)

    assert caught.value.body["param"] == "n"
    assert upstream.requests == []


def _store_down_messages(url: str) -> list[str]:
    """The 503 messages a held answer and a lookup get from a server whose store at ``url`` cannot be opened."""
    from sqlalchemy import create_engine

    from guard import Guard
    from guard.adapters.server.app import create_app
    from guard.store import Store
    from tests.server.conftest import RunningServer, server_config

    config = server_config(review={"enabled": True, "policy": "block"})
    server = RunningServer(create_app(Guard(config, store=Store(create_engine(url))), config))
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
    try:
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model=MODEL, messages=QUESTION)  # held: the draft must be stored first
        looked_up = httpx.get(server.url + "/v1/requests/gr_any")
    finally:
        server.stop()
    assert caught.value.status_code == 503 and caught.value.body["code"] == "store_unavailable"
    assert looked_up.status_code == 503
    return [caught.value.body["message"], _error(looked_up)["message"]]


def test_an_unreachable_store_is_a_503_that_names_no_database_host(upstream):
    """The app learns that guard's store is down, not where guard's database lives."""
    for message in _store_down_messages("postgresql+psycopg://guard:secret@127.0.0.1:9/guard_db?connect_timeout=2"):
        assert "127.0.0.1" not in message and "guard_db" not in message and "postgresql" not in message


def test_a_store_file_that_cannot_be_opened_is_a_503_that_names_no_path(upstream, tmp_path):
    missing = tmp_path / "private-folder" / "guard.db"  # its folder does not exist: SQLite cannot open it
    for message in _store_down_messages(f"sqlite:///{missing}"):
        assert "private-folder" not in message and str(tmp_path) not in message
