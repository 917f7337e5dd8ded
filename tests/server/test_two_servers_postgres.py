"""Two ``guard serve`` processes on one PostgreSQL share the review queue: queued through one, decided through the other."""

from __future__ import annotations

import os
import uuid

import httpx
import openai
import pytest

from tests.server.conftest import ADMIN_KEY, APP_KEY, MODEL
from tests.support.fake_upstream import Reply
from tests.support.serve import GuardServe

POSTGRES_URL = os.environ.get("GUARD_TEST_POSTGRES_URL")  # read at import: the autouse fixture clears GUARD_*


@pytest.fixture
def postgres_schema():
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("GUARD_TEST_POSTGRES_URL is not set: CI must run this test against PostgreSQL")
        pytest.skip("GUARD_TEST_POSTGRES_URL is not set (.ci/run sets it up)")
    from sqlalchemy import create_engine, text

    from guard.store.engine import database_url

    schema = "guard_serve_" + uuid.uuid4().hex[:10]
    admin = create_engine(database_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_a_review_queued_through_one_server_is_decided_through_the_other(postgres_schema, upstream, tmp_path):
    config = tmp_path / "guard.yaml"
    config.write_text(
        f"models: {{default: {MODEL}, max_attempts: 1}}\n"
        f"telemetry: {{database: '{postgres_schema}'}}\n"
        "grounding: {enabled: false}\nsupport: {enabled: false}\ncitations: {enabled: false}\n"
        "consistency: {enabled: false}\nreview: {enabled: true, policy: block, tiers: [low]}\n")
    upstream.script["fake-model"] = [Reply(text="A draft only a person may release.")]
    env = {**os.environ, "GUARD_SERVER__API_KEYS": APP_KEY, "GUARD_SERVER__ADMIN_KEYS": ADMIN_KEY}
    servers = [GuardServe(config, env=env) for _ in range(2)]  # both start at once: imports are slow
    try:
        first, second = (server.ready().url for server in servers)
        reply = openai.OpenAI(base_url=first + "/v1", api_key=APP_KEY, max_retries=0).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "May I?"}])
        review_id = reply.model_extra["guard"]["review"]["id"]
        admin = {"authorization": f"Bearer {ADMIN_KEY}"}

        listed = httpx.get(second + "/v1/reviews", headers=admin).json()["data"]
        assert [item["id"] for item in listed] == [review_id]
        decided = httpx.post(second + f"/v1/reviews/{review_id}/approve", headers=admin, json={})
        assert decided.json()["status"] == "approved"

        again = httpx.post(first + f"/v1/reviews/{review_id}/reject", headers=admin, json={"reason": "no"})
        assert again.status_code == 409
        answer = httpx.get(first + f"/v1/requests/{reply.model_extra['guard']['request_id']}",
                           headers={"authorization": f"Bearer {APP_KEY}"}).json()["answer"]
        assert answer == "A draft only a person may release."
    finally:
        for server in servers:
            server.stop()
    for server in servers:
        assert "Application shutdown complete" in server.log_path.read_text()  # the lifespan flushed the records
