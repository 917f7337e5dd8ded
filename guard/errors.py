"""Exceptions a guard user can catch; each message names what failed and why."""

from __future__ import annotations


class GuardError(Exception):
    """Base class of every error guard raises on purpose."""


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


class KnowledgeBaseError(GuardError):
    """The knowledge base cannot do what was asked (unreadable file, model mismatch, ...); nothing was changed."""
