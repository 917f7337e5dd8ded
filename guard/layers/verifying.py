"""What the support, citations and consistency layers share: a verifier, configured or handed in."""

from __future__ import annotations

import threading
import weakref

from guard.config import GuardConfig
from guard.layers.base import Skip
from guard.state import Claim, RequestState
from guard.messages import last_user_text
from guard.verify import SupportVerifier, get_verifier, split_claims, support_threshold
from guard.verify.combined import CombinedVerifier

# Verifiers that score on this machine, so a warm-up may run one pair through them. Any other (the LLM judge,
# a custom one) is only built and its ``load()`` called when it has one: a warm-up never calls a model provider.
LOCAL_VERIFIERS = frozenset({"offline", "support_model", "combined", "cross_encoder"})
WARM_UP_PAIR = ("Refunds are paid within 5 business days.", ["Refunds are paid within five business days."])
_warmed: weakref.WeakSet[SupportVerifier] = weakref.WeakSet()
_warm_lock = threading.Lock()


def warm_verifier(verifier: SupportVerifier) -> None:
    """Load a verifier's models now and, for a local one, score one pair (the first forward pays extra too).

    Once per verifier: the support, citations and consistency layers share one.
    """
    with _warm_lock:
        if verifier in _warmed:
            return
        load = getattr(verifier, "load", None)
        if callable(load):
            load()
        probabilities = getattr(verifier, "probabilities", None)
        if verifier.name in LOCAL_VERIFIERS and callable(probabilities):
            probabilities([WARM_UP_PAIR])
        _warmed.add(verifier)


class VerifyingLayer:
    """An after-model layer that asks a support verifier; pass ``verifier`` to use one other than the config's."""

    name: str  # set by each layer; also the name of its config section
    phase = "after_model"

    def __init__(self, config: GuardConfig, verifier: SupportVerifier | None = None):
        self.config = config
        self._verifier = verifier

    @property
    def verifier(self) -> SupportVerifier:
        """Built on first use, so constructing a Guard loads no model."""
        return self._verifier or get_verifier(self.config.support, self.config.models)

    def verifier_for(self, state: RequestState) -> SupportVerifier:
        """The verifier as the request's calibration has it: with the blend weights it refitted, if it did."""
        blend = state.calibration.blend if state.calibration is not None else None
        verifier = self.verifier
        return verifier.reweighted(blend) if blend and isinstance(verifier, CombinedVerifier) else verifier

    def warm_up(self) -> None:
        """Build the verifier and load its models now (they otherwise load on the first answer checked)."""
        if not getattr(self.config, self.name).enabled:
            raise Skip("disabled")
        warm_verifier(self.verifier)
        _ = self.threshold(None)

    def threshold(self, state: RequestState | None) -> float:
        """``support.threshold`` when set, else the operating point for the product's risk level of the request's
        calibration, else the verifier's."""
        return support_threshold(self.config, self.verifier, state.calibration if state is not None else None)

    @staticmethod
    def question(state: RequestState) -> str | None:
        """The user's question, which verifiers that read it use to make sense of short answers ("Yes, in 2019.")."""
        return last_user_text(state.messages)

    @staticmethod
    def claims_to_check(state: RequestState, enabled: bool) -> list[Claim]:
        """The answer's claims, split once per request; skips when the layer is off or there is nothing to check against."""
        if not enabled:
            raise Skip("disabled")
        if not state.sources:
            raise Skip("no sources")
        if not state.claims:
            state.claims = split_claims(state.answer)
        return state.claims
