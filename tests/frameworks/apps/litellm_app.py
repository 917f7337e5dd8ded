"""litellm's SDK pointed at guard (an ``openai/`` model with ``api_base``): completion, stream, a tool loop,
response_format from a pydantic model. The verdicts: VerdictLog's client passed as litellm's ``client``."""

from __future__ import annotations

import json

import litellm
import openai
from common import API_KEY, MODEL, ORDER_QUESTION, QUESTION, RefundAnswer, base_url, lookup_order, run

TOOLS = [{"type": "function", "function": {"name": "lookup_order", "description": lookup_order.__doc__,
                                            "parameters": {"type": "object", "required": ["order_id"],
                                                           "properties": {"order_id": {"type": "string"}}}}}]


def complete(log, messages, **kwargs):
    client = openai.OpenAI(base_url=base_url(), api_key=API_KEY, max_retries=0, http_client=log.http_client())
    return litellm.completion(model=f"openai/{MODEL}", messages=messages, api_base=base_url(), api_key=API_KEY,
                              client=client, num_retries=0, **kwargs)


def plain(log):
    return complete(log, [{"role": "user", "content": QUESTION}]).choices[0].message.content


def stream(log):
    chunks = complete(log, [{"role": "user", "content": QUESTION}], stream=True)
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def tools(log):
    messages = [{"role": "user", "content": ORDER_QUESTION}]
    for _ in range(4):
        message = complete(log, messages, tools=TOOLS).choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            messages.append({"role": "tool", "tool_call_id": call.id,
                             "content": lookup_order(**json.loads(call.function.arguments))})
    raise RuntimeError("no final answer after 4 steps")


def structured(log):
    content = complete(log, [{"role": "user", "content": QUESTION}], response_format=RefundAnswer).choices[0].message.content
    return RefundAnswer.model_validate_json(content).model_dump()


if __name__ == "__main__":
    run({"plain": plain, "stream": stream, "tools": tools, "structured": structured})
