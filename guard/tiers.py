"""Confidence tiers and the UX treatment that goes with each (``unverified`` is set by the pipeline for a reply
that only calls tools: it has no confidence to place)."""

from __future__ import annotations

from guard.config import TiersConfig
from guard.metadata import UX, Tier


def tier_for(confidence: float | None, config: TiersConfig, flagged: bool | None = None) -> Tier:
    """High at or above ``config.high``, medium at or above ``config.medium``; unverified answers are low.

    ``flagged``: whether the support check listed a claim as unsupported (None when it judged nothing). The
    check's threshold is the risk level's operating point, so the tier follows it: a flagged answer is low
    whatever its confidence, and one that passed is at least medium unless its confidence is under
    ``config.unsure`` (other signals against it). A calibrated confidence alone stays near the base rate where
    the verifier is weak, which would put most right answers of a hard domain in low.
    """
    if flagged:
        return "low"
    if confidence is None:
        return "medium" if flagged is False else "low"
    if confidence >= config.high:
        return "high"
    if confidence >= config.medium or (flagged is False and confidence >= config.unsure):
        return "medium"
    return "low"


def ux_for(tier: Tier, config: TiersConfig) -> UX:
    return UX(**config.styles[tier].model_dump())
