"""The one place guard calls models: litellm underneath, retries, a timeout, fallbacks.

Transient failures (429, 5xx, timeouts, dropped connections) are retried with
exponential backoff and jitter; a model that still fails hands over to the next
in ``models.fallbacks``. Whatever survives all of that raises ``ModelCallError``
naming the model and the cause: a failed call never becomes an empty answer.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential  # noqa: E402

from guard.config import ModelsConfig  # noqa: E402
from guard.errors import ModelCallError  # noqa: E402
from guard.providers import ensure_provider  # noqa: E402

litellm.suppress_debug_info = True
litellm.drop_params = True  # a provider without e.g. `seed` ignores it instead of failing

T = TypeVar("T")

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    litellm.Timeout,
    litellm.APIConnectionError,
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


def cost_from_tokens(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Price from token counts (streams), or None when the model's price is unknown."""
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
    except Exception:
        return None
    return float(prompt_cost + completion_cost)


class ModelClient:
    """Calls models with the retry, timeout and fallback policy of ``ModelsConfig``."""

    def __init__(self, config: ModelsConfig):
        self.config = config

    def _chain(self, model: str | None) -> list[str]:
        primary = model or self.config.default
        return [primary] + [m for m in self.config.fallbacks if m != primary]

    async def _with_policy(self, model: str | None, call: Callable[[str], Awaitable[T]]) -> tuple[str, T]:
        attempts: list[tuple[str, str]] = []
        last: BaseException | None = None
        for name in self._chain(model):
            ensure_provider(name)
            retrying = AsyncRetrying(
                stop=stop_after_attempt(self.config.max_attempts),
                wait=wait_random_exponential(multiplier=self.config.backoff_initial_s, max=self.config.backoff_max_s),
                retry=retry_if_exception(is_transient),
                reraise=True,
            )
            try:
                async for attempt in retrying:
                    with attempt:
                        return name, await call(name)
            except Exception as exc:  # noqa: BLE001 - every failure moves on to the next model
                last = exc
                attempts.append((name, f"{type(exc).__name__}: {_short(exc)}"))
        assert last is not None
        raise ModelCallError(self._chain(model)[0], last, attempts)

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
        response = await asyncio.wait_for(
            litellm.acompletion(model=name, messages=messages, timeout=self.config.timeout_s, num_retries=0, **kwargs),
            timeout=self.config.timeout_s,
        )
        choices = [
            {"message": c.message.model_dump(exclude_none=True), "finish_reason": c.finish_reason or "stop"}
            for c in (response.choices or [])
        ]
        if not any((c["message"].get("content") or "").strip() or c["message"].get("tool_calls") for c in choices):
            raise EmptyCompletion(f"{name} returned no content")
        usage = getattr(response, "usage", None)
        return Completion(
            model=name,
            choices=choices,
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            cost_usd=cost_of(response, name),
            raw=response,
        )

    async def stream(self, messages: list[dict[str, Any]], model: str | None = None, **params: Any) -> tuple[str, AsyncIterator[Any]]:
        """Open a stream; retries and fallbacks cover opening it up to its first chunk.

        Usage is always requested so cost never goes missing on streams.
        """
        params.pop("stream", None)
        params["stream_options"] = {**(params.get("stream_options") or {}), "include_usage": True}

        async def call(name: str) -> AsyncIterator[Any]:
            response = await asyncio.wait_for(
                litellm.acompletion(model=name, messages=messages, stream=True, timeout=self.config.timeout_s,
                                    num_retries=0, **params),
                timeout=self.config.timeout_s,
            )
            iterator = response.__aiter__()
            first = await asyncio.wait_for(iterator.__anext__(), timeout=self.config.timeout_s)
            return _prepend(first, iterator, self.config.timeout_s)

        return await self._with_policy(model, call)


class EmptyCompletion(RuntimeError):
    """The model answered with nothing; treated as a failure, never as an answer."""


def _supports_n(model: str) -> bool:
    try:
        supported = litellm.get_supported_openai_params(model=model) or []
    except Exception:
        return False
    return "n" in supported


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


async def _prepend(first: Any, rest: AsyncIterator[Any], timeout: float) -> AsyncIterator[Any]:
    yield first
    while True:
        try:
            chunk = await asyncio.wait_for(rest.__anext__(), timeout=timeout)
        except StopAsyncIteration:
            return
        yield chunk


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "…"
