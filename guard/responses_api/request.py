"""A Responses API request as a chat completions call: the bridge that lets every chat-only upstream serve it.

``instructions`` become the system message, ``input`` (a string or items) the
turn's messages, function tools and ``function_call``/``function_call_output``
items their chat twins, ``text.format`` the ``response_format``. Fields the
bridge cannot carry (built-in tools, file inputs) are the caller's 400, named.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guard.errors import InvalidRequest


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ResponsesRequest(_Strict):
    """The fields of ``POST /v1/responses`` guard serves; any other is refused by name."""

    model: str | None = Field(None, max_length=300)
    input: str | list[dict[str, Any]]
    instructions: str | None = None
    previous_response_id: str | None = Field(None, max_length=200)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    text: dict[str, Any] | None = None
    reasoning: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    user: str | None = None
    store: bool | None = None
    stream: bool | None = None
    truncation: Literal["auto", "disabled"] | None = None
    guard: dict[str, Any] | None = None  # per-request overrides, read by the proxy as on chat completions


def parse_request(data: dict[str, Any]) -> ResponsesRequest:
    """``data`` as a request, or ``InvalidRequest`` naming the first offending field."""
    try:
        return ResponsesRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        raise InvalidRequest(f"{param or 'body'}: {first['msg']}", param) from None


def turn_messages(request: ResponsesRequest) -> list[dict[str, Any]]:
    """This turn's input as chat messages (without ``instructions``: they are not carried to the next turn)."""
    if isinstance(request.input, str):
        return [{"role": "user", "content": request.input}]
    messages: list[dict[str, Any]] = []
    for number, item in enumerate(request.input):
        _add_item(messages, item, f"input.{number}")
    if not messages:
        raise InvalidRequest("input: give a string or at least one item", "input")
    return messages


def chat_params(request: ResponsesRequest) -> dict[str, Any]:
    """The chat completions parameters this request asks for (``user`` apart from them, as the pipeline takes it)."""
    params: dict[str, Any] = {}
    for name in ("temperature", "top_p", "parallel_tool_calls"):
        if getattr(request, name) is not None:
            params[name] = getattr(request, name)
    if request.max_output_tokens is not None:
        params["max_tokens"] = request.max_output_tokens
    if request.tools:
        params["tools"] = [_chat_tool(tool, f"tools.{i}") for i, tool in enumerate(request.tools)]
    if request.tool_choice is not None:
        params["tool_choice"] = _chat_tool_choice(request.tool_choice)
    text_format = (request.text or {}).get("format")
    if text_format is not None:
        params.update(_response_format(text_format))
    if request.user is not None:  # as on chat completions: the upstream gets it in the body, guard records it
        params["extra_body"] = {"user": request.user}
    effort = (request.reasoning or {}).get("effort")
    if effort is not None:
        params["reasoning_effort"] = effort
    return params


def with_instructions(instructions: str | None, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return messages if instructions is None else [{"role": "system", "content": instructions}, *messages]


def _add_item(messages: list[dict[str, Any]], item: dict[str, Any], where: str) -> None:
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        if role not in ("user", "assistant", "system", "developer"):
            raise InvalidRequest(f"{where}.role: must be user, assistant, system or developer, got {role!r}",
                                 f"{where}.role")
        # developer turns go to a chat upstream as system messages: most OpenAI-compatible servers know no other
        messages.append({"role": "system" if role == "developer" else role,
                         "content": _content(item.get("content"), f"{where}.content")})
    elif kind == "function_call":
        call = {"id": _text(item, "call_id", where), "type": "function",
                "function": {"name": _text(item, "name", where), "arguments": _text(item, "arguments", where)}}
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant" and last.get("tool_calls") is not None:
            last["tool_calls"].append(call)  # parallel calls: one assistant message, as chat completions sends them
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif kind == "function_call_output":
        output = item.get("output")
        if not isinstance(output, str):
            output = _content(output, f"{where}.output")
        messages.append({"role": "tool", "tool_call_id": _text(item, "call_id", where), "content": output})
    elif kind == "reasoning":
        return  # a reasoning model's own notes: a chat upstream has no place for them
    else:
        raise InvalidRequest(f"{where}.type: {kind!r} items are not supported; guard bridges message, "
                             "function_call and function_call_output items", f"{where}.type")


def _content(content: Any, where: str) -> str | list[dict[str, Any]]:
    """A message's content: its text when every part is text, else chat content parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}: must be a string or a list of content parts", where)
    parts: list[dict[str, Any]] = []
    for number, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text") and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "input_image" and isinstance(part.get("image_url"), str):
            image = {"url": part["image_url"], **({"detail": part["detail"]} if part.get("detail") else {})}
            parts.append({"type": "image_url", "image_url": image})
        else:
            raise InvalidRequest(f"{where}.{number}: {kind!r} parts are not supported; guard bridges input_text, "
                                 "output_text and input_image (with image_url)", f"{where}.{number}")
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _text(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise InvalidRequest(f"{where}.{name}: a string is required", f"{where}.{name}")
    return value


def _chat_tool(tool: dict[str, Any], where: str) -> dict[str, Any]:
    if tool.get("type") != "function" or not isinstance(tool.get("name"), str):
        raise InvalidRequest(f"{where}: only function tools (with a name) can be bridged to a chat upstream, "
                             f"got {tool.get('type')!r}", where)
    function = {k: tool[k] for k in ("name", "description", "parameters", "strict") if tool.get(k) is not None}
    return {"type": "function", "function": function}


def _chat_tool_choice(choice: str | dict[str, Any]) -> str | dict[str, Any]:
    if isinstance(choice, str):
        return choice
    if choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    raise InvalidRequest("tool_choice: give auto, none, required or {'type': 'function', 'name': ...}", "tool_choice")


def _response_format(text_format: dict[str, Any]) -> dict[str, Any]:
    kind = text_format.get("type") if isinstance(text_format, dict) else None
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"response_format": {"type": "json_object"}}
    if kind == "json_schema":
        schema = {k: text_format[k] for k in ("name", "description", "schema", "strict") if k in text_format}
        return {"response_format": {"type": "json_schema", "json_schema": schema}}
    raise InvalidRequest("text.format.type: must be text, json_object or json_schema", "text.format.type")
