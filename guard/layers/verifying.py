"""What the support, citations and consistency layers share: a verifier, configured or handed in."""

from __future__ import annotations

from guard.config import GuardConfig
from guard.layers.base import Skip
from guard.state import Claim, RequestState
from guard.messages import last_user_text
from guard.verify import SupportVerifier, get_verifier, split_claims, support_threshold


class VerifyingLayer:
    """An after-model layer that asks a support verifier; pass ``verifier`` to use one other than the config's."""

    phase = "after_model"

    def __init__(self, config: GuardConfig, verifier: SupportVerifier | None = None):
        self.config = config
        self._verifier = verifier

    @property
    def verifier(self) -> SupportVerifier:
        """Built on first use, so constructing a Guard loads no model."""
        return self._verifier or get_verifier(self.config.support, self.config.models)

    @property
    def threshold(self) -> float:
        """``support.threshold`` when set, else the verifier's operating point for the product's risk level."""
        return support_threshold(self.config, self.verifier)

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
