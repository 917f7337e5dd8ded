"""guard: quality and guardrail middleware for LLM applications.

    from guard import Client
    client = Client()                      # reads ./guard.yaml and GUARD_* env when present
    reply = client.chat.completions.create(model="local/smollm2", messages=[...])
    reply.choices[0].message.content, reply.guard.tier, reply.guard.confidence
    client.feedback(reply.guard.request_id, rating=+1, final_text="what was really sent")

The names below load on first use, so ``import guard`` (and ``guard.adapters``
commands, which set up their own process first) stay cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "AsyncClient": "guard.client",
    "Client": "guard.client",
    "GuardConfig": "guard.config",
    "RiskLevel": "guard.config",
    "load_config": "guard.config",
    "ConfigError": "guard.errors",
    "GuardError": "guard.errors",
    "InvalidRequest": "guard.errors",
    "ModelCallError": "guard.errors",
    "StoreUnavailable": "guard.errors",
    "UnknownRequest": "guard.errors",
    "ReviewNotFound": "guard.errors",
    "AlreadyDecided": "guard.errors",
    "GuardMetadata": "guard.metadata",
    "Guard": "guard.pipeline",
    "GuardedChatCompletion": "guard.responses",
    "GuardedChatCompletionChunk": "guard.responses",
    "Source": "guard.state",
    "FeedbackRecord": "guard.store.models",
    "RequestRecord": "guard.store.models",
    "ReviewItem": "guard.store.models",
    "VerdictLog": "guard.verdicts",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'guard' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from guard.client import AsyncClient, Client
    from guard.config import GuardConfig, RiskLevel, load_config
    from guard.errors import (AlreadyDecided, ConfigError, GuardError, InvalidRequest, ModelCallError,
                              ReviewNotFound, StoreUnavailable, UnknownRequest)
    from guard.metadata import GuardMetadata
    from guard.pipeline import Guard
    from guard.responses import GuardedChatCompletion, GuardedChatCompletionChunk
    from guard.state import Source
    from guard.store.models import FeedbackRecord, RequestRecord, ReviewItem
    from guard.verdicts import VerdictLog
