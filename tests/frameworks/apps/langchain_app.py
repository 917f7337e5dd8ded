"""LangChain (langchain-openai's ChatOpenAI): invoke, stream, a tool loop with bind_tools, structured output."""

from __future__ import annotations

from common import API_KEY, MODEL, ORDER_QUESTION, QUESTION, RefundAnswer, base_url, lookup_order, run
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

lookup = tool(lookup_order)


def chat(log) -> ChatOpenAI:
    return ChatOpenAI(model=MODEL, base_url=base_url(), api_key=API_KEY, max_retries=0,
                      http_client=log.http_client(), http_async_client=log.async_http_client())


def plain(log):
    return chat(log).invoke(QUESTION).content


def stream(log):
    return "".join(chunk.content for chunk in chat(log).stream(QUESTION))


def tools(log):
    llm = chat(log).bind_tools([lookup])
    messages = [HumanMessage(ORDER_QUESTION)]
    for _ in range(4):
        reply = llm.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            return reply.content
        for call in reply.tool_calls:
            messages.append(ToolMessage(lookup.invoke(call["args"]), tool_call_id=call["id"]))
    raise RuntimeError("no final answer after 4 steps")


def structured(log):
    return chat(log).with_structured_output(RefundAnswer, method="json_schema").invoke(QUESTION).model_dump()


def structured_tool(log):
    return chat(log).with_structured_output(RefundAnswer, method="function_calling").invoke(QUESTION).model_dump()


if __name__ == "__main__":
    run({"plain": plain, "stream": stream, "tools": tools, "structured": structured,
         "structured_tool": structured_tool})
