"""What one model call costs through guard's model client, against the clients underneath it.

Sequential calls to the fake upstream, in one process pinned to the server core:
raw aiohttp and httpx, the openai SDK, bare ``litellm.acompletion`` and guard's
``ModelClient.complete``. Per call: wall p50 and CPU milliseconds (process time,
which other jobs on the machine do not inflate the way they inflate wall time).
The pass-through proxy's floor is the cheapest of these plus the HTTP server.

    python -m benchmarks.perf.client_cost --base http://127.0.0.1:9100/v1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable

from benchmarks.perf.load import percentile
from benchmarks.perf.upstream import install_fast_loop

MESSAGES = [{"role": "user", "content": "Say hello to the benchmark."}]


async def measure(call: Callable[[], Awaitable[object]], n: int) -> dict[str, float]:
    for _ in range(max(10, n // 10)):
        await call()
    walls = []
    cpu0 = time.process_time()
    for _ in range(n):
        t0 = time.perf_counter()
        await call()
        walls.append((time.perf_counter() - t0) * 1000)
    return {"wall_p50_ms": round(percentile(walls, .5), 3),
            "cpu_ms": round((time.process_time() - cpu0) * 1000 / n, 3)}


async def main(base: str, n: int) -> dict[str, dict[str, float]]:
    import aiohttp
    import httpx
    import litellm
    import openai

    from guard.config import ModelsConfig
    from guard.llm import ModelClient

    http = httpx.AsyncClient()
    sdk = openai.AsyncOpenAI(base_url=base, api_key="sk-bench")
    client = ModelClient(ModelsConfig(default="openai/bench", max_attempts=1))
    body = {"model": "bench", "messages": MESSAGES}

    session = aiohttp.ClientSession()

    async def raw() -> object:
        return (await http.post(base + "/chat/completions", json=body)).json()

    async def raw_aiohttp() -> object:
        async with session.post(base + "/chat/completions", json=body) as response:
            return await response.json()

    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "aiohttp": raw_aiohttp,
        "httpx": raw,
        "openai_sdk": lambda: sdk.chat.completions.create(model="bench", messages=MESSAGES),  # type: ignore[arg-type]
        "litellm": lambda: litellm.acompletion(model="openai/bench", messages=MESSAGES, api_base=base,
                                               api_key="sk-bench", num_retries=0, drop_params=True),
        "guard_model_client": lambda: client.complete(MESSAGES),
    }
    try:
        return {name: await measure(call, n) for name, call in calls.items()}
    finally:
        await session.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the fake upstream's /v1 URL (also set as OPENAI_API_BASE)")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    install_fast_loop()
    print(json.dumps(asyncio.run(main(args.base, args.calls))))
