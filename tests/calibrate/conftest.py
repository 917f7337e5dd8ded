"""Calibration fixtures: a verifier whose scores a test can predict, and labelled answers it scores."""

from __future__ import annotations

import pytest

from guard.calibrate import LabelledAnswer
from guard.config import GuardConfig
from guard.verify.base import SupportScores, SupportVerifier


class ScriptedVerifier(SupportVerifier):
    """Scores each claim by the letter code it ends with ("... crate hc." -> 0.72, a=0 ... j=9); 0.5 otherwise.

    Named after the configured verifier, so the calibrations it yields apply to that configuration.
    """

    name = "combined"
    thresholds = {"low": 0.6, "medium": 0.6, "high": 0.6, "critical": 0.6}

    async def _score(self, pairs: list[tuple[str, list[str]]]) -> SupportScores:
        return SupportScores([score_of(claim) for claim, _ in pairs])


def score_of(claim: str) -> float:
    word = claim.rstrip(".").split()[-1]
    return int("".join(str(ord(c) - ord("a")) for c in word)) / 100 if len(word) == 2 else 0.5


def answer(score: int, faithful: bool) -> LabelledAnswer:
    """An answer the scripted verifier scores ``score`` / 100 (numbers in the text would count as contradicted)."""
    return LabelledAnswer(response=f"The parcel ships in crate {code(score)}.", sources=("Parcels ship in crates.",),
                          faithful=faithful, question="Is my parcel tracked?")


def code(score: int) -> str:
    return "".join(chr(ord("a") + int(d)) for d in f"{score:02d}")


def labelled(faithful: int = 60, hallucinated: int = 60) -> list[LabelledAnswer]:
    """Faithful answers score 0.35-0.85, hallucinated 0.05-0.40: the shipped 0.6 flags half of the faithful ones."""
    return ([answer(35 + (i * 7) % 51, True) for i in range(faithful)]
            + [answer(5 + (i * 11) % 36, False) for i in range(hallucinated)])


@pytest.fixture
def scripted() -> ScriptedVerifier:
    return ScriptedVerifier()


@pytest.fixture
def config(tmp_path) -> GuardConfig:
    return GuardConfig(telemetry={"database": str(tmp_path / "guard.db")}, models={"default": "openai/primary"})


@pytest.fixture(scope="session")
def offline_verifier():
    from guard.verify.offline import OfflineVerifier

    return OfflineVerifier()
