"""Token confidence layer: how sure the model was of the words it wrote, from its own log-probabilities.

The only signal an answer always can have: no sources, no samples needed. Guard asks the
provider for log-probabilities when it returns them (``request_logprobs``) and the client did
not ask itself; then the client's response carries none (``keep_logprobs``). The signal
combines the mean and the minimum probability over content tokens (words and numbers, not
whitespace or punctuation): a fluent answer with one guessed number has a high mean and a
low minimum, and the minimum is where hallucinated specifics show.
"""

from __future__ import annotations

import math
from typing import Any

from guard.layers.base import Skip
from guard.state import RequestState

# log-odds weight of the weakest token against the mean: the mean alone misses one invented figure.
MIN_WEIGHT = 0.3
NO_LOGPROBS = "the provider returned no log-probabilities"


def request_logprobs(state: RequestState, supported: bool) -> dict[str, Any]:
    """Parameters to lay over the model call's: ``logprobs=True`` when the provider has them and the client did not
    ask for them itself (a client's ``logprobs: false`` only means it does not want them back).

    Streamed or not, the same is asked, so the same answer is judged on the same signals.
    """
    if state.params.get("logprobs"):
        return {}
    if not supported:
        state.token_logprobs_reason = f"{state.model} does not return log-probabilities"
        return {}
    state.logprobs_requested = True
    return {"logprobs": True}


def keep_logprobs(state: RequestState, choices: list[dict[str, Any]], samples: int | None = None) -> list[dict[str, Any]]:
    """Keep the token log-probabilities of the first ``samples`` choices (all by default), in ``state.samples``
    order; strip them from the choices if only guard wanted them."""
    for choice in choices[:samples]:
        content = (choice.get("logprobs") or {}).get("content")
        state.sample_logprobs.append(_pairs(content) if content else None)
    if state.token_logprobs is None and state.token_logprobs_reason is None:
        state.token_logprobs_reason = NO_LOGPROBS
    if not state.logprobs_requested:
        return choices
    return [{k: v for k, v in c.items() if k != "logprobs"} for c in choices]


def read_stream_logprobs(state: RequestState, logprobs: Any) -> None:
    """Add one streamed chunk's token log-probabilities (a dict or the SDK's object) to the answer's."""
    if logprobs is None:
        return
    if hasattr(logprobs, "model_dump"):
        logprobs = logprobs.model_dump()
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if content:
        state.token_logprobs = (state.token_logprobs or []) + _pairs(content)


def end_stream_logprobs(state: RequestState) -> None:
    """After the last chunk: say why there are none, when there are none."""
    if not state.token_logprobs and state.token_logprobs_reason is None:
        state.token_logprobs, state.token_logprobs_reason = None, NO_LOGPROBS


def _pairs(content: list[Any]) -> list[tuple[str, float]]:
    return [(str(t.get("token", "")), float(t["logprob"])) for t in content
            if isinstance(t, dict) and t.get("logprob") is not None]


def token_confidence(logprobs: list[tuple[str, float]]) -> float | None:
    """exp of a blend of the mean and the minimum log-probability of content tokens; None without content tokens."""
    content = [lp for token, lp in logprobs if any(ch.isalnum() for ch in token) and math.isfinite(lp)]
    if not content:
        return None
    mean = sum(content) / len(content)
    return math.exp((1 - MIN_WEIGHT) * mean + MIN_WEIGHT * min(content))


class TokenConfidenceLayer:
    name = "token_confidence"
    phase = "after_model"

    def __init__(self, config: Any = None):
        self.config = config

    async def run(self, state: RequestState) -> None:
        if state.token_logprobs is None:
            raise Skip(state.token_logprobs_reason or NO_LOGPROBS)
        value = token_confidence(state.token_logprobs)
        if value is None:
            raise Skip("the answer has no content tokens")
        state.signals["token_confidence"] = value
