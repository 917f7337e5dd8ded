"""Verify-area fixtures: the offline verifier loads MiniLM once per session."""

from __future__ import annotations

import pytest

from guard.config import GuardConfig, load_config
from guard.state import RequestState, Source
from guard.verify.base import SupportScores, SupportVerifier
from guard.verify.offline import OfflineVerifier
from guard.verify.text import content_stems


@pytest.fixture(scope="session")
def offline_verifier() -> OfflineVerifier:
    verifier = OfflineVerifier()
    verifier.probabilities([("warm up", ["warm up"])])
    return verifier


class WordOverlapVerifier(SupportVerifier):
    """A transparent rule: supported iff every content word of the claim is in the evidence.

    Used where a test specifies arithmetic on verdicts (ALCE precision) and needs verdicts it can predict.
    """

    name = "word_overlap"

    async def _score(self, pairs: list[tuple[str, list[str]]]) -> SupportScores:
        return SupportScores([float(set(content_stems(c)) <= set(content_stems(" ".join(e)))) for c, e in pairs])


@pytest.fixture
def word_overlap() -> WordOverlapVerifier:
    return WordOverlapVerifier()


@pytest.fixture
def config() -> GuardConfig:
    return load_config(telemetry={"enabled": False})


@pytest.fixture
def make_state(config):
    def make(answer: str, sources: list[str] | None = None, samples: list[str] | None = None) -> RequestState:
        state = RequestState(request_id="gr_test", config=config, model="none", messages=[])
        state.sources = [Source(id=f"doc{i}", text=t, title=f"Doc {i}") for i, t in enumerate(sources or [], 1)]
        state.answer = answer
        state.samples = samples or [answer]
        return state

    return make
