"""Reading OpenAI chat messages the same way everywhere guard needs the user's question."""

from __future__ import annotations

import json
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


def offers_tools(params: dict[str, Any]) -> bool:
    """The request lets the model call tools (``tools`` or the legacy ``functions``)."""
    return bool(params.get("tools") or params.get("functions"))


def forced_tool(params: dict[str, Any]) -> str | None:
    """The function the request forces the model to call (``tool_choice`` or legacy ``function_call`` naming one).

    Frameworks use such a tool to carry structured output (instructor's TOOLS mode, LangChain's
    ``function_calling``, pydantic-ai's output tool, which it forces as ``required`` with that one tool
    offered): its arguments are the final answer.
    """
    choice = params.get("tool_choice")
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return choice["function"].get("name") or None
    tools = params.get("tools")
    if choice == "required" and isinstance(tools, list) and len(tools) == 1 and isinstance(tools[0], dict):
        return (tools[0].get("function") or {}).get("name") or None  # one tool, and a call required: forced too
    call = params.get("function_call")
    if isinstance(call, dict):
        return call.get("name") or None
    return None


def answer_text(message: dict[str, Any], params: dict[str, Any]) -> str:
    """The text of an assistant message to verify, checked like prose whatever carries it: its content, or the
    string fields of a JSON answer to ``response_format``, or of the arguments of the tool the request forced
    (one per line). Empty for a reply that only calls tools."""
    content = message.get("content")
    if isinstance(content, str) and content.strip():
        response_format = params.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") in ("json_schema", "json_object"):
            value = _json_or_text(content)
            if isinstance(value, (dict, list)):
                return "\n".join(_strings(value))
        return content
    forced = forced_tool(params)
    if forced is None:
        return ""
    calls = [c.get("function") or {} for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    if isinstance(message.get("function_call"), dict):
        calls.append(message["function_call"])
    for call in calls:
        if call.get("name") == forced:
            return "\n".join(_strings(_json_or_text(call.get("arguments"))))
    return ""


def _json_or_text(arguments: Any) -> Any:
    if not isinstance(arguments, str):
        return arguments
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def _strings(value: Any) -> list[str]:
    """The non-empty strings in a JSON value, depth first, in order."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
