"""The conversation's tool results as sources: an agent's answer is checked against what its tools returned.

Each ``tool`` message (and legacy ``function`` message) becomes a ``Source`` named after the function that
produced it (``tool:<name>#<call id>``), found through the ``tool_call_id`` of the assistant's call. A JSON
result is rewritten as one ``key: value`` line per field, the form the support verifiers read best (an NLI
model has little to say about braces); any other text is kept as it is.
"""

from __future__ import annotations

import json
from typing import Any

from guard.state import Source


def tool_sources(messages: list[dict[str, Any]]) -> list[Source]:
    """One source per tool or function result in the conversation, in order; empty results are left out."""
    names = {call.get("id"): (call.get("function") or {}).get("name")
             for m in messages if m.get("role") == "assistant" for call in m.get("tool_calls") or []
             if isinstance(call, dict)}
    sources: list[Source] = []
    for message in messages:
        role = message.get("role")
        if role not in ("tool", "function"):
            continue
        call_id = message.get("tool_call_id")
        name = names.get(call_id) or message.get("name") or "tool"
        text = readable(_text(message.get("content")))
        if not text:
            continue
        sources.append(Source(id=f"tool:{name}" + (f"#{call_id}" if call_id else ""), title=name, text=text,
                              metadata={"tool": name, "tool_call_id": call_id}))
    return sources


def readable(text: str) -> str:
    """A JSON object or list as ``key: value`` lines (nested keys joined, underscores as spaces); other text as is."""
    try:
        value = json.loads(text)
    except ValueError:
        return text.strip()
    if not isinstance(value, (dict, list)):
        return text.strip()
    return "\n".join(_lines(value, ""))


def _lines(value: Any, prefix: str) -> list[str]:
    if isinstance(value, dict):
        return [line for key, item in value.items()
                for line in _lines(item, f"{prefix} {str(key).replace('_', ' ')}".strip())]
    if isinstance(value, list):
        return [line for item in value for line in _lines(item, prefix)]
    shown = json.dumps(value) if isinstance(value, bool) or value is None else str(value)
    return [f"{prefix}: {shown}" if prefix else shown]


def _text(content: Any) -> str:
    if isinstance(content, list):  # content parts: keep the text ones
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return content if isinstance(content, str) else ""
