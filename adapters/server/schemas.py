"""What the proxy accepts: the OpenAI request fields guard reads or forwards typed, the rest passed on as sent.

Validation is strict (no "1" for 1) so a wrong type is the client's 400, never
an upstream surprise. The request dict itself is forwarded, not these models:
fields are not re-serialised or renamed on the way.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guard.adapters.server.errors import ApiError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Message(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class GuardOverrides(_Strict):
    """Per-request settings in the body's ``guard`` field; each must be listed in ``server.allow_overrides``."""

    risk: Literal["low", "medium", "high", "critical"] | None = None
    samples: int | None = Field(None, ge=1, le=16, description="1 turns self-consistency off.")
    knowledge_base: str | None = Field(None, max_length=200, description="A name from server.knowledge_bases.")
    review_policy: Literal["flag", "block"] | None = None


class ChatRequest(_Open):
    model: str | None = Field(None, max_length=300)
    messages: list[Message] = Field(min_length=1)
    stream: bool | None = None
    stream_options: dict[str, Any] | None = None
    n: int | None = Field(None, ge=1)  # the most is models.max_n, checked by the Guard
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    seed: int | None = None
    stop: str | list[str] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    logit_bias: dict[str, float] | None = None
    user: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    guard: GuardOverrides | None = None


# OpenAI parameters litellm forwards as they are; any other field reaches the upstream through `extra_body`,
# so a client can never set litellm's own options (api_base, api_key, mock_response, ...).
# (`user` too: litellm drops it on the way.)
FORWARDED = frozenset(set(ChatRequest.model_fields) - {"model", "messages", "stream", "guard", "user"}) | {
    "reasoning_effort", "modalities", "audio", "prediction", "service_tier", "web_search_options", "functions",
    "function_call", "verbosity"}


class FeedbackBody(_Strict):
    request_id: str = Field(min_length=1, max_length=200)
    rating: Literal[-1, 1] | None = None
    final_text: str | None = Field(None, max_length=200_000)
    comment: str | None = Field(None, max_length=10_000)
    user: str | None = Field(None, max_length=200)
    resolved: bool | None = None


class DecisionBody(_Strict):
    """The reviewer is not a field: it is the admin key's name (``server.keys``)."""

    final_text: str | None = Field(None, max_length=200_000)
    reason: str | None = Field(None, max_length=10_000)


def parse_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 saying why not."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object", code="invalid_json")
    return data


def validate(model: type[BaseModel], data: Any) -> Any:
    """``model`` from ``data``, or a 400 naming the first offending field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        raise ApiError(400, f"{param or 'body'}: {first['msg']}", code="invalid_value", param=param) from None


class SourceBody(_Strict):
    id: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=1_000)
    text: str = Field(max_length=200_000)


class CheckBody(_Strict):
    """``POST /v1/check``: an answer made elsewhere, and the sources (or a knowledge base) to check it against."""

    response: str = Field(min_length=1, max_length=200_000)
    sources: list[str | SourceBody] | None = Field(None, max_length=100)
    knowledge_base: str | None = Field(None, max_length=200, description="A name from server.knowledge_bases.")
    question: str | None = Field(None, max_length=200_000)
