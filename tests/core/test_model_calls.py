"""One place calls models: retries transient failures, falls back, and fails loudly."""

from __future__ import annotations

import pytest

from guard import Guard, ModelCallError
from tests.core.conftest import BACKUP, PRIMARY, make_config
from tests.support.fake_upstream import Reply

QUESTION = [{"role": "user", "content": "What is the refund window?"}]


async def test_successful_call_returns_the_upstream_answer_with_usage(upstream, guard):
    upstream.script["primary-model"] = [Reply(text="Thirty days.", prompt_tokens=9, completion_tokens=3)]

    reply = await guard.acomplete(QUESTION)

    assert reply.choices[0].message.content == "Thirty days."
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (9, 3)
    assert reply.guard.model == PRIMARY


async def test_transient_failure_is_retried_then_succeeds(upstream, guard):
    upstream.script["primary-model"] = [Reply(status=503), Reply(status=429), Reply(text="Recovered.")]

    reply = await guard.acomplete(QUESTION)

    assert reply.choices[0].message.content == "Recovered."
    assert upstream.calls_to("primary-model") == 3


async def test_fallback_model_answers_when_the_primary_keeps_failing(upstream, guard):
    upstream.script["primary-model"] = [Reply(status=500)]
    upstream.script["backup-model"] = [Reply(text="From the backup.")]

    reply = await guard.acomplete(QUESTION)

    assert reply.choices[0].message.content == "From the backup."
    assert reply.guard.model == BACKUP
    assert upstream.calls_to("primary-model") == 3  # max_attempts before handing over


async def test_request_error_is_not_retried_but_falls_back(upstream, guard):
    upstream.script["primary-model"] = [Reply(status=400, error_message="bad request")]
    upstream.script["backup-model"] = [Reply(text="Fine.")]

    reply = await guard.acomplete(QUESTION)

    assert reply.choices[0].message.content == "Fine."
    assert upstream.calls_to("primary-model") == 1


async def test_final_failure_raises_an_error_naming_the_model_and_cause(upstream, guard):
    upstream.script["primary-model"] = [Reply(status=503, error_message="primary overloaded")]
    upstream.script["backup-model"] = [Reply(status=502, error_message="backup down")]

    with pytest.raises(ModelCallError) as caught:
        await guard.acomplete(QUESTION)

    message = str(caught.value)
    assert PRIMARY in message and BACKUP in message
    assert "backup down" in message and "primary overloaded" in message


async def test_an_empty_answer_is_a_failure_not_a_reply(upstream):
    upstream.script["primary-model"] = [Reply(text="")]
    guard = Guard(make_config(models={"default": PRIMARY, "max_attempts": 1, "timeout_s": 10}))

    with pytest.raises(ModelCallError, match="no content"):
        await guard.acomplete(QUESTION)


async def test_a_hung_upstream_times_out_with_a_clear_error(monkeypatch):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts connections, never answers
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    monkeypatch.setenv("OPENAI_API_BASE", url)
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    guard = Guard(make_config(models={"default": PRIMARY, "max_attempts": 1, "timeout_s": 0.5}))
    try:
        with pytest.raises(ModelCallError, match=PRIMARY):
            await guard.acomplete(QUESTION)
    finally:
        listener.close()
