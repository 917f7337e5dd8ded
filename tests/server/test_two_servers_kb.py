"""Two ``guard serve`` processes on one PostgreSQL knowledge base: a document added once grounds both at once."""

from __future__ import annotations

import os
import subprocess
import uuid

import httpx
import openai

from tests.server.conftest import ADMIN_KEY, APP_KEY, MODEL
from tests.support.fake_upstream import Reply
from tests.support.serve import GUARD, GuardServe

LOYALTY = "# Loyalty points\n\nEvery order earns one loyalty point per euro spent; 100 points make a 5 euro voucher.\n"
QUESTION = "How do I earn loyalty points?"


def _grounded_in(upstream) -> str:
    """The system message guard sent the model last: where the sources are listed."""
    return next(m["content"] for m in upstream.requests[-1]["messages"] if m["role"] == "system")


def _ask(url: str) -> None:
    openai.OpenAI(base_url=url + "/v1", api_key=APP_KEY, max_retries=0).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": QUESTION}])


def test_a_document_added_while_two_servers_run_grounds_answers_from_both(pgvector_url, upstream, tmp_path):
    config = tmp_path / "guard.yaml"
    config.write_text(
        f"models: {{default: {MODEL}, max_attempts: 1}}\n"
        f"knowledge_base: {{backend: postgres, database: '{pgvector_url}', name: serve-{uuid.uuid4().hex[:8]}}}\n"
        "grounding: {min_score: 0.3}\nsupport: {enabled: false}\ncitations: {enabled: false}\n"
        "consistency: {enabled: false}\nreview: {enabled: false}\n")
    upstream.script["fake-model"] = [Reply(text="You earn one point per euro.")] * 3
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "loyalty.md").write_text(LOYALTY)
    env = {**os.environ, "GUARD_SERVER__API_KEYS": APP_KEY, "GUARD_SERVER__ADMIN_KEYS": ADMIN_KEY}
    servers = [GuardServe(config, env=env) for _ in range(2)]  # both start at once: imports are slow
    try:
        first, second = (server.ready().url for server in servers)
        _ask(first)  # the first server has its knowledge base open, still empty, before the document arrives
        assert "per euro" not in str(upstream.requests[-1]["messages"])

        added = subprocess.run([str(GUARD), "kb", "add", str(docs), "--config", str(config)],
                               capture_output=True, text=True, timeout=120)
        assert added.returncode == 0, added.stderr

        assert httpx.get(second + "/readyz").json()["checks"]["knowledge_base"] == "ok"
        _ask(second)
        assert "one loyalty point per euro" in _grounded_in(upstream)
        _ask(first)
        assert "one loyalty point per euro" in _grounded_in(upstream)
    finally:
        for server in servers:
            server.stop()
