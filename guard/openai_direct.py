"""OpenAI-compatible upstreams (``openai/...`` models) called directly, without litellm's translation.

litellm's per-call work (parameter mapping, logging hooks, its cost
calculator) costs ~20 ms a call on this machine, ten times the HTTP call
itself; an upstream that already speaks OpenAI's API needs no translation,
and the proxy promises to forward fields unchanged anyway. So a completion is
one POST of the caller's fields (orjson) and its JSON answer as plain dicts;
a stream is the same POST read as server-sent events (``guard.sse``). The
HTTP client is aiohttp, one pooled session per event loop (``guard.per_loop``):
it spends a fifth of httpx's CPU per call (``benchmarks/perf/client_cost.py``),
and httpx alone took more than the proxy's whole per-request budget. Failures
surface as the openai SDK's exceptions (``guard.upstream_errors``), as on the
litellm path. A model's own server (``models.endpoints``) comes first; else the
settings litellm reads are honoured: ``litellm.api_base`` / ``api_key`` when the
host set them, else ``OPENAI_BASE_URL`` / ``OPENAI_API_BASE`` and
``OPENAI_API_KEY``. A call carrying litellm-only options (``api_base=...``,
``mock_response=...``) still goes through litellm.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import urllib.request
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import litellm
import orjson
from openai.resources.chat.completions import AsyncCompletions

from guard.per_loop import loop_local
from guard.sse import UpstreamStream
from guard.upstream_errors import status_error, transport_error

PREFIX = "openai/"
_SDK_PARAMS = frozenset(inspect.signature(AsyncCompletions.create).parameters) - {"self", "model", "messages"}
_REQUEST_OPTIONS = frozenset({"extra_body", "extra_headers", "extra_query", "timeout"})
_JSON = {"content-type": "application/json"}


class Upstream:
    """One OpenAI-compatible server, as seen from one event loop (a connection pool belongs to its loop).

    Like the openai SDK's httpx client it replaces: proxies from ``HTTPS_PROXY`` /
    ``HTTP_PROXY`` / ``NO_PROXY`` (read once), certifi's CA bundle unless
    ``SSL_CERT_FILE`` says otherwise, no limit on connections. Unlike it, no
    cookie jar: one caller's upstream cookies must not ride on another's request.
    """

    def __init__(self, base_url: str, api_key: str):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self._proxy = _env_proxy(self.url)
        ssl = httpx.create_ssl_context() if self.url.startswith("https:") else True
        self._session = aiohttp.ClientSession(
            headers={"authorization": f"Bearer {api_key}"}, cookie_jar=aiohttp.DummyCookieJar(),
            connector=aiohttp.TCPConnector(limit=0, ssl=ssl))

    async def complete(self, model: str, messages: list[dict[str, Any]], params: dict[str, Any],
                       timeout: float) -> dict[str, Any]:
        """POST /chat/completions with the fields as given; the JSON answer, or the SDK's exception for its status.

        ``timeout`` bounds the whole call, connection to last byte.
        """
        try:
            async with await self._post(model, messages, params, _total(timeout)) as response:
                payload = await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise transport_error(exc, self.url) from exc
        return orjson.loads(payload)

    async def stream(self, model: str, messages: list[dict[str, Any]], params: dict[str, Any],
                     timeout: float) -> UpstreamStream:
        """The same POST with ``stream: true``, open once its status is known; ``timeout`` bounds each read."""
        try:
            response = await self._post(model, messages, {**params, "stream": True}, _per_read(timeout))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise transport_error(exc, self.url) from exc
        return UpstreamStream(response, self.url)

    async def aclose(self) -> None:
        """Close the pooled connections (``guard.per_loop`` calls it when the loop shuts down)."""
        await self._session.close()

    async def _post(self, model: str, messages: list[dict[str, Any]], params: dict[str, Any],
                    timeout: aiohttp.ClientTimeout) -> aiohttp.ClientResponse:
        body = {"model": bare_name(model), "messages": messages,
                **{k: v for k, v in params.items() if k not in _REQUEST_OPTIONS}, **(params.get("extra_body") or {})}
        extra_headers = params.get("extra_headers")
        response = await self._session.post(self.url, data=orjson.dumps(body), params=params.get("extra_query"),
                                            headers={**_JSON, **extra_headers} if extra_headers else _JSON,
                                            timeout=timeout, proxy=self._proxy)
        if response.status >= 400:
            async with response:
                raise status_error(response.status, response.headers, await response.read(), self.url)
        return response


def direct_upstream(model: str, params: dict[str, Any], api_base: str | None = None,
                    api_key: str | None = None) -> Upstream | None:
    """The upstream to call ``model`` on directly, or None when the call needs litellm.

    ``api_base`` and ``api_key`` name the model's own server (``models.endpoints``); else litellm's settings
    and the environment do.
    """
    if not model.startswith(PREFIX) or not _SDK_PARAMS.issuperset(params):
        return None
    base_url = api_base
    if base_url is None:
        env = os.environ
        api_key = litellm.api_key or litellm.openai_key or env.get("OPENAI_API_KEY")
        base_url = (litellm.api_base or env.get("OPENAI_BASE_URL") or env.get("OPENAI_API_BASE")
                    or "https://api.openai.com/v1")
    if not api_key:
        return None  # litellm raises its own, well-known error
    return loop_local(("openai_direct", base_url, api_key), lambda: Upstream(base_url, api_key))


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


@lru_cache(maxsize=64)
def _total(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


@lru_cache(maxsize=64)
def _per_read(seconds: float) -> aiohttp.ClientTimeout:
    """A stream may run longer than ``seconds`` in all; connecting and each read may not."""
    return aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)


def _env_proxy(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(parts.scheme) or proxies.get("all")

