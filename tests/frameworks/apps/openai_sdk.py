"""The official openai SDK, as the README shows it: the baseline every framework is compared with."""

from __future__ import annotations

import json

import openai
from common import API_KEY, MODEL, ORDER_QUESTION, QUESTION, RefundAnswer, base_url, lookup_order, run

TOOLS = [{"type": "function", "function": {"name": "lookup_order", "description": lookup_order.__doc__,
                                            "parameters": {"type": "object", "required": ["order_id"],
                                                           "properties": {"order_id": {"type": "string"}}}}}]


def client(log):
    return openai.OpenAI(base_url=base_url(), api_key=API_KEY, max_retries=0, http_client=log.http_client())


def plain(log):
    return client(log).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}]) \
        .choices[0].message.content


def stream(log):
    chunks = client(log).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}],
                                                 stream=True)
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def tools(log):
    sdk = client(log)
    messages = [{"role": "user", "content": ORDER_QUESTION}]
    for _ in range(4):
        message = sdk.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS).choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = lookup_order(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    raise RuntimeError("no final answer after 4 steps")


def structured(log):
    message = client(log).chat.completions.parse(model=MODEL, messages=[{"role": "user", "content": QUESTION}],
                                                 response_format=RefundAnswer).choices[0].message
    return message.parsed.model_dump() if message.parsed else {"refusal": message.refusal}


if __name__ == "__main__":
    run({"plain": plain, "stream": stream, "tools": tools, "structured": structured})
