"""Load generator: raw asyncio sockets, HTTP/1.1 keep-alive, three modes, JSON on stdout.

- ``rate``: open loop at a fixed rate. Latency runs from the moment each request
  was *due*, not when it went out, so a stalled server cannot hide its stalls by
  slowing the generator down (no coordinated omission).
- ``max``: closed loop, ``--concurrency`` connections sending back to back; the
  completed requests per second over the window after the warm-up.
- ``stream``: sequential streamed requests; time to the first content chunk and
  the gaps between content chunks, as the client sees them.

A hand-rolled client rather than httpx: httpx spends ~0.5 ms of CPU per request,
which on a 2-core machine would be measured as the proxy's latency. Run it
pinned to its own core (``taskset``), away from the server under test.

    python -m benchmarks.perf.load rate --url http://127.0.0.1:9100/v1/chat/completions --rate 100 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.perf.upstream import install_fast_loop

BODY = {"model": "bench", "messages": [{"role": "user", "content": "Say hello to the benchmark."}]}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(percentile(ms, .5), 3), "p90_ms": round(percentile(ms, .9), 3),
            "p99_ms": round(percentile(ms, .99), 3), "max_ms": round(max(ms, default=0.0), 3), "n": len(ms)}


class Target:
    """Where requests go, and the request bytes sent in turn (one body, or ``--bodies`` cycled)."""

    def __init__(self, url: str, api_key: str, bodies: list[dict[str, Any]], stream: bool = False):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.requests = [self._encode(parts.path, parts.port, api_key, {**b, "stream": True} if stream else b)
                         for b in bodies]
        self._turn = itertools.cycle(self.requests)

    @staticmethod
    def _encode(path: str, port: int | None, api_key: str, body: dict[str, Any]) -> bytes:
        data = json.dumps(body).encode()
        head = (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nauthorization: Bearer {api_key}\r\n"
                f"content-type: application/json\r\ncontent-length: {len(data)}\r\n\r\n")
        return head.encode() + data

    def next(self) -> bytes:
        return next(self._turn)


@dataclass
class Reply:
    status: int
    body: bytes
    event_times: list[float] = field(default_factory=list)  # arrival of each SSE event carrying content


class Connection:
    """One keep-alive connection; reopened when the server closes it."""

    def __init__(self, target: Target):
        self.target = target
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self) -> Reply:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.target.host, self.target.port)
        assert self.reader is not None
        self.writer.write(self.target.next())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get(b"transfer-encoding") == b"chunked":
            reply = await self._read_chunked(status)
        else:
            reply = Reply(status, await self.reader.readexactly(int(headers.get(b"content-length", b"0"))))
        if headers.get(b"connection") == b"close":
            self.close()
        return reply

    async def _read_chunked(self, status: int) -> Reply:
        assert self.reader is not None
        reply, pending = Reply(status, b""), b""
        while True:
            size = int((await self.reader.readline()).strip().split(b";")[0], 16)
            data = await self.reader.readexactly(size + 2)
            if size == 0:
                return reply
            now = time.perf_counter()
            reply.body += data[:-2]
            pending += data[:-2]
            *events, pending = pending.split(b"\n\n")
            reply.event_times += [now for e in events if _has_content(e)]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _has_content(event: bytes) -> bool:
    """An SSE event whose first choice carries text (not the role-only, usage or verdict chunks)."""
    data = event.strip()
    if not data.startswith(b"data: ") or data == b"data: [DONE]":
        return False
    choices = json.loads(data[6:]).get("choices") or [{}]
    return bool((choices[0].get("delta") or {}).get("content"))


async def run_rate(target: Target, rate: float, duration: float, warmup: float,
                   grace: float = 5.0) -> dict[str, object]:
    idle: list[Connection] = []
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    start = time.perf_counter() + 0.05
    measure_from = start + warmup
    total = int((warmup + duration) * rate)

    async def one(due: float) -> None:
        nonlocal errors
        conn = idle.pop() if idle else Connection(target)
        try:
            reply = await conn.send()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            conn.close()
            errors += 1
            return
        idle.append(conn)
        if due >= measure_from:
            latencies.append(time.perf_counter() - due)
            statuses[reply.status] = statuses.get(reply.status, 0) + 1

    tasks, dues = [], []
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(due)))
        dues.append(due)
    # A server slower than the rate would queue without end: what is still open after the grace period is
    # cancelled and counted as unfinished, at the latency it had reached (a lower bound).
    _, pending = await asyncio.wait(tasks, timeout=grace)
    now = time.perf_counter()
    unfinished = [now - due for task, due in zip(tasks, dues) if task in pending and due >= measure_from]
    for task in pending:
        task.cancel()
    latencies += unfinished
    return {"mode": "rate", "rate": rate, **summary_ms(latencies), "statuses": statuses, "errors": errors,
            "unfinished": len(unfinished), "connections": len(idle)}


async def run_max(target: Target, concurrency: int, duration: float, warmup: float,
                  guard_ms: bool = False) -> dict[str, object]:
    """Closed loop; with ``guard_ms``, also what each answer's ``guard.usage.latency_ms.guard`` says."""
    latencies: list[float] = []
    guard_s: list[float] = []
    layers: dict[str, str] = {}
    layer_ms: dict[str, list[float]] = {}
    statuses: dict[int, int] = {}
    errors = completed = 0
    start = time.perf_counter()
    window = (start + warmup, start + warmup + duration)

    async def worker() -> None:
        nonlocal errors, layers, completed
        conn = Connection(target)
        while (t0 := time.perf_counter()) < window[1]:
            try:
                reply = await conn.send()
            except (OSError, asyncio.IncompleteReadError, ValueError):
                conn.close()
                errors += 1
                continue
            t1 = time.perf_counter()
            completed += 1
            if window[0] <= t1 < window[1]:
                latencies.append(t1 - t0)
                statuses[reply.status] = statuses.get(reply.status, 0) + 1
                if guard_ms and reply.status == 200:
                    verdict = json.loads(reply.body)["guard"]
                    guard_s.append(verdict["usage"]["latency_ms"]["guard"] / 1000)
                    layers = {k: v["status"] for k, v in verdict["layers"].items()}
                    for name, report in verdict["layers"].items():
                        layer_ms.setdefault(name, []).append(report.get("ms") or 0.0)
        conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    ok = statuses.get(200, 0)
    result: dict[str, object] = {"mode": "max", "concurrency": concurrency, "rps": round(ok / duration, 1),
                                 **summary_ms(latencies), "statuses": statuses, "errors": errors,
                                 "completed": completed}
    if guard_ms:
        result.update(guard=summary_ms(guard_s), layers=layers,
                      layer_p50_ms={k: round(percentile(v, .5), 2) for k, v in layer_ms.items()})
    return result


async def run_stream(target: Target, requests: int, warmup: int) -> dict[str, object]:
    conn = Connection(target)
    ttft: list[float] = []
    gaps: list[float] = []
    statuses: dict[int, int] = {}
    for i in range(warmup + requests):
        t0 = time.perf_counter()
        reply = await conn.send()
        if i < warmup:
            continue
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
        if reply.event_times:
            ttft.append(reply.event_times[0] - t0)
            gaps += [b - a for a, b in zip(reply.event_times, reply.event_times[1:])]
    conn.close()
    return {"mode": "stream", "ttft": summary_ms(ttft), "gap": summary_ms(gaps),
            "gap_mean_ms": round(sum(gaps) / len(gaps) * 1000, 3) if gaps else 0.0, "statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["rate", "max", "stream"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key", default="sk-bench")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured (rate, max)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring (rate, max)")
    parser.add_argument("--requests", type=int, default=50, help="streamed requests measured (stream)")
    parser.add_argument("--model", default="bench", help="model named in the default body")
    parser.add_argument("--bodies", type=Path, help="JSON list of request bodies, sent in turn")
    parser.add_argument("--guard-ms", action="store_true", help="collect guard.usage.latency_ms.guard (max)")
    args = parser.parse_args()
    install_fast_loop()
    bodies = json.loads(args.bodies.read_text()) if args.bodies else [{**BODY, "model": args.model}]
    target = Target(args.url, args.api_key, bodies, stream=args.mode == "stream")
    if args.mode == "rate":
        result = asyncio.run(run_rate(target, args.rate, args.duration, args.warmup))
    elif args.mode == "max":
        result = asyncio.run(run_max(target, args.concurrency, args.duration, args.warmup, args.guard_ms))
    else:
        result = asyncio.run(run_stream(target, args.requests, warmup=5))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
