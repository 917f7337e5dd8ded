from __future__ import annotations

import pytest

from guard import Guard, GuardConfig

PRIMARY, BACKUP = "openai/primary-model", "openai/backup-model"


def make_config(**sections) -> GuardConfig:
    base = {"models": {"default": PRIMARY, "fallbacks": [BACKUP], "max_attempts": 3, "backoff_initial_s": 0.01,
                       "backoff_max_s": 0.02, "timeout_s": 10}}
    base.update(sections)
    return GuardConfig(**base)


@pytest.fixture
def guard(upstream) -> Guard:
    return Guard(make_config())
