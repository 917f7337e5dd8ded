"""Fusing the layers' signals into one confidence.

Interim: the mean of the signals that exist. The verification issue replaces
this with a model calibrated on labelled data.
"""

from __future__ import annotations


class ConfidenceModel:
    def __call__(self, signals: dict[str, float]) -> float | None:
        if not signals:
            return None
        return sum(signals.values()) / len(signals)
