"""What guard adds to a request: latency beyond the model call, with the default layers.

Runs N requests against a local fake upstream (an OpenAI-compatible server on
loopback that answers at once), so the model's own time is ~0 and what remains
is guard: grounding in the sample knowledge base (examples/kb), the support and
citation checks of a two-sentence cited answer, confidence, tier, review
routing and the record. Prints p50/p95/p99 in ms.

    python -m benchmarks.pipeline_overhead --requests 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from guard import Guard, GuardConfig  # noqa: E402
from guard.kb import KnowledgeBase  # noqa: E402
from tests.support.fake_upstream import FakeUpstream, Reply  # noqa: E402

ANSWER = "You can return a Lumen lamp within 30 days of delivery for a full refund [1]. Shipping costs are not refunded [2]."
SAMPLE_KB = Path(__file__).resolve().parent.parent / "examples" / "kb"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def main(requests: int) -> None:
    upstream = FakeUpstream(script={"bench": [Reply(text=ANSWER)]})
    os.environ.update(OPENAI_API_BASE=upstream.base_url, OPENAI_BASE_URL=upstream.base_url, OPENAI_API_KEY="sk-bench")
    with tempfile.TemporaryDirectory() as tmp:
        config = GuardConfig(models={"default": "openai/bench"}, telemetry={"database": f"{tmp}/g.db"},
                             knowledge_base={"path": f"{tmp}/kb"}, logging={"level": "warning"})
        kb = KnowledgeBase.open(config.knowledge_base)
        kb.add([SAMPLE_KB])
        kb.close()
        guard = Guard(config)
        messages = [{"role": "user", "content": "How many days after delivery can I return a lamp for a refund?"}]
        await guard.acomplete(messages)  # warm-up: loads models once
        overhead, total = [], []
        t0 = time.perf_counter()
        for _ in range(requests):
            reply = await guard.acomplete(messages)
            overhead.append(reply.guard.usage.latency_ms.guard)
            total.append(reply.guard.usage.latency_ms.total)
        wall = time.perf_counter() - t0
    upstream.close()
    print(f"layers: {', '.join(f'{k}={v.status}' for k, v in reply.guard.layers.items())}")
    print(f"requests={requests} wall={wall:.2f}s throughput={requests / wall:.1f} req/s (sequential)")
    for name, values in (("guard_overhead_ms", overhead), ("total_ms", total)):
        print(f"{name}: p50={percentile(values, .5):.2f} p95={percentile(values, .95):.2f} "
              f"p99={percentile(values, .99):.2f} mean={statistics.fmean(values):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    asyncio.run(main(parser.parse_args().requests))
