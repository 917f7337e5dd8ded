"""Shared test set-up: nothing reaches the network, every run writes to its own temp files."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from tests.support.fake_upstream import FakeUpstream  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_guard_files(tmp_path, monkeypatch):
    """No test reads a developer's guard.yaml or GUARD_* settings, or writes outside its temp dir."""
    for key in list(os.environ):
        if key.startswith("GUARD_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GUARD_TELEMETRY__DATABASE", str(tmp_path / "guard.db"))
    monkeypatch.setenv("GUARD_KNOWLEDGE_BASE__PATH", str(tmp_path / "kb"))
    monkeypatch.setenv("GUARD_REVIEW__AUDIT_FRACTION", "0")  # a random draw: tests that audit set it to 1


@pytest.fixture
def upstream(monkeypatch):
    """A scripted OpenAI-compatible server; the openai provider finds it through the usual env variables."""
    fake = FakeUpstream()
    monkeypatch.setenv("OPENAI_API_BASE", fake.base_url)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def pgvector_url():
    """A private PostgreSQL with pgvector for the session (``tests/support/pgvector_server.py``)."""
    from tests.support.pgvector_server import pgvector_server

    with pgvector_server() as url:
        yield url
