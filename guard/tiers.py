"""Confidence tiers and the UX treatment that goes with each (``unverified`` is set by the pipeline for a reply
that only calls tools: it has no confidence to place)."""

from __future__ import annotations

from guard.config import TiersConfig
from guard.metadata import UX, Tier


def tier_for(confidence: float | None, config: TiersConfig) -> Tier:
    """High at or above ``config.high``, medium at or above ``config.medium``; unverified answers are low."""
    if confidence is None:
        return "low"
    if confidence >= config.high:
        return "high"
    if confidence >= config.medium:
        return "medium"
    return "low"


def ux_for(tier: Tier, config: TiersConfig) -> UX:
    return UX(**config.styles[tier].model_dump())
