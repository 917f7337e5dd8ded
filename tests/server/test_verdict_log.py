"""VerdictLog: the verdicts of a run, collected through the httpx client a framework is handed."""

from __future__ import annotations

import httpx
import openai

from guard import VerdictLog
from tests.server.conftest import MODEL
from tests.support.fake_upstream import Reply

QUESTION = [{"role": "user", "content": "What is the refund window?"}]


def test_the_verdicts_of_plain_and_streamed_replies_are_collected_in_order(proxy, upstream):
    upstream.script["fake-model"] = [Reply(text="Thirty days.", stream_pieces=["Thirty ", "days."])]
    log = VerdictLog()
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="unused", max_retries=0, http_client=log.http_client())

    plain = client.chat.completions.create(model=MODEL, messages=QUESTION)
    chunks = list(client.chat.completions.create(model=MODEL, messages=QUESTION, stream=True))

    assert plain.choices[0].message.content == "Thirty days."  # the client reads the body as before
    assert [v.request_id for v in log] == [plain.model_extra["guard"]["request_id"],
                                           chunks[-1].model_extra["guard"]["request_id"]]
    assert log.last.tier == chunks[-1].model_extra["guard"]["tier"]


async def test_an_async_client_collects_them_too(proxy):
    log = VerdictLog()
    client = openai.AsyncOpenAI(base_url=proxy.url + "/v1", api_key="unused", max_retries=0,
                                http_client=log.async_http_client())

    reply = await client.chat.completions.create(model=MODEL, messages=QUESTION)

    assert log.last.request_id == reply.model_extra["guard"]["request_id"]


def test_a_hook_on_the_apps_own_client_collects_them(proxy):
    log = VerdictLog()
    with httpx.Client(event_hooks={"response": [log.hook]}) as http:
        http.post(proxy.url + "/v1/chat/completions", json={"model": MODEL, "messages": QUESTION}).json()
        http.get(proxy.url + "/healthz")

    assert len(log) == 1
