"""pydantic-ai: run_sync, run_stream, an agent with a function tool, output types (its default output tool and
NativeOutput, a JSON schema). pydantic-ai shows neither body nor headers: VerdictLog collects the verdicts."""

from __future__ import annotations

from common import API_KEY, MODEL, ORDER_QUESTION, QUESTION, RefundAnswer, base_url, lookup_order, run
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider


def model(log) -> OpenAIChatModel:
    provider = OpenAIProvider(base_url=base_url(), api_key=API_KEY, http_client=log.async_http_client())
    return OpenAIChatModel(MODEL, provider=provider)


def plain(log):
    return Agent(model(log)).run_sync(QUESTION).output


async def stream(log):
    async with Agent(model(log)).run_stream(QUESTION) as result:
        return "".join([piece async for piece in result.stream_text(delta=True)])


def tools(log):
    return Agent(model(log), tools=[lookup_order]).run_sync(ORDER_QUESTION).output


def structured(log):
    return Agent(model(log), output_type=NativeOutput(RefundAnswer)).run_sync(QUESTION).output.model_dump()


def structured_tool(log):
    return Agent(model(log), output_type=RefundAnswer).run_sync(QUESTION).output.model_dump()


if __name__ == "__main__":
    run({"plain": plain, "stream": stream, "tools": tools, "structured": structured, "structured_tool": structured_tool})
