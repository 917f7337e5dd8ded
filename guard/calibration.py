"""A support calibration fitted on the product's own labels (``guard calibrate``), and the one in force.

The shipped operating points and confidence map were chosen on public data; a product's answers, sources
and reviewers differ. A calibration replaces, for one verifier, the two things that turn its scores into
decisions: the Platt map of the answer-level support signal (``guard.confidence``) and the threshold per
risk level below which a claim is listed as unsupported (``guard.verify.thresholds``' rules); for the
``combined`` verifier, given enough labels, also the weights of its blend.

Where it comes from, first match wins:

1. the calibration activated in the store (``guard calibrate --activate``), re-read every few seconds off
   the event loop, so every worker of a deployment picks it up without a restart;
2. ``support.calibration: PATH`` (a file ``guard calibrate --out`` wrote);
3. none: the verifier's shipped parameters.

``support.threshold``, when set, still pins the threshold. A calibration fitted for another verifier is
never applied (a file's is refused at start-up; the store's is ignored and logged).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from guard.errors import ConfigError, StoreUnavailable

if TYPE_CHECKING:
    from guard.store import Store

# How often a worker looks for a newly activated calibration: one indexed single-row query.
REFRESH_EVERY_S = 5.0


class PlattMap(BaseModel):
    """log-odds of faithful = intercept + slope * logit(support signal); slope >= 0."""

    intercept: float
    slope: float = Field(ge=0)


class SupportCalibration(BaseModel):
    """What ``guard calibrate`` writes: the fitted numbers, what they were fitted on and how they held up."""

    id: str = ""  # content hash, set by ``with_id``; records carry it
    verifier: str
    created_at: datetime
    support: PlattMap
    thresholds: dict[str, float]  # risk level -> claim score below which it is unsupported
    # The combined verifier's blend weights refitted on the labels (intercept, offline, support_model); None: shipped.
    blend: dict[str, float] | None = None
    fitted_on: dict[str, Any] = Field(default_factory=dict)
    cross_validated: dict[str, Any] = Field(default_factory=dict)

    def with_id(self) -> "SupportCalibration":
        body = self.model_dump(mode="json", exclude={"id"})
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
        return self.model_copy(update={"id": f"cal_{digest}"})

    def threshold(self, risk: str) -> float | None:
        return self.thresholds.get(risk)


def load_calibration(path: str | Path) -> SupportCalibration:
    """The calibration in a file ``guard calibrate --out`` wrote; ``ConfigError`` says what is wrong with it."""
    try:
        return SupportCalibration.model_validate_json(Path(path).read_text()).with_id()
    except OSError as exc:
        raise ConfigError(f"support.calibration: cannot read {path}: {exc.strerror or exc}") from None
    except ValidationError as exc:
        raise ConfigError(f"support.calibration: {path} is not a calibration guard calibrate wrote: {exc}") from None


def configured_calibration(path: str | None, verifier: str) -> SupportCalibration | None:
    """``support.calibration``, checked against the configured verifier."""
    if path is None:
        return None
    calibration = load_calibration(path)
    if calibration.verifier != verifier:
        raise ConfigError(f"support.calibration: {path} was fitted for the {calibration.verifier!r} verifier, but "
                          f"support.verifier is {verifier!r}; run guard calibrate again with this verifier")
    return calibration


class ActiveCalibration:
    """The calibration in force for one Guard: the store's active one, else the configured file's.

    ``current()`` never waits on the store: when the last look is older than ``every_s`` it starts one
    re-read on a thread and answers with what it has. A store that cannot be read keeps the last answer.
    """

    def __init__(self, store: "Store", configured: SupportCalibration | None, verifier: str,
                 every_s: float = REFRESH_EVERY_S, log: Any = None):
        self.store, self.configured, self.verifier, self.every_s = store, configured, verifier, every_s
        self.log = log  # a structlog logger: says once when an activated calibration does not apply
        self._ignored: str | None = None
        self._value = configured
        self._looked = float("-inf")
        self._lock = threading.Lock()
        self._reading = False

    def current(self) -> SupportCalibration | None:
        with self._lock:
            due = not self._reading and time.monotonic() - self._looked >= self.every_s
            if due:
                self._reading = True
        if due:
            threading.Thread(target=self.refresh, name="guard-calibration", daemon=True).start()
        return self._value

    def refresh(self) -> SupportCalibration | None:
        """Read the store's active calibration now (blocking: call it off the event loop)."""
        try:
            body = self.store.active_calibration()
        except StoreUnavailable:
            return self._value
        finally:
            with self._lock:
                self._looked, self._reading = time.monotonic(), False
        self._value = self._applicable(body)
        return self._value

    def _applicable(self, body: dict[str, Any] | None) -> SupportCalibration | None:
        if body is None:
            return self.configured
        try:
            calibration = SupportCalibration.model_validate(body)
        except ValidationError as exc:
            if self.log is not None:
                self.log.error("calibration_unreadable", error=str(exc))
            return self.configured
        if calibration.verifier != self.verifier:
            if self.log is not None and self._ignored != calibration.id:
                self.log.warning("calibration_not_applied", calibration_id=calibration.id,
                                 fitted_for=calibration.verifier, verifier=self.verifier)
            self._ignored = calibration.id
            return self.configured
        return calibration
