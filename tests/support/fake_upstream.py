"""A real HTTP server on loopback that speaks the OpenAI chat completions API from a script.

Each request to a model pops the next scripted reply for that model (or repeats
the last one): a status code and a JSON body, or a list of text pieces to
stream as server-sent events.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import Any


@dataclass
class Reply:
    status: int = 200
    text: str = "Hello."
    stream_pieces: list[str] | None = None
    error_message: str = "upstream failure"
    tool_calls: list[dict[str, Any]] | None = None
    prompt_tokens: int = 12
    completion_tokens: int = 5
    chunk_delay_s: float = 0.0  # pause before each streamed chunk: a slow model
    delay_s: float = 0.0  # pause before answering at all: a slow or overloaded model
    headers: dict[str, str] = field(default_factory=dict)  # sent with an error status, e.g. retry-after
    # (token, log-probability) pairs returned when the request asks for logprobs; None: the provider has none
    logprobs: list[tuple[str, float]] | None = None
    choice_texts: list[str] | None = None  # a different text per choice when ``n`` > 1 (else every choice is ``text``)


def completion_body(model: str, reply: Reply, n: int, logprobs: bool = False) -> dict[str, Any]:
    if reply.tool_calls:
        message = {"role": "assistant", "content": None, "tool_calls": reply.tool_calls}
        finish = "tool_calls"
    else:
        message, finish = {"role": "assistant", "content": reply.text}, "stop"
    texts = reply.choice_texts or [message["content"]]
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": i, "message": {**message, "content": texts[i % len(texts)]}, "finish_reason": finish,
                     **_logprobs(reply, logprobs)} for i in range(n)],
        "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                  "total_tokens": reply.prompt_tokens + reply.completion_tokens},
    }


def _logprobs(reply: Reply, asked: bool) -> dict[str, Any]:
    if not asked or reply.logprobs is None:
        return {}
    return {"logprobs": {"content": [{"token": t, "logprob": lp, "bytes": list(t.encode()), "top_logprobs": []}
                                     for t, lp in reply.logprobs]}}


@dataclass
class FakeUpstream:
    script: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)  # each request's authorization header
    stream_cut: threading.Event = field(default_factory=threading.Event)  # a reader left a stream early
    responder: Callable[[dict[str, Any]], Reply] | None = None  # replies from the request itself, not the script

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                fake.requests.append(body)
                fake.authorizations.append(self.headers.get("authorization"))
                if self.path.rstrip("/").endswith("/embeddings"):
                    fake._embed(self, body)
                    return
                fake._answer(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def calls_to(self, model: str) -> int:
        return sum(1 for r in self.requests if r.get("model") == model)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, model: str) -> Reply:
        replies = self.script.get(model) or [Reply()]
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def _answer(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        model = body.get("model", "")
        reply = self.responder(body) if self.responder is not None else self._next(model)
        time.sleep(reply.delay_s)
        if reply.status != 200:
            payload = json.dumps({"error": {"message": reply.error_message, "type": "server_error", "param": None,
                                            "code": None}}).encode()
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        if body.get("stream"):
            self._stream(handler, model, reply, bool((body.get("stream_options") or {}).get("include_usage")),
                         bool(body.get("logprobs")))
            return
        n = int(body.get("n") or 1)
        payload = json.dumps(completion_body(model, reply, n, bool(body.get("logprobs")))).encode()
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _stream(self, handler: BaseHTTPRequestHandler, model: str, reply: Reply, include_usage: bool,
                logprobs: bool = False) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.end_headers()
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
        pieces = reply.stream_pieces or [reply.text]
        events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
        if reply.tool_calls:
            calls = [{"index": i, **call} for i, call in enumerate(reply.tool_calls)]
            events.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": calls}, "finish_reason": None}]})
        else:  # the answer's log-probabilities, when asked, ride on its first piece
            events += [{**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None,
                                             **(_logprobs(reply, logprobs) if i == 0 else {})}]}
                       for i, p in enumerate(pieces)]
        events.append({**base, "choices": [{"index": 0, "delta": {},
                                            "finish_reason": "tool_calls" if reply.tool_calls else "stop"}]})
        if include_usage:
            events.append({**base, "choices": [], "usage": {"prompt_tokens": reply.prompt_tokens,
                                                            "completion_tokens": reply.completion_tokens,
                                                            "total_tokens": reply.prompt_tokens + reply.completion_tokens}})
        try:
            for event in events:
                time.sleep(reply.chunk_delay_s)
                handler.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                handler.wfile.flush()
            handler.wfile.write(b"data: [DONE]\n\n")
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.stream_cut.set()

    def _embed(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        inputs = body.get("input")
        inputs = inputs if isinstance(inputs, list) else [inputs]
        payload = json.dumps({"object": "list", "model": body.get("model", ""),
                              "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}
                                       for i in range(len(inputs))],
                              "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}}).encode()
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


def main() -> None:
    """``python tests/support/fake_upstream.py TEXT``: every model answers TEXT until the process is stopped; the
    first line printed is the base URL (for scripts that check an installed guard, such as ``.ci/lean-install``)."""
    import sys

    fake = FakeUpstream(responder=lambda _body: Reply(text=sys.argv[1]))
    print(fake.base_url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
