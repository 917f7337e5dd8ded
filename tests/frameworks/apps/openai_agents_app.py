"""openai-agents on chat completions (OpenAIChatCompletionsModel, until guard serves the Responses API): Runner.run,
run_streamed, a function tool, an output type. The SDK shows no response: VerdictLog collects the verdicts."""

from __future__ import annotations

import asyncio

import openai
from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_tracing_disabled
from common import API_KEY, MODEL, ORDER_QUESTION, QUESTION, RefundAnswer, base_url, lookup_order, run

set_tracing_disabled(True)  # traces would go to OpenAI's platform


def agent(log, **kwargs) -> Agent:
    client = openai.AsyncOpenAI(base_url=base_url(), api_key=API_KEY, max_retries=0, http_client=log.async_http_client())
    return Agent(name="support", instructions="You answer customers' questions.",
                 model=OpenAIChatCompletionsModel(model=MODEL, openai_client=client), **kwargs)


async def plain(log):
    return (await Runner.run(agent(log), QUESTION)).final_output


async def stream(log):
    result = Runner.run_streamed(agent(log), QUESTION)
    async for _ in result.stream_events():
        pass
    return result.final_output


async def tools(log):
    return (await Runner.run(agent(log, tools=[function_tool(lookup_order)]), ORDER_QUESTION)).final_output


async def structured(log):
    return (await Runner.run(agent(log, output_type=RefundAnswer), QUESTION)).final_output.model_dump()


if __name__ == "__main__":
    run({"plain": plain, "stream": stream, "tools": tools, "structured": structured})
