"""Reading OpenAI chat messages the same way everywhere guard needs the user's question."""

from __future__ import annotations

from typing import Any


def last_user_text(messages: list[dict[str, Any]]) -> str | None:
    """The question: the text of the last user message, its text parts joined when content is a list of parts.

    Grounding retrieves with it and the record and review item store it, so
    both always name the same turn. None when the last user message has no text.
    """
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):  # content parts: keep the text ones
            content = " ".join(p["text"] for p in content
                               if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str))
        return (content.strip() or None) if isinstance(content, str) else None
    return None


def is_tool_call_only(message: dict[str, Any]) -> bool:
    """An assistant message that calls tools and says nothing: there is no text to verify."""
    content = message.get("content")
    has_text = bool(content.strip()) if isinstance(content, str) else bool(content)
    return bool(message.get("tool_calls") or message.get("function_call")) and not has_text
