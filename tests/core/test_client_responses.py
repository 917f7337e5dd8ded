"""The drop-in client's ``responses.create``: the openai SDK's call and objects, with ``guard`` on them."""

from __future__ import annotations

import pytest
from openai.types.responses import Response

from guard.errors import InvalidRequest

from guard import AsyncClient, Client
from tests.core.conftest import make_config
from tests.support.fake_upstream import Reply

MODEL = "openai/primary-model"
LAYERS_OFF = {"grounding": {"enabled": False}, "support": {"enabled": False}, "citations": {"enabled": False},
              "consistency": {"enabled": False}}


def test_create_returns_an_openai_response_carrying_guard(upstream):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    with Client(make_config(**LAYERS_OFF)) as client:
        response = client.responses.create(model=MODEL, input="How long is the warranty?", instructions="Be brief.")

    assert isinstance(response, Response)
    assert response.output_text == "Two years."
    assert response.guard.request_id == "gr_" + response.id.removeprefix("resp_")
    assert upstream.requests[-1]["messages"][0] == {"role": "system", "content": "Be brief."}


def test_previous_response_id_continues_a_conversation(upstream):
    upstream.script["primary-model"] = [Reply(text="Two years."), Reply(text="Yes.")]
    with Client(make_config(**LAYERS_OFF)) as client:
        first = client.responses.create(model=MODEL, input="How long is the warranty?")
        client.responses.create(model=MODEL, input="Does it cover batteries?", previous_response_id=first.id)

    assert [m["content"] for m in upstream.requests[-1]["messages"]] == [
        "How long is the warranty?", "Two years.", "Does it cover batteries?"]


def test_a_stream_yields_the_sdk_events_and_ends_with_the_verdict(upstream):
    upstream.script["primary-model"] = [Reply(stream_pieces=["Two", " years."])]
    with Client(make_config(**LAYERS_OFF)) as client:
        events = list(client.responses.create(model=MODEL, input="How long is the warranty?", stream=True))

    assert events[0].type == "response.created"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Two years."
    assert events[-2].type == "response.completed"
    assert events[-1].guard.request_id == events[-2].response.model_extra["guard"]["request_id"]


async def test_the_async_client_creates_responses_too(upstream):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    async with AsyncClient(make_config(**LAYERS_OFF)) as client:
        response = await client.responses.create(model=MODEL, input="How long is the warranty?")

    assert response.output_text == "Two years."
    assert response.guard.tier


@pytest.mark.parametrize("fields, param", [({"tools": [{"type": "web_search"}]}, "tools.0"),
                                           ({"guard": {"risk": "high"}}, "guard")])
def test_what_cannot_be_served_is_an_invalid_request_naming_the_field(upstream, fields, param):
    with Client(make_config(**LAYERS_OFF)) as client, pytest.raises(InvalidRequest) as caught:
        client.responses.create(model=MODEL, input="How long is the warranty?", **fields)

    assert caught.value.param == param
    assert upstream.requests == []
