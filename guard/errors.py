"""Exceptions a guard user can catch; each message names what failed and why."""

from __future__ import annotations


class GuardError(Exception):
    """Base class of every error guard raises on purpose."""


class InvalidRequest(GuardError, ValueError):
    """The caller's request cannot be served as sent (the proxy's 400); ``param`` names the offending field."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


class ConfigError(GuardError, ValueError):
    """The configuration is invalid; the message lists each problem."""


class ModelCallError(GuardError):
    """A model call failed for good, after retries and every fallback."""

    def __init__(self, model: str, cause: BaseException, attempts: list[tuple[str, str]] | None = None):
        self.model = model
        self.cause = cause
        self.attempts = attempts or []
        tried = "; ".join(f"{m}: {reason}" for m, reason in self.attempts) or f"{type(cause).__name__}: {cause}"
        super().__init__(f"model call to {model!r} failed: {tried}")


class ModelNotInstalled(GuardError):
    """A configured model's files are not installed; the message gives the exact install command."""


class MissingExtra(GuardError, ImportError):
    """An optional part of guard was asked for without the extra that installs it; the message names the command."""


class KnowledgeBaseError(GuardError):
    """The knowledge base cannot do what was asked (unreadable file, model mismatch, ...); nothing was changed."""


class StoreUnavailable(GuardError):
    """The store cannot be reached or written (locked, down, unwritable); a held draft could not be kept safe."""


class UnknownRequest(GuardError, KeyError):
    """No answer with this request id was recorded (or it was recorded with telemetry off and never reviewed)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown request"


class ReviewNotFound(GuardError, KeyError):
    """No review item has this id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "review not found"


class AlreadyDecided(GuardError):
    """Another reviewer (or expiry) decided this item first; ``status`` and ``reviewer`` say who won."""

    def __init__(self, review_id: str, status: str, reviewer: str | None):
        self.review_id, self.status, self.reviewer = review_id, status, reviewer
        by = f" by {reviewer}" if reviewer else ""
        super().__init__(f"review {review_id} was already {status}{by}")
