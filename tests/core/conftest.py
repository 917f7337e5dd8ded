from __future__ import annotations

import pytest

from guard import Guard, GuardConfig
from tests.support.fake_upstream import FakeUpstream

PRIMARY, BACKUP = "openai/primary-model", "openai/backup-model"


@pytest.fixture
def upstream(monkeypatch):
    """A scripted OpenAI-compatible server; the openai provider finds it through the usual env variables."""
    fake = FakeUpstream()
    monkeypatch.setenv("OPENAI_API_BASE", fake.base_url)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    yield fake
    fake.close()


def make_config(**sections) -> GuardConfig:
    base = {"models": {"default": PRIMARY, "fallbacks": [BACKUP], "max_attempts": 3, "backoff_initial_s": 0.01,
                       "backoff_max_s": 0.02, "timeout_s": 10}}
    base.update(sections)
    return GuardConfig(**base)


@pytest.fixture
def guard(upstream) -> Guard:
    return Guard(make_config())
