"""OpenAI-compatible upstreams (``openai/...`` models) called directly, without litellm's translation.

litellm's per-call work (parameter mapping, logging hooks, its cost
calculator) costs ~20 ms a call on this machine, ten times the HTTP call
itself; an upstream that already speaks OpenAI's API needs no translation,
and the proxy promises to forward fields unchanged anyway. So a completion is
one POST of the caller's fields (orjson, one pooled httpx client per event
loop) and its JSON answer as plain dicts; streams use the openai SDK for its
typed chunks. The settings litellm reads are honoured: ``litellm.api_base`` /
``api_key`` when the host set them, else ``OPENAI_BASE_URL`` /
``OPENAI_API_BASE`` and ``OPENAI_API_KEY``. A call carrying litellm-only
options (``api_base=...``, ``mock_response=...``) still goes through litellm.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import weakref
from functools import lru_cache
from typing import Any

import httpx
import litellm
import openai
import orjson
from openai.resources.chat.completions import AsyncCompletions

PREFIX = "openai/"
_SDK_PARAMS = frozenset(inspect.signature(AsyncCompletions.create).parameters) - {"self", "model", "messages"}
_REQUEST_OPTIONS = frozenset({"extra_body", "extra_headers", "extra_query", "timeout"})
_STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
    404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
    429: openai.RateLimitError}
_upstreams: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], Upstream]] = (
    weakref.WeakKeyDictionary())


class Upstream:
    """One OpenAI-compatible server, as seen from one event loop (connection pools belong to a loop)."""

    def __init__(self, base_url: str, api_key: str):
        self.base_url, self._api_key = base_url.rstrip("/"), api_key
        self._http = httpx.AsyncClient(headers={"authorization": f"Bearer {api_key}"},
                                       limits=httpx.Limits(max_connections=None, max_keepalive_connections=256))
        self._sdk: openai.AsyncOpenAI | None = None

    @property
    def sdk(self) -> openai.AsyncOpenAI:
        """The openai SDK on the same server, for streams."""
        if self._sdk is None:
            self._sdk = openai.AsyncOpenAI(base_url=self.base_url, api_key=self._api_key, max_retries=0)
        return self._sdk

    async def complete(self, model: str, messages: list[dict[str, Any]], params: dict[str, Any],
                       timeout: float) -> dict[str, Any]:
        """POST /chat/completions with the fields as given; the JSON answer, or the SDK's exception for its status."""
        body = {"model": bare_name(model), "messages": messages,
                **{k: v for k, v in params.items() if k not in _REQUEST_OPTIONS}, **(params.get("extra_body") or {})}
        response = await self._http.post(self.base_url + "/chat/completions", content=orjson.dumps(body),
                                         headers={"content-type": "application/json", **(params.get("extra_headers") or {})},
                                         params=params.get("extra_query"), timeout=timeout)
        if response.status_code >= 400:
            raise _status_error(response)
        return orjson.loads(response.content)


def direct_upstream(model: str, params: dict[str, Any]) -> Upstream | None:
    """The upstream to call ``model`` on directly, or None when the call needs litellm."""
    if not model.startswith(PREFIX) or not _SDK_PARAMS.issuperset(params):
        return None
    env = os.environ
    api_key = litellm.api_key or litellm.openai_key or env.get("OPENAI_API_KEY")
    if not api_key:
        return None  # litellm raises its own, well-known error
    base_url = litellm.api_base or env.get("OPENAI_BASE_URL") or env.get("OPENAI_API_BASE") or "https://api.openai.com/v1"
    per_loop = _upstreams.setdefault(asyncio.get_running_loop(), {})
    upstream = per_loop.get((base_url, api_key))
    if upstream is None:
        upstream = per_loop[(base_url, api_key)] = Upstream(base_url, api_key)
    return upstream


def bare_name(model: str) -> str:
    return model[len(PREFIX):]


def choice_of(choice: dict[str, Any]) -> dict[str, Any]:
    """An answer's choice as guard keeps it: the message without nulls, its finish reason, logprobs when given."""
    out = {"message": {k: v for k, v in (choice.get("message") or {}).items() if v is not None},
           "finish_reason": choice.get("finish_reason") or "stop"}
    if choice.get("logprobs"):
        out["logprobs"] = choice["logprobs"]
    return out


def token_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Price from litellm's price map (looked up once per model), or None when the model's price is unknown."""
    prices = _prices(model)
    if prices is None:
        return None
    return prompt_tokens * prices[0] + completion_tokens * prices[1]


@lru_cache(maxsize=256)
def _prices(model: str) -> tuple[float, float] | None:
    try:
        info = litellm.get_model_info(model)
    except Exception:
        return None
    prompt, completion = info.get("input_cost_per_token"), info.get("output_cost_per_token")
    return None if prompt is None or completion is None else (float(prompt), float(completion))


def _status_error(response: httpx.Response) -> openai.APIStatusError:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    status = response.status_code
    kind = _STATUS_ERRORS.get(status) or (openai.InternalServerError if status >= 500 else openai.APIStatusError)
    return kind(f"Error code: {status} - {message or response.text[:500]}", response=response, body=error or body)
