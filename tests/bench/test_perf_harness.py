"""The benchmark's fake upstream and load generator speak enough HTTP/1.1 and SSE to measure a proxy."""

from __future__ import annotations

import asyncio
import json
import socket

from benchmarks.perf.load import Connection, Target, percentile, run_rate
from benchmarks.perf.upstream import Upstream, serve


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _started(upstream: Upstream) -> tuple[str, asyncio.Task[None]]:
    port = _free_port()
    task = asyncio.create_task(serve(port, upstream))
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.01)
    return f"http://127.0.0.1:{port}/v1/chat/completions", task


async def test_upstream_answers_each_request_on_one_connection_in_turn() -> None:
    url, task = await _started(Upstream(["first", "second"], delay_s=0, chunks=1, gap_s=0))
    conn = Connection(Target(url, "sk", [{"model": "m", "messages": [], "n": 2}]))
    replies = [await conn.send() for _ in range(3)]
    conn.close()
    task.cancel()
    texts = [json.loads(r.body)["choices"][1]["message"]["content"] for r in replies]
    assert [r.status for r in replies] == [200, 200, 200]
    assert texts == ["first", "second", "first"]


async def test_streamed_answer_arrives_as_timed_content_chunks() -> None:
    url, task = await _started(Upstream(["one two three four"], delay_s=0, chunks=4, gap_s=0.001))
    conn = Connection(Target(url, "sk", [{"model": "m", "messages": []}], stream=True))
    reply = await conn.send()
    conn.close()
    task.cancel()
    assert reply.body.endswith(b"data: [DONE]\n\n")
    assert len(reply.event_times) == 4
    assert reply.event_times == sorted(reply.event_times)


async def test_fixed_rate_load_reports_every_request() -> None:
    url, task = await _started(Upstream(["hi"], delay_s=0, chunks=1, gap_s=0))
    result = await run_rate(Target(url, "sk", [{"model": "m", "messages": []}]), rate=200, duration=0.1, warmup=0)
    task.cancel()
    assert result["statuses"] == {200: 20}
    assert result["unfinished"] == 0


def test_percentile_is_nearest_rank() -> None:
    assert percentile([5.0, 1.0, 3.0], 0.5) == 3.0
    assert percentile([], 0.99) == 0.0
