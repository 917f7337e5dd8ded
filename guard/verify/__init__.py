"""Does the evidence support the claim? Claims, the verifier interface, its implementations, calibration."""

from guard.verify.base import SupportScores, SupportVerifier, VerificationError
from guard.verify.claims import is_factual, split_claims
from guard.verify.factory import get_verifier, support_threshold

__all__ = ["SupportScores", "SupportVerifier", "VerificationError", "get_verifier", "is_factual", "split_claims", "support_threshold"]
