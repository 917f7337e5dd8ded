"""``POST /v1/chat/completions``: OpenAI's API with guard in the middle; the model names the proxy serves.

The response is the guarded completion (a valid OpenAI ``ChatCompletion`` plus
``guard``) and the ``x-guard-*`` headers. Streams are server-sent events whose
last chunk before ``data: [DONE]`` carries the verdict. Errors that happen
before the first chunk get their own status; later ones arrive as an
``error`` event, as OpenAI sends them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from guard.adapters.server.auth import require_app
from guard.adapters.server.body import read_body
from guard.adapters.server.errors import ApiError, api_error
from guard.adapters.server.limits import KeyLimits
from guard.adapters.server.overrides import Variants
from guard.adapters.server.schemas import FORWARDED, ChatRequest, GuardOverrides, parse_json, validate
from guard.attribution import attributed_to
from guard.config import ApiKey, GuardConfig, key_digest
from guard.errors import ConfigError
from guard.experiments.assign import with_system_prompt
from guard.experiments.live import LiveExperiments
from guard.metadata import ExperimentArm, GuardMetadata
from guard.pipeline import Guard
from guard.review import caller
from guard.responses import GuardedChatCompletion, GuardedChatCompletionChunk

_NOT_FORWARDED = frozenset({"model", "messages", "stream", "guard"})
_DONE = b"data: [DONE]\n\n"


def served_models(config: GuardConfig) -> list[str]:
    """The models clients may name: the default, its fallbacks and ``server.models``, in that order."""
    names = [config.models.default, *config.models.fallbacks, *config.server.models]
    return list(dict.fromkeys(names))


class ServedNames:
    """The model names a route accepts: each served name, and its name without a provider prefix
    ("gpt-4o" for "openai/gpt-4o") when no other served name shares it; any other name is a 400 listing them."""

    def __init__(self, names: list[str], kind: str, aliases: dict[str, str] | None = None):
        self.names, self.kind = names, kind
        short: dict[str, list[str]] = {}
        for name in names:
            short.setdefault(name.partition("/")[2] or name, []).append(name)
        self._aliases = {alias: found[0] for alias, found in short.items() if len(found) == 1}
        self._aliases.update({alias: name for alias, name in (aliases or {}).items() if name in names})

    def resolve(self, name: str) -> str:
        if name in self.names:
            return name
        if name in self._aliases:
            return self._aliases[name]
        raise ApiError(400, f"model {name!r} is not served here; served {self.kind} models: {', '.join(self.names)}",
                       code="model_not_found", param="model")


class ChatCompletions:
    def __init__(self, variants: Variants, config: GuardConfig, limits: KeyLimits, experiments: LiveExperiments):
        self.variants, self.config, self.limits, self.experiments = variants, config, limits, experiments
        self.models = ServedNames(served_models(config), "chat")

    def resolve_model(self, name: str | None) -> str:
        return self.config.models.default if name is None else self.models.resolve(name)

    async def create(self, request: Request) -> Response:
        key = require_app(request, self.config)
        data = parse_json(await read_body(request, self.config.server.max_body_bytes))
        body: ChatRequest = validate(ChatRequest, data)
        call = await self.prepare(request, key, body.model, body.guard, data["messages"], upstream_params(data),
                                  body.user)
        with attributed_to(key.name if key else None):  # the record and any review item name the key
            if body.stream:
                return await _stream(call.stream(), call.guard.log, call.echo, arm_headers(call.arm))
            reply = await call.complete()
        reply.model = call.echo
        return Response(reply.wire_json(), media_type="application/json", headers=guard_headers(reply.guard))

    async def prepare(self, request: Request, key: ApiKey | None, model_name: str | None,
                      overrides: GuardOverrides | None, messages: list[dict[str, Any]], params: dict[str, Any],
                      user: str | None) -> GuardedCall:
        """Everything a chat completion settles before its model call: the model, the experiment arm and the
        guard serving it, the key's limits. The Responses API route reuses it, so both are one pipeline."""
        model = self.resolve_model(model_name)
        user = request.headers.get("x-guard-user") or user
        choice = await self.experiments.choose(user, os.urandom(8).hex())
        try:
            guard = self.variants.for_request(overrides, choice.variant if choice else None)
        except ConfigError as exc:  # the store's variant does not fit this worker's config (e.g. a knowledge base)
            assert choice is not None  # a request's own overrides fail as a 400, not this way
            self.variants.guard.log.error("experiment_variant_unusable", experiment=choice.arm.name,
                                          variant=choice.arm.variant, error=str(exc))
            choice, guard = None, self.variants.for_request(overrides)  # served unmarked: no record skews the test
        arm = None
        if choice is not None:
            arm = choice.arm
            if choice.system_prompt is not None:
                messages = with_system_prompt(messages, choice.system_prompt)
            if choice.variant.models and "default" in choice.variant.models:
                model = guard.config.models.default  # the variant's model answers, whatever the client named
        await self.limits.admit(key)
        # A retry of the same conversation by the same key joins its review item; the stream's task inherits this.
        caller.set(key_digest(request.headers.get("authorization") or ""))
        # `echo` says the name the client sent, as the SDKs and cost tables expect
        return GuardedCall(guard, messages, model, arm, user, params, echo=model_name or model)


@dataclass
class GuardedCall:
    """A chat completion ready to run: ``complete()`` or ``stream()`` on the guard chosen for it."""

    guard: Guard
    messages: list[dict[str, Any]]
    model: str
    arm: ExperimentArm | None
    user: str | None
    params: dict[str, Any]
    echo: str

    def complete(self) -> Awaitable[GuardedChatCompletion]:
        return self.guard.acomplete(self.messages, self.model, arm=self.arm, user=self.user, **self.params)

    def stream(self) -> AsyncGenerator[GuardedChatCompletionChunk, None]:
        return self.guard.astream(self.messages, self.model, arm=self.arm, user=self.user, **self.params)


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
    headers = {"x-guard-request-id": meta.request_id, "x-guard-tier": meta.tier, **arm_headers(meta.experiment)}
    if meta.confidence is not None:
        headers["x-guard-confidence"] = f"{meta.confidence:.4f}"
    return headers


def arm_headers(arm: ExperimentArm | None) -> dict[str, str]:
    return {} if arm is None else {"x-guard-experiment": arm.name, "x-guard-variant": arm.variant}


async def _stream(chunks: AsyncGenerator[GuardedChatCompletionChunk, None], log: Any, model: str,
                  extra_headers: dict[str, str]) -> Response:
    """Read the first chunk before answering, so a failure to start is a proper HTTP error."""
    first = await chunks.__anext__()
    headers = {"x-guard-request-id": "gr_" + first.id.removeprefix("chatcmpl-"), "cache-control": "no-cache",
               **extra_headers}
    return StreamingResponse(_events(first, chunks, log, model), media_type="text/event-stream", headers=headers)


async def _events(first: GuardedChatCompletionChunk, rest: AsyncGenerator[GuardedChatCompletionChunk, None],
                  log: Any, model: str) -> AsyncIterator[bytes]:
    yield _event(first, model)
    try:
        async with aclosing(rest):  # a client that leaves closes the guarded stream now, not at garbage collection
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
    return b"data: " + chunk.wire_json().encode() + b"\n\n"
