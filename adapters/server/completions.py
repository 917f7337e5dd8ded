"""``POST /v1/chat/completions`` and ``POST /v1/embeddings``: OpenAI's API with guard in the middle.

The response is the guarded completion (a valid OpenAI ``ChatCompletion`` plus
``guard``) and the ``x-guard-*`` headers. Streams are server-sent events whose
last chunk before ``data: [DONE]`` carries the verdict. Errors that happen
before the first chunk get their own status; later ones arrive as an
``error`` event, as OpenAI sends them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import litellm
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from guard.adapters.server.auth import require_app
from guard.adapters.server.body import read_body
from guard.adapters.server.errors import ApiError, api_error
from guard.adapters.server.overrides import Variants
from guard.adapters.server.schemas import FORWARDED, ChatRequest, parse_json, validate
from guard.config import GuardConfig, key_digest
from guard.errors import ModelCallError
from guard.metadata import GuardMetadata
from guard.review import caller
from guard.responses import GuardedChatCompletionChunk

_NOT_FORWARDED = frozenset({"model", "messages", "stream", "guard"})
_DONE = b"data: [DONE]\n\n"
_EMBEDDING_PARAMS = frozenset({"encoding_format", "dimensions", "user"})


def served_models(config: GuardConfig) -> list[str]:
    """The models clients may name: the default, its fallbacks and ``server.models``, in that order."""
    names = [config.models.default, *config.models.fallbacks, *config.server.models]
    return list(dict.fromkeys(names))


class ChatCompletions:
    def __init__(self, variants: Variants, config: GuardConfig):
        self.variants, self.config = variants, config
        self.models = served_models(config)
        # A model may also be named without its provider prefix ("gpt-4o" for "openai/gpt-4o") when unambiguous.
        short: dict[str, list[str]] = {}
        for name in self.models:
            short.setdefault(name.partition("/")[2] or name, []).append(name)
        self._aliases = {alias: names[0] for alias, names in short.items() if len(names) == 1}

    def resolve_model(self, name: str | None) -> str:
        if name is None:
            return self.config.models.default
        if name in self.models:
            return name
        if name in self._aliases:
            return self._aliases[name]
        raise ApiError(400, f"model {name!r} is not served here; served models: {', '.join(self.models)}",
                       code="model_not_found", param="model")

    async def create(self, request: Request) -> Response:
        require_app(request, self.config)
        data = parse_json(await read_body(request, self.config.server.max_body_bytes))
        body: ChatRequest = validate(ChatRequest, data)
        model = self.resolve_model(body.model)
        guard = self.variants.for_request(body.guard)
        params = upstream_params(data)
        # A retry of the same conversation by the same key joins its review item; the stream's task inherits this.
        caller.set(key_digest(request.headers.get("authorization") or ""))
        echo = body.model or model  # `model` says the name the client sent, as the SDKs and cost tables expect
        if body.stream:
            return await _stream(guard.astream(data["messages"], model, **params), guard.log, echo)
        reply = await guard.acomplete(data["messages"], model, **params)
        reply.model = echo
        return Response(reply.model_dump_json(), media_type="application/json", headers=guard_headers(reply.guard))

    async def embeddings(self, request: Request) -> Response:
        require_app(request, self.config)
        data = parse_json(await read_body(request, self.config.server.max_body_bytes))
        model, text = data.get("model"), data.get("input")
        if not isinstance(model, str) or not model.strip():
            raise ApiError(400, "model: a model name is required", code="invalid_value", param="model")
        if not _is_embedding_input(text):
            raise ApiError(400, "input: a string, a list of strings or a list of token lists is required",
                           code="invalid_value", param="input")
        rest = {k: v for k, v in data.items() if k in _EMBEDDING_PARAMS}
        extra = {k: v for k, v in data.items() if k not in _EMBEDDING_PARAMS and k not in ("model", "input")}
        if extra:
            rest["extra_body"] = extra
        try:
            response = await litellm.aembedding(model=model, input=text, drop_params=True, num_retries=0,
                                                timeout=self.config.models.timeout_s, **rest)
        except Exception as exc:  # noqa: BLE001 - mapped to the upstream's meaning
            raise api_error(ModelCallError(model, exc)) from None
        return Response(orjson.dumps(response.model_dump(exclude_none=True)), media_type="application/json")


def upstream_params(data: dict[str, Any]) -> dict[str, Any]:
    """OpenAI parameters as keyword arguments; any other field goes to the upstream unchanged in ``extra_body``."""
    params: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if key in _NOT_FORWARDED:
            continue
        (params if key in FORWARDED else extra)[key] = value
    if extra:
        params["extra_body"] = extra
    return params


def guard_headers(meta: GuardMetadata) -> dict[str, str]:
    headers = {"x-guard-request-id": meta.request_id, "x-guard-tier": meta.tier}
    if meta.confidence is not None:
        headers["x-guard-confidence"] = f"{meta.confidence:.4f}"
    return headers


async def _stream(chunks: AsyncIterator[GuardedChatCompletionChunk], log: Any, model: str) -> Response:
    """Read the first chunk before answering, so a failure to start is a proper HTTP error."""
    first = await chunks.__anext__()
    headers = {"x-guard-request-id": "gr_" + first.id.removeprefix("chatcmpl-"), "cache-control": "no-cache"}
    return StreamingResponse(_events(first, chunks, log, model), media_type="text/event-stream", headers=headers)


async def _events(first: GuardedChatCompletionChunk, rest: AsyncIterator[GuardedChatCompletionChunk],
                  log: Any, model: str) -> AsyncIterator[bytes]:
    yield _event(first, model)
    try:
        async for chunk in rest:
            yield _event(chunk, model)
    except Exception as exc:  # noqa: BLE001 - the status line is sent: the error travels as an event
        error = api_error(exc, log)
        yield b"data: " + orjson.dumps({"error": {"message": error.message, "type": "server_error",
                                                  "param": error.param, "code": error.code}}) + b"\n\n"
        return
    yield _DONE


def _event(chunk: GuardedChatCompletionChunk, model: str) -> bytes:
    chunk.model = model
    payload = chunk.model_dump_json(exclude={"guard"} if chunk.guard is None else None)
    return b"data: " + payload.encode() + b"\n\n"


def _is_embedding_input(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value)
    if not isinstance(value, list) or not value:
        return False
    return all(isinstance(v, str) for v in value) or all(
        isinstance(v, int) and not isinstance(v, bool) for v in value) or all(
        isinstance(v, list) and v and all(isinstance(t, int) and not isinstance(t, bool) for t in v) for v in value)
