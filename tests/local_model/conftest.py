"""The embedded SmolLM2 model, registered once per session; the model itself loads once per process."""

from __future__ import annotations

import pytest

from guard.providers import ensure_provider

MODEL = "local/smollm2"


@pytest.fixture(scope="session")
def local_model() -> str:
    ensure_provider(MODEL)
    return MODEL
