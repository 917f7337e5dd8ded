"""A fake OpenAI upstream fast enough to benchmark a proxy against: raw asyncio, keep-alive, no framework.

tests/support/fake_upstream.py is built on http.server (a thread per connection,
a few hundred requests/s): it would be the bottleneck of a throughput run. This
one answers ``POST /v1/chat/completions`` from a bare ``asyncio.Protocol`` (on
uvloop when installed), at once or after ``--delay-ms``, and streams
``--chunks`` SSE chunks ``--gap-ms`` apart when the request says ``stream``.
Answers rotate through ``--answers`` (a JSON list of strings) so a benchmark
can hand guard text it has never seen.

    python -m benchmarks.perf.upstream --port 9100 [--delay-ms 200] [--chunks 20 --gap-ms 10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from pathlib import Path
from typing import Any

DEFAULT_ANSWER = "Hello! This is the benchmark upstream answering at once."


class Upstream:
    """What every connection shares: the answers, the pacing, the request counter."""

    def __init__(self, answers: list[str], delay_s: float, chunks: int, gap_s: float):
        self._answers = itertools.cycle(answers)
        self.delay_s = delay_s
        self.chunks = chunks
        self.gap_s = gap_s

    def next_answer(self) -> str:
        return next(self._answers)


def _completion(model: str, text: str, n: int) -> bytes:
    words = len(text.split())
    return json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    for i in range(n)],
        "usage": {"prompt_tokens": 12, "completion_tokens": words, "total_tokens": 12 + words},
    }).encode()


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _response(status: str, body: bytes, content_type: bytes = b"application/json") -> bytes:
    return (b"HTTP/1.1 " + status.encode() + b"\r\ncontent-type: " + content_type
            + b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\nconnection: keep-alive\r\n\r\n" + body)


class Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive; requests on one connection are answered in order."""

    def __init__(self, upstream: Upstream):
        self.upstream = upstream
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.queue: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()
        self.worker: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.worker = asyncio.get_running_loop().create_task(self._serve())

    def connection_lost(self, exc: Exception | None) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < head_end + 4 + length:
                return
            body = self.buffer[head_end + 4:head_end + 4 + length]
            self.buffer = self.buffer[head_end + 4 + length:]
            self.queue.put_nowait((head.split(b"\r\n", 1)[0], body))

    async def _serve(self) -> None:
        while True:
            request_line, body = await self.queue.get()
            method, path = request_line.split(b" ")[:2]
            if method == b"GET" and path.endswith(b"/models"):
                self._write(_response("200 OK", b'{"object":"list","data":[{"id":"bench","object":"model"}]}'))
            elif method == b"POST" and path.endswith(b"/chat/completions"):
                await self._chat(json.loads(body or b"{}"))
            else:
                self._write(_response("404 Not Found", b'{"error":{"message":"not found","type":"invalid_request_error"}}'))

    async def _chat(self, request: dict[str, Any]) -> None:
        up = self.upstream
        if up.delay_s:
            await asyncio.sleep(up.delay_s)
        model, text = request.get("model", "bench"), up.next_answer()
        if not request.get("stream"):
            self._write(_response("200 OK", _completion(model, text, int(request.get("n") or 1))))
            return
        self._write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n"
                    b"connection: keep-alive\r\n\r\n")
        words = text.split(" ")
        per_chunk = max(1, -(-len(words) // up.chunks))
        base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
        pieces = [" ".join(words[i:i + per_chunk]) + " " for i in range(0, len(words), per_chunk)]
        for i, piece in enumerate(pieces):
            if i and up.gap_s:
                await asyncio.sleep(up.gap_s)
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            self._write(_chunked(_sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})))
        self._write(_chunked(_sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})))
        if (request.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 12, "completion_tokens": len(words), "total_tokens": 12 + len(words)}
            self._write(_chunked(_sse({**base, "choices": [], "usage": usage})))
        self._write(_chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n")

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


def install_fast_loop() -> None:
    """uvloop when it is installed: the fake must never be what a benchmark measures."""
    try:
        import uvloop
    except ImportError:
        return
    uvloop.install()


async def serve(port: int, upstream: Upstream) -> None:
    server = await asyncio.get_running_loop().create_server(lambda: Connection(upstream), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="wait this long before answering")
    parser.add_argument("--chunks", type=int, default=20, help="SSE content chunks per streamed answer")
    parser.add_argument("--gap-ms", type=float, default=0.0, help="pause between streamed chunks")
    parser.add_argument("--answers", type=Path, help="JSON list of answer texts, served in turn")
    args = parser.parse_args()
    answers = json.loads(args.answers.read_text()) if args.answers else [DEFAULT_ANSWER]
    install_fast_loop()
    asyncio.run(serve(args.port, Upstream(answers, args.delay_ms / 1000, args.chunks, args.gap_ms / 1000)))


if __name__ == "__main__":
    main()
