"""The one place guard calls models: litellm underneath, retries, a timeout, fallbacks.

Transient failures (429, 5xx, timeouts, dropped connections) are retried with
exponential backoff and jitter; a model that still fails transiently hands over
to the next in ``models.fallbacks``. A refusal (400, 401, 404, content) fails at
once, and one deadline (``models.deadline_s``) bounds the call, retries and
fallbacks included. Whatever survives all of that raises ``ModelCallError``
naming the model and the cause: a failed call never becomes an empty answer.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

import litellm
import openai

from guard.config import ModelsConfig
from guard.errors import ConfigError, ModelCallError
from guard.openai_direct import choice_of, direct_upstream, token_cost
from guard.providers import ensure_provider, plugin

# Passed on every call rather than set on the litellm module: a library never changes its host's settings.
# drop_params: a provider without e.g. `seed` ignores it instead of failing.
_CALL_OPTIONS: dict[str, Any] = {"drop_params": True, "num_retries": 0}
# The bearer token sent to an endpoint configured without a key (vLLM's and Ollama's servers ignore it): never the
# process-wide OPENAI_API_KEY, which belongs to the hosted provider.
_NO_KEY = "none"

T = TypeVar("T")

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    openai.APIConnectionError,  # timeouts too; litellm's and the direct path's connection and timeout errors
    litellm.RateLimitError,
    litellm.InternalServerError,
    litellm.ServiceUnavailableError,
    asyncio.TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying on the same model."""
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status in (408, 409, 429) or status >= 500)


@dataclass
class Completion:
    """What a model call produced, in the terms guard needs."""

    model: str
    choices: list[dict[str, Any]]  # OpenAI choice dicts: message, finish_reason
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    ms: float = 0.0
    raw: Any = field(default=None, repr=False)

    @property
    def texts(self) -> list[str]:
        return [c["message"].get("content") or "" for c in self.choices]


def cost_of(response: Any, model: str) -> float | None:
    """Price of a response, or None when litellm does not know the model's price."""
    try:
        return float(litellm.completion_cost(completion_response=response, model=model))
    except Exception:
        return None


class ModelClient:
    """Calls models with the retry, timeout and fallback policy of ``ModelsConfig``."""

    def __init__(self, config: ModelsConfig):
        self.config = config

    def _chain(self, model: str | None) -> list[str]:
        primary = model or self.config.default
        return [primary] + [m for m in self.config.fallbacks if m != primary]

    async def _with_policy(self, model: str | None, call: Callable[[str], Awaitable[T]]) -> tuple[str, T]:
        """``call`` on the model, then on each fallback while failures are transient, all within ``deadline_s``.

        A request the provider refuses (400, 401, 404, a content policy, an empty answer) would fail the same
        way on a fallback, or be answered by a model the app did not choose: it fails at once.
        """
        deadline = None if self.config.deadline_s is None else time.monotonic() + self.config.deadline_s
        attempts: list[tuple[str, str]] = []
        last: BaseException | None = None
        for name in self._chain(model):
            ensure_provider(name)
            try:
                return name, await self._retrying(name, call, deadline)
            except Exception as exc:  # noqa: BLE001 - reported in the ModelCallError
                last = exc
                attempts.append((name, f"{type(exc).__name__}: {_short(exc)}"))
                if not is_transient(exc) or _past(deadline):
                    break
        assert last is not None
        raise ModelCallError(self._chain(model)[0], last, attempts)

    async def _retrying(self, name: str, call: Callable[[str], Awaitable[T]], deadline: float | None) -> T:
        """``call(name)``, retried after transient failures up to ``max_attempts`` in all; the last failure raises.

        The wait before attempt k+1 is uniform in [0, min(backoff_max_s, backoff_initial_s * 2**(k-1))]
        (exponential backoff, full jitter). A plain loop: tenacity's machinery cost ~60 µs on every call.
        Each attempt and each wait ends by ``deadline`` (a monotonic time): past it, ``TimeoutError``.
        """
        config = self.config
        attempt = 1
        while True:
            try:
                if deadline is None:
                    return await call(name)
                return await asyncio.wait_for(call(name), timeout=max(0.0, deadline - time.monotonic()))
            except Exception as exc:
                if attempt >= config.max_attempts or not is_transient(exc) or _past(deadline):
                    raise
            cap = min(config.backoff_max_s, config.backoff_initial_s * 2 ** (attempt - 1))
            wait = random.uniform(0, cap)
            if deadline is not None and time.monotonic() + wait >= deadline:
                raise asyncio.TimeoutError(f"the call's deadline ({config.deadline_s} s) ends before a next attempt")
            await asyncio.sleep(wait)
            attempt += 1

    async def complete(self, messages: list[dict[str, Any]], model: str | None = None, n: int = 1, **params: Any) -> Completion:
        """One call, or ``n`` samples: through the provider's ``n`` where it has one, else concurrently."""
        params.pop("stream", None)
        params.pop("stream_options", None)
        started = time.perf_counter()

        async def call(name: str) -> Completion:
            if n > 1 and not _supports_n(name):
                return _merge(await asyncio.gather(*(self._one(name, messages, 1, params) for _ in range(n))))
            return await self._one(name, messages, n, params)

        name, result = await self._with_policy(model, call)
        result.model = name
        result.ms = (time.perf_counter() - started) * 1000
        return result

    async def _one(self, name: str, messages: list[dict[str, Any]], n: int, params: dict[str, Any]) -> Completion:
        kwargs = dict(params)
        if n > 1:
            kwargs["n"] = n
        endpoint, timeout = endpoint_options(self.config, name), timeout_for(self.config, name)
        upstream = direct_upstream(name, kwargs, **endpoint)
        if upstream is not None:  # its own timeout bounds the whole call
            data = await upstream.complete(name, messages, kwargs, timeout)
            choices = [choice_of(c) for c in data.get("choices") or []]
            usage = data.get("usage") or {}
            prompt_tokens, completion_tokens = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
            cost, raw = token_cost(name, prompt_tokens, completion_tokens), data
        else:
            raw = await asyncio.wait_for(
                litellm.acompletion(model=name, messages=messages, timeout=timeout,
                                    **{**kwargs, **endpoint, **_CALL_OPTIONS}),
                timeout=timeout,
            )
            choices = [
                {"message": c.message.model_dump(exclude_none=True), "finish_reason": c.finish_reason or "stop",
                 **_logprobs_of(c)}  # VERIFIER: kept for the token_confidence layer; the pipeline strips what it asked for
                for c in (raw.choices or [])
            ]
            usage = getattr(raw, "usage", None)
            prompt_tokens = getattr(usage, "prompt_tokens", 0) or 0
            completion_tokens = getattr(usage, "completion_tokens", 0) or 0
            cost = cost_of(raw, name)
        if not any((c["message"].get("content") or "").strip() or c["message"].get("tool_calls") for c in choices):
            raise EmptyCompletion(f"{name} returned no content")
        return Completion(model=name, choices=choices, prompt_tokens=prompt_tokens,
                          completion_tokens=completion_tokens, cost_usd=cost, raw=raw)

    async def stream(self, messages: list[dict[str, Any]], model: str | None = None, **params: Any) -> tuple[str, "ModelStream"]:
        """Open a stream; retries and fallbacks cover opening it up to its first chunk.

        Usage is always requested so cost never goes missing on streams. The
        caller ``aclose``s the returned stream when it stops early, which ends
        the upstream request instead of leaving it to run to the end.
        """
        params.pop("stream", None)
        params["stream_options"] = {**(params.get("stream_options") or {}), "include_usage": True}

        async def call(name: str) -> ModelStream:
            endpoint, timeout = endpoint_options(self.config, name), timeout_for(self.config, name)
            upstream = direct_upstream(name, params, **endpoint)
            if upstream is not None:
                opening = upstream.stream(name, messages, params, timeout)
            else:
                opening = litellm.acompletion(model=name, messages=messages, stream=True,
                                              timeout=timeout, **{**params, **endpoint, **_CALL_OPTIONS})
            response = await asyncio.wait_for(opening, timeout=timeout)
            iterator = response.__aiter__()
            try:
                first = await asyncio.wait_for(iterator.__anext__(), timeout=timeout)
            except BaseException:
                await _aclose(response)
                raise
            return ModelStream(first, response, iterator, timeout)

        return await self._with_policy(model, call)


def endpoint_options(config: ModelsConfig, name: str) -> dict[str, str]:
    """litellm's ``api_base`` and ``api_key`` for a model in ``models.endpoints`` (none for any other model).

    The key is read from its environment variable at each call, so it is never part of the configuration,
    a record or a log line; a variable that is not set fails the call naming the variable.
    """
    endpoint = config.endpoints.get(name)
    if endpoint is None:
        return {}
    api_key = _NO_KEY
    if endpoint.api_key_env is not None:
        api_key = os.environ.get(endpoint.api_key_env) or ""
        if not api_key:
            raise ConfigError(f"models.endpoints[{name!r}].api_key_env: the environment variable "
                              f"{endpoint.api_key_env} is not set")
    return {"api_base": endpoint.base_url, "api_key": api_key}


def timeout_for(config: ModelsConfig, name: str) -> float:
    """The per-call timeout of ``name``: its endpoint's ``timeout_s``, else ``models.timeout_s``."""
    endpoint = config.endpoints.get(name)
    return endpoint.timeout_s if endpoint is not None and endpoint.timeout_s else config.timeout_s


class EmptyCompletion(RuntimeError):
    """The model answered with nothing; treated as a failure, never as an answer."""


def supports_logprobs(model: str) -> bool:
    """Whether the provider returns token log-probabilities on request (OpenAI-compatible ones do).

    A plugin (``local/...``) says so itself with a ``returns_logprobs`` attribute.
    """
    try:
        ensure_provider(model)
    except Exception:
        return False
    handler = plugin(model)
    if handler is not None:
        return bool(getattr(handler, "returns_logprobs", False))
    return "logprobs" in _supported_params(model)


def _logprobs_of(choice: Any) -> dict[str, Any]:
    logprobs = getattr(choice, "logprobs", None)
    if logprobs is None:
        return {}
    dumped = logprobs.model_dump(exclude_none=True) if hasattr(logprobs, "model_dump") else logprobs
    return {"logprobs": dumped} if dumped else {}


def _supports_n(model: str) -> bool:
    return "n" in _supported_params(model)


@lru_cache(maxsize=256)
def _supported_params(model: str) -> frozenset[str]:
    """litellm's OpenAI parameters for ``model``, looked up once: it is fixed, and costs ~0.5 ms per request."""
    try:
        return frozenset(litellm.get_supported_openai_params(model=model) or ())
    except Exception:
        return frozenset()


def _merge(parts: list[Completion]) -> Completion:
    costs = [p.cost_usd for p in parts]
    return Completion(
        model=parts[0].model,
        choices=[c for p in parts for c in p.choices],
        prompt_tokens=sum(p.prompt_tokens for p in parts),
        completion_tokens=sum(p.completion_tokens for p in parts),
        cost_usd=None if any(c is None for c in costs) else sum(costs),  # type: ignore[arg-type]
        raw=parts[0].raw,
    )


class ModelStream:
    """The chunks of an opened stream, the first already read; each next one must arrive within the timeout."""

    def __init__(self, first: Any, response: Any, iterator: AsyncIterator[Any], timeout: float):
        self._first, self._response, self._iterator, self._timeout = first, response, iterator, timeout

    async def __aiter__(self) -> AsyncIterator[Any]:
        yield self._first
        while True:
            try:
                chunk = await asyncio.wait_for(self._iterator.__anext__(), timeout=self._timeout)
            except StopAsyncIteration:
                return
            yield chunk

    async def aclose(self) -> None:
        """End the upstream request: its connection is closed, the provider stops generating."""
        await _aclose(self._response)


async def _aclose(response: Any) -> None:
    close = getattr(response, "aclose", None) or getattr(response, "close", None)  # litellm's wrapper | openai's
    if close is not None:
        await close()


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "…"
