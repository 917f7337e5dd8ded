"""Generated and malformed requests: whatever a client sends, the proxy answers 2xx/4xx in OpenAI shape, never 5xx or a hang."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.conftest import MODEL

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
                    derandomize=True)

scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8), inner, max_size=3), max_leaves=8)
content_parts = st.lists(st.fixed_dictionaries({"type": st.sampled_from(["text", "image_url"]) | json_values},
                                               optional={"text": st.text(max_size=20) | json_values}), max_size=3)
messages = st.lists(st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "system", "assistant", "developer", "tool"]) | json_values,
     "content": st.text(max_size=30) | content_parts | json_values},
    optional={"tool_call_id": st.text(max_size=8), "name": json_values}), max_size=3) | json_values
chat_bodies = st.fixed_dictionaries(
    {"messages": messages},
    optional={"model": st.just(MODEL) | json_values, "stream": st.booleans() | json_values,
              "temperature": st.floats(0, 2) | json_values, "n": st.integers(0, 3) | json_values,
              "max_tokens": st.integers(-1, 50) | json_values, "stop": json_values, "seed": json_values,
              "stream_options": json_values, "response_format": json_values, "tools": json_values,
              "guard": st.fixed_dictionaries({}, optional={"risk": st.sampled_from(["high", "x"]),
                                                           "samples": json_values}) | json_values,
              "some_vendor_field": json_values})


@pytest.fixture(scope="module")
def server(request):
    """One proxy for the module (hypothesis calls each test many times); overrides allowed to reach that code."""
    from guard import Guard
    from tests.server.conftest import RunningServer, server_config
    from tests.support.fake_upstream import FakeUpstream
    from guard.adapters.server.app import create_app

    upstream = FakeUpstream()
    mp = pytest.MonkeyPatch()
    for name in ("OPENAI_API_BASE", "OPENAI_BASE_URL"):
        mp.setenv(name, upstream.base_url)
    mp.setenv("OPENAI_API_KEY", "sk-test")
    tmp = request.getfixturevalue("tmp_path_factory").mktemp("props")
    config = server_config(server={"allow_overrides": ["risk", "samples"]}, review={"enabled": True},
                           telemetry={"database": str(tmp / "g.db")})
    running = RunningServer(create_app(Guard(config), config))
    with httpx.Client(base_url=running.url, timeout=15) as client:
        yield client
    running.stop()
    upstream.close()
    mp.undo()


def _assert_answered(response: httpx.Response) -> None:
    response.read()
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}


@SETTINGS
@given(body=chat_bodies)
def test_chat_completions_never_fail_on_generated_bodies(server, body):
    with server.stream("POST", "/v1/chat/completions", json=body) as response:
        _assert_answered(response)
        if response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream"):
            assert "data: [DONE]" in response.text


@SETTINGS
@given(raw=st.binary(max_size=300) | json_values.map(lambda v: httpx.Request("POST", "/", json=v).content))
def test_chat_completions_never_fail_on_arbitrary_bytes(server, raw):
    _assert_answered(server.post("/v1/chat/completions", content=raw))


@SETTINGS
@given(body=st.fixed_dictionaries({}, optional={"request_id": st.text(max_size=10) | json_values,
                                                "rating": st.sampled_from([-1, 1, 0, 2]) | json_values,
                                                "final_text": json_values, "resolved": json_values}) | json_values)
def test_feedback_never_fails(server, body):
    _assert_answered(server.post("/v1/feedback", json=body))


@SETTINGS
@given(review_id=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"),
                         min_size=1, max_size=12),
       action=st.sampled_from(["approve", "edit", "reject", "x"]),
       body=json_values, query=st.dictionaries(st.sampled_from(["status", "limit", "offset", "tier"]),
                                               st.text(max_size=6), max_size=3))
def test_review_routes_never_fail(server, review_id, action, body, query):
    _assert_answered(server.post(f"/v1/reviews/{review_id}/{action}", json=body))
    _assert_answered(server.get(f"/v1/reviews/{review_id}"))
    _assert_answered(server.get("/v1/reviews", params=query))
