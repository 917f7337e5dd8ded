"""OpenAI response objects with the ``guard`` field added; valid ``ChatCompletion``s and chunks."""

from __future__ import annotations

from typing import Any

from openai.types.chat import ChatCompletion, ChatCompletionChunk

from guard.metadata import GuardMetadata


class GuardedChatCompletion(ChatCompletion):
    guard: GuardMetadata


class GuardedChatCompletionChunk(ChatCompletionChunk):
    guard: GuardMetadata | None = None


def build_completion(meta: GuardMetadata, choices: list[dict[str, Any]], created: int) -> GuardedChatCompletion:
    u = meta.usage
    return GuardedChatCompletion.model_validate({
        "id": "chatcmpl-" + meta.request_id[3:],
        "object": "chat.completion",
        "created": created,
        "model": meta.model or "",
        "choices": [{"index": i, "logprobs": None, **c} for i, c in enumerate(choices)],
        "usage": {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                  "total_tokens": u.prompt_tokens + u.completion_tokens},
        "guard": meta,  # the instance as it is: dumping it to validate it again cost ~20 µs per answer
    })


def build_chunk(chunk_id: str, created: int, model: str | None, *, delta: dict[str, Any] | None = None,
                finish_reason: str | None = None, guard: GuardMetadata | None = None,
                usage: dict[str, int] | None = None, logprobs: Any = None) -> GuardedChatCompletionChunk:
    """A content chunk (``delta``, with the upstream's ``logprobs`` when the client asked for them) or, with
    ``guard``, the verdict chunk that has no choices."""
    if hasattr(logprobs, "model_dump"):
        logprobs = logprobs.model_dump()
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                                         "logprobs": logprobs}]
    return GuardedChatCompletionChunk.model_validate({
        "id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model or "",
        "choices": choices, "usage": usage, "guard": guard,
    })
