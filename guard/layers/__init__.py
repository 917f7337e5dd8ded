"""The layers of defense; each is a small stage with one interface (``guard.layers.base.Layer``)."""

from __future__ import annotations

from guard.config import GuardConfig
from guard.layers.base import Layer, Skip
from guard.layers.citations import CitationsLayer
from guard.layers.consistency import ConsistencyLayer
from guard.layers.grounding import GroundingLayer
from guard.layers.support import SupportLayer
from guard.layers.token_confidence import TokenConfidenceLayer

__all__ = ["Layer", "Skip", "default_layers"]


def default_layers(config: GuardConfig) -> list[Layer]:
    """The standard stack, in run order within each phase."""
    return [GroundingLayer(config), ConsistencyLayer(config), SupportLayer(config), CitationsLayer(config),
            TokenConfidenceLayer(config)]
