"""Named keys (``server.keys``): requests are attributed to the key that made them and held to its limits."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import httpx
import openai
import pytest

from guard.config import key_digest, load_config
from guard.errors import ConfigError
from guard.store import RequestRecord, open_store
from tests.server.conftest import MODEL
from tests.server.test_two_servers_postgres import postgres_schema  # noqa: F401 - a fixture
from tests.support.fake_upstream import Reply

SUPPORT_KEY, BILLING_KEY, OPS_KEY = "sk-support-app-000001", "sk-billing-app-000001", "sk-ops-admin-00000001"
QUESTION = [{"role": "user", "content": "What is the refund window?"}]
PRICED = "openai/gpt-4o-mini"  # in litellm's local price map: its answers cost something
POSTGRES_URL = os.environ.get("GUARD_TEST_POSTGRES_URL")  # read at import: the autouse fixture clears GUARD_*


def keys(**limits) -> list[dict]:
    """support-app (with ``limits``), billing-app, and ops (admin)."""
    return [{"name": "support-app", "digest": key_digest(SUPPORT_KEY), **limits},
            {"name": "billing-app", "digest": key_digest(BILLING_KEY)},
            {"name": "ops", "digest": key_digest(OPS_KEY), "admin": True}]


@pytest.fixture
def held(start_proxy, upstream):
    """Named keys under block review, and one answer held for support-app."""
    proxy = start_proxy(server={"keys": keys()}, review={"enabled": True, "policy": "block", "tiers": ["low"]})
    upstream.script["fake-model"] = [Reply(text="Ninety days.")]
    reply = proxy.client(SUPPORT_KEY).chat.completions.create(model=MODEL, messages=QUESTION)
    return proxy, reply.model_extra["guard"]


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


# -- attribution ---------------------------------------------------------------

def test_the_record_and_the_review_item_name_the_key_never_the_key_itself(held):
    proxy, verdict = held
    proxy.guard.writer.flush(timeout=5)

    record = proxy.guard.store.get_request(verdict["request_id"])
    item = proxy.guard.store.get_review(verdict["review"]["id"])

    assert record.key_name == "support-app" and item.key_name == "support-app"
    assert SUPPORT_KEY not in record.model_dump_json() + item.model_dump_json()


def test_a_stream_is_attributed_to_its_key(start_proxy):
    proxy = start_proxy(server={"keys": keys()})

    chunks = list(proxy.client(BILLING_KEY).chat.completions.create(model=MODEL, messages=QUESTION, stream=True))
    proxy.guard.writer.flush(timeout=5)

    request_id = chunks[-1].model_extra["guard"]["request_id"]
    assert proxy.guard.store.get_request(request_id).key_name == "billing-app"


# -- GET /v1/requests/{id} -------------------------------------------------------

def test_an_app_key_reads_only_the_outcome_of_its_own_request(held):
    proxy, verdict = held

    own = httpx.get(f"{proxy.url}/v1/requests/{verdict['request_id']}", headers=bearer(SUPPORT_KEY))

    assert own.status_code == 200
    assert own.json() == {"object": "guard.request", "request_id": verdict["request_id"], "status": "pending",
                          "answer": None, "decided_at": None}


def test_another_app_key_cannot_see_the_request(held):
    proxy, verdict = held

    with pytest.raises(openai.NotFoundError):
        proxy.client(BILLING_KEY).get(f"/requests/{verdict['request_id']}", cast_to=object)


def test_after_the_decision_the_app_gets_the_answer_and_when_but_not_who_or_why(held):
    proxy, verdict = held
    httpx.post(f"{proxy.url}/v1/reviews/{verdict['review']['id']}/edit", headers=bearer(OPS_KEY),
               json={"final_text": "Thirty days.", "reason": "internal note: policy changed"})

    app_view = httpx.get(f"{proxy.url}/v1/requests/{verdict['request_id']}", headers=bearer(SUPPORT_KEY)).json()
    admin_view = httpx.get(f"{proxy.url}/v1/requests/{verdict['request_id']}", headers=bearer(OPS_KEY)).json()

    assert (app_view["status"], app_view["answer"]) == ("edited", "Thirty days.") and app_view["decided_at"]
    assert "internal note" not in str(app_view) and "ops" not in str(app_view)
    assert admin_view["review"]["reviewer"] == "ops" and admin_view["review"]["reason"].startswith("internal note")


# -- decisions -------------------------------------------------------------------

def test_a_decision_is_recorded_under_the_admin_keys_name(held):
    proxy, verdict = held

    decided = proxy.client(OPS_KEY).post(f"/reviews/{verdict['review']['id']}/approve", body={}, cast_to=object)

    assert decided["reviewer"] == "ops"


def test_a_reviewer_named_in_the_body_is_refused(held):
    proxy, verdict = held

    with pytest.raises(openai.BadRequestError) as refused:
        proxy.client(OPS_KEY).post(f"/reviews/{verdict['review']['id']}/approve", body={"reviewer": "someone else"},
                                   cast_to=object)

    assert refused.value.body["param"] == "reviewer"
    assert proxy.guard.store.get_review(verdict["review"]["id"]).status == "pending"


# -- limits ----------------------------------------------------------------------

def test_past_its_requests_per_minute_a_key_gets_a_rate_limit_429_with_retry_after(start_proxy):
    proxy = start_proxy(server={"keys": keys(requests_per_minute=2)})
    support = proxy.client(SUPPORT_KEY)
    for _ in range(2):
        support.chat.completions.create(model=MODEL, messages=QUESTION)

    with pytest.raises(openai.RateLimitError) as limited:
        support.chat.completions.create(model=MODEL, messages=QUESTION)

    assert limited.value.body["code"] == "rate_limit_exceeded"
    assert 0 < int(limited.value.response.headers["retry-after"]) <= 60
    assert proxy.client(BILLING_KEY).chat.completions.create(model=MODEL, messages=QUESTION).choices  # others go on


def _spent_today(database: str, key_name: str, usd: float) -> None:
    store = open_store(database)
    store.write_requests([RequestRecord(request_id="gr_earlier", created_at=datetime.now(timezone.utc),
                                        product="app", key_name=key_name, cost_usd=usd)])
    store.close()


def test_past_its_spend_for_the_day_a_key_gets_insufficient_quota_that_sdks_do_not_retry(start_proxy, tmp_path):
    database = str(tmp_path / "shared.db")
    _spent_today(database, "support-app", 0.75)  # by this or any other worker: it is in the store
    proxy = start_proxy(server={"keys": keys(usd_per_day=0.5)}, telemetry={"database": database})
    sent: list[httpx.Request] = []
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key=SUPPORT_KEY, max_retries=3,  # the SDK's retries on
                           http_client=httpx.Client(event_hooks={"request": [sent.append]}))

    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model=MODEL, messages=QUESTION)

    assert limited.value.body["code"] == "insufficient_quota"
    assert limited.value.response.headers["x-should-retry"] == "false" and len(sent) == 1
    assert proxy.client(BILLING_KEY).chat.completions.create(model=MODEL, messages=QUESTION).choices


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "shared.db")
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("GUARD_TEST_POSTGRES_URL is not set: CI must run this test against PostgreSQL")
        pytest.skip("GUARD_TEST_POSTGRES_URL is not set (.ci/run sets it up)")
    return request.getfixturevalue("postgres_schema")


def test_the_day_limit_holds_across_workers_sharing_the_store(start_proxy, upstream, shared_database):
    limits = {"models": {"default": PRICED}, "server": {"keys": keys(usd_per_day=1e-6)},
              "telemetry": {"database": shared_database}}
    first, second = start_proxy(**limits), start_proxy(**limits)

    answered = first.client(SUPPORT_KEY).chat.completions.create(model=PRICED, messages=QUESTION)
    first.guard.writer.flush(timeout=5)

    assert answered.model_extra["guard"]["usage"]["cost_usd"] > 1e-6
    with pytest.raises(openai.RateLimitError) as limited:
        second.client(SUPPORT_KEY).chat.completions.create(model=PRICED, messages=QUESTION)
    assert limited.value.body["code"] == "insufficient_quota"


# -- the keys themselves ---------------------------------------------------------

@pytest.mark.parametrize("variable", ["GUARD_SERVER__API_KEYS", "GUARD_SERVER__ADMIN_KEYS"])
def test_a_key_shorter_than_16_characters_is_refused_without_quoting_it(monkeypatch, variable):
    monkeypatch.setenv(variable, "sk-short-key-1")

    with pytest.raises(ConfigError, match="at least 16 characters") as refused:
        load_config()

    assert "sk-short-key-1" not in str(refused.value)


def test_two_keys_with_one_name_are_refused():
    with pytest.raises(ConfigError, match="share a name"):
        load_config(server={"keys": [{"name": "app", "digest": key_digest(SUPPORT_KEY)},
                                     {"name": "app", "digest": key_digest(BILLING_KEY)}]})


def test_a_key_named_in_yaml_must_be_a_digest(tmp_path):
    file = tmp_path / "guard.yaml"
    file.write_text(f"server:\n  keys:\n    - name: app\n      digest: {SUPPORT_KEY}\n")

    with pytest.raises(ConfigError, match="64 hex digits"):
        load_config(file)
