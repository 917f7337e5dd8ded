"""instructor over the openai SDK: structured output in TOOLS mode (a forced tool) and JSON_SCHEMA mode,
partial streaming, and a plain completion through the patched client (response_model=None)."""

from __future__ import annotations

import instructor
import openai
from common import API_KEY, MODEL, QUESTION, RefundAnswer, base_url, run

MESSAGES = [{"role": "user", "content": QUESTION}]


def client(log, mode=instructor.Mode.TOOLS):
    sdk = openai.OpenAI(base_url=base_url(), api_key=API_KEY, max_retries=0, http_client=log.http_client())
    return instructor.from_openai(sdk, mode=mode)


def plain(log):
    return client(log).chat.completions.create(model=MODEL, messages=MESSAGES, response_model=None) \
        .choices[0].message.content


def stream(log):
    partials = client(log).chat.completions.create_partial(model=MODEL, messages=MESSAGES, response_model=RefundAnswer)
    return [p for p in partials][-1].summary


def structured(log):
    answer, completion = client(log, instructor.Mode.JSON_SCHEMA).chat.completions.create_with_completion(
        model=MODEL, messages=MESSAGES, response_model=RefundAnswer, max_retries=0)
    assert completion.model_extra["guard"]["tier"]  # instructor hands back the completion, verdict and all
    return answer.model_dump()


def structured_tool(log):
    return client(log).chat.completions.create(model=MODEL, messages=MESSAGES, response_model=RefundAnswer,
                                               max_retries=0).model_dump()


if __name__ == "__main__":
    run({"plain": plain, "stream": stream, "structured": structured, "structured_tool": structured_tool})
