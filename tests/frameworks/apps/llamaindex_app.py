"""LlamaIndex (llama-index-llms-openai): chat, stream_chat, a FunctionAgent tool loop (it streams), structured_predict."""

from __future__ import annotations

from common import API_KEY, MODEL, ORDER_QUESTION, QUESTION, RefundAnswer, base_url, lookup_order, run
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai import OpenAI


def llm(log) -> OpenAI:
    return OpenAI(model=MODEL, api_base=base_url(), api_key=API_KEY, max_retries=0,
                  http_client=log.http_client(), async_http_client=log.async_http_client())


def plain(log):
    return llm(log).chat([ChatMessage(role="user", content=QUESTION)]).message.content


def stream(log):
    return "".join(r.delta or "" for r in llm(log).stream_chat([ChatMessage(role="user", content=QUESTION)]))


async def tools(log):
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(lookup_order)], llm=llm(log))
    return str(await agent.run(ORDER_QUESTION))


def structured_tool(log):
    return llm(log).structured_predict(RefundAnswer, PromptTemplate("{question}"), question=QUESTION).model_dump()


if __name__ == "__main__":
    run({"plain": plain, "stream": stream, "tools": tools, "structured_tool": structured_tool})
