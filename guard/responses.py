"""OpenAI response objects with the ``guard`` field added; valid ``ChatCompletion``s and chunks.

On the wire (``wire_json``) a reply carries the fields guard set and no others, as OpenAI's published
shapes want: ``annotations``, ``function_call``, ``system_fingerprint`` and the like are absent, never
``null`` (strict clients refuse a null there). ``content: null`` beside tool calls is set, so it stays.
The ``guard`` object is always whole, its documented nulls included.
"""

from __future__ import annotations

from typing import Any

from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import field_serializer

from guard.metadata import GuardMetadata


# The message fields OpenAI's shape requires: null when the answer has none (content beside tool calls)
_MESSAGE = {"role": "assistant", "content": None, "refusal": None}


class _WholeGuard:
    """``guard`` dumped in full even when the reply around it is dumped without its unset fields."""

    @field_serializer("guard", mode="wrap")
    def _whole_guard(self, meta: GuardMetadata | None, _handler: Any) -> Any:
        return None if meta is None else meta.model_dump(mode="json")

    def wire_json(self) -> str:
        """The body sent to clients: only the fields that were set (as the openai SDK's own ``to_json``)."""
        return self.model_dump_json(exclude_unset=True)  # type: ignore[attr-defined]


class GuardedChatCompletion(_WholeGuard, ChatCompletion):
    guard: GuardMetadata


class GuardedChatCompletionChunk(_WholeGuard, ChatCompletionChunk):
    guard: GuardMetadata | None = None


def build_completion(meta: GuardMetadata, choices: list[dict[str, Any]], created: int) -> GuardedChatCompletion:
    u = meta.usage
    return GuardedChatCompletion.model_validate({
        "id": "chatcmpl-" + meta.request_id[3:],
        "object": "chat.completion",
        "created": created,
        "model": meta.model or "",
        "choices": [{"index": i, **c, "message": {**_MESSAGE, **c["message"]}, "logprobs": _logprobs(c.get("logprobs"))}
                    for i, c in enumerate(choices)],
        "usage": {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                  "total_tokens": u.prompt_tokens + u.completion_tokens},
        "guard": meta,  # the instance as it is: dumping it to validate it again cost ~20 µs per answer
    })


def build_chunk(chunk_id: str, created: int, model: str | None, *, delta: dict[str, Any] | None = None,
                finish_reason: str | None = None, guard: GuardMetadata | None = None,
                usage: dict[str, int] | None = None, logprobs: Any = None) -> GuardedChatCompletionChunk:
    """A content chunk (``delta``, with the upstream's ``logprobs`` when the client asked for them) or, with
    ``guard``, the verdict chunk that has no choices. ``usage`` only when the client asked for it."""
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                                         "logprobs": _logprobs(logprobs)}]
    chunk: dict[str, Any] = {"id": chunk_id, "object": "chat.completion.chunk", "created": created,
                             "model": model or "", "choices": choices}
    if usage is not None:
        chunk["usage"] = usage
    if guard is not None:
        chunk["guard"] = guard
    return GuardedChatCompletionChunk.model_validate(chunk)


def _logprobs(logprobs: Any) -> dict[str, Any] | None:
    """A choice's log-probabilities with both lists OpenAI's shape requires (``null`` where there are none)."""
    if hasattr(logprobs, "model_dump"):
        logprobs = logprobs.model_dump()
    return None if logprobs is None else {"content": None, "refusal": None, **logprobs}
