"""One place calls models: retries transient failures, falls back, and fails loudly."""

from __future__ import annotations

import pytest

from guard import Guard, InvalidRequest, ModelCallError
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


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_a_refused_request_is_neither_retried_nor_handed_to_a_fallback(upstream, guard, status):
    upstream.script["primary-model"] = [Reply(status=status, error_message="refused")]
    upstream.script["backup-model"] = [Reply(text="An answer from a model the app did not choose.")]

    with pytest.raises(ModelCallError, match="refused"):
        await guard.acomplete(QUESTION)

    assert upstream.calls_to("primary-model") == 1
    assert upstream.calls_to("backup-model") == 0


async def test_an_empty_answer_is_not_handed_to_a_fallback(upstream, guard):
    upstream.script["primary-model"] = [Reply(text="")]

    with pytest.raises(ModelCallError, match="no content"):
        await guard.acomplete(QUESTION)

    assert upstream.calls_to("backup-model") == 0


async def test_one_deadline_bounds_every_attempt_and_fallback(upstream):
    """Three slow failures per model would run six attempts; the deadline ends the call within the primary's."""
    upstream.script["primary-model"] = [Reply(status=503, delay_s=0.3)]
    upstream.script["backup-model"] = [Reply(status=503, delay_s=0.3)]
    guard = Guard(make_config(models={"default": PRIMARY, "fallbacks": [BACKUP], "max_attempts": 3,
                                      "backoff_initial_s": 0.01, "backoff_max_s": 0.01, "timeout_s": 5,
                                      "deadline_s": 0.8}))

    with pytest.raises(ModelCallError) as caught:
        await guard.acomplete(QUESTION)

    assert upstream.calls_to("backup-model") == 0
    assert isinstance(caught.value.cause, TimeoutError)


def test_the_deadline_defaults_to_the_latency_budget_else_twice_the_timeout():
    assert make_config(models={"default": PRIMARY, "timeout_s": 7}).models.deadline_s == 14
    assert make_config(product={"max_latency_s": 3}).models.deadline_s == 3


async def test_a_client_asking_for_more_choices_than_configured_is_refused(upstream):
    guard = Guard(make_config(models={"default": PRIMARY, "max_n": 2}))

    with pytest.raises(InvalidRequest, match="models.max_n"):
        await guard.acomplete(QUESTION, n=3)

    assert upstream.requests == []


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
