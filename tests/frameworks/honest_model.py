"""A scripted upstream that behaves like a capable model, for the frameworks' tests.

It calls the tools it is offered (``lookup_order`` first, then a forced or required output tool), answers a
JSON schema with a matching instance, restates its sources and cites them as guard's grounding instruction
asks. What it says is always true to its sources, so any flag or hold guard adds is guard's doing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support.fake_upstream import Reply

REFUND_FACT = "Refunds are issued to the original payment method within 5 business days."
ORDER = {"order_id": "LL-1234", "status": "delivered 12 days ago", "opened": False}
ORDER_FACT = "Order LL-1234 was delivered 12 days ago and is unopened."
LOOKUP = "lookup_order"
KB_DOCUMENT = f"# Refunds\n\n{REFUND_FACT}\n"


def respond(body: dict[str, Any]) -> Reply:
    messages = body.get("messages") or []
    tools = {t["function"]["name"]: t["function"] for t in body.get("tools") or [] if t.get("type") == "function"}
    called = {call.get("function", {}).get("name") for m in messages if m.get("role") == "assistant"
              for call in m.get("tool_calls") or []}
    sentence, marker = _answer(messages)
    if LOOKUP in tools and LOOKUP not in called and "order" in _last_user(messages).lower():
        return _call(LOOKUP, {"order_id": "LL-1234"})
    output = _output_tool(body, tools)
    if output is not None:
        return _call(output, _instance(tools[output].get("parameters") or {}, sentence))
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return _text(json.dumps(_instance(response_format["json_schema"].get("schema") or {}, sentence)))
    return _text(f"{sentence[:-1]} {marker}." if marker else sentence)


def _answer(messages: list[dict[str, Any]]) -> tuple[str, str | None]:
    """The true sentence for this turn, and the marker of the source it restates when the prompt numbers it."""
    system = "\n".join(m["content"] for m in messages if m.get("role") == "system" and isinstance(m.get("content"), str))
    if any(m.get("role") == "tool" for m in messages):
        found = re.search(rf"\[(\d+)\] the result of the tool {LOOKUP}", system)
        return ORDER_FACT, found and f"[{found.group(1)}]"
    found = re.search(r"\[(\d+)\] [^\n]*\n" + re.escape(REFUND_FACT[:20]), system)
    return REFUND_FACT, found and f"[{found.group(1)}]"


def _output_tool(body: dict[str, Any], tools: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return choice.get("function", {}).get("name")
    outputs = [name for name in tools if name != LOOKUP]
    return outputs[0] if choice == "required" and outputs else None


def _instance(schema: dict[str, Any], sentence: str, defs: dict[str, Any] | None = None) -> Any:
    """A value matching a JSON schema: strings say the sentence, numbers are the sentence's first number."""
    defs = defs if defs is not None else schema.get("$defs") or schema.get("definitions") or {}
    if "$ref" in schema:
        return _instance(defs[schema["$ref"].rsplit("/", 1)[-1]], sentence, defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _instance(schema[key][0], sentence, defs)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    kind = kind[0] if isinstance(kind, list) else kind
    number = int(re.search(r"\d+", sentence).group()) if re.search(r"\d+", sentence) else 1
    if kind == "object":
        return {name: _instance(sub, sentence, defs) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_instance(schema.get("items") or {}, sentence, defs)]
    return {"string": sentence, "integer": number, "number": number, "boolean": True}.get(kind)


def _last_user(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            content = m.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def _call(name: str, arguments: Any) -> Reply:
    return Reply(tool_calls=[{"id": f"call_{name}", "type": "function",
                              "function": {"name": name, "arguments": json.dumps(arguments)}}])


def _text(text: str) -> Reply:
    words = re.findall(r"\S+|\s+", text)
    return Reply(text=text, stream_pieces=[text[: len(text) // 2], text[len(text) // 2:]],
                 logprobs=[(w, -0.01) for w in words])
