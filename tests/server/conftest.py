"""A real proxy on a loopback port (uvicorn in a thread), in front of the fake upstream, for the openai SDK."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
import uvicorn

from guard import Guard, GuardConfig
from guard.adapters.server.app import create_app

MODEL = "openai/fake-model"
APP_KEY, ADMIN_KEY = "sk-app-test-key-0001", "sk-admin-test-key-0001"


def server_config(**sections: Any) -> GuardConfig:
    """Every layer off unless a test turns it on: the proxy as a pass-through.

    No start-up warm-up either: a test that turns a layer on pays for its models only if a request uses them.
    """
    base: dict[str, Any] = {
        "models": {"default": MODEL, "max_attempts": 1, "timeout_s": 30},
        "grounding": {"enabled": False}, "support": {"enabled": False}, "citations": {"enabled": False},
        "consistency": {"enabled": False}, "review": {"enabled": False}, "server": {"warm_up": False},
    }
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values} if isinstance(values, dict) and name != "prompts" else values
    return GuardConfig(**base)


class RunningServer:
    """uvicorn serving ``app`` on a free loopback port until ``stop``."""

    def __init__(self, app: Any):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                                    timeout_graceful_shutdown=5))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


class Proxy:
    """A started proxy and the guard behind it, with SDK clients pointed at it."""

    def __init__(self, guard: Guard, server: RunningServer):
        self.guard, self.server, self.url = guard, server, server.url

    def client(self, key: str = "unused", **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0, timeout=20, **kwargs)

    def async_client(self, key: str = "unused", **kwargs: Any) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0, timeout=20, **kwargs)


@pytest.fixture
def start_proxy(upstream) -> Iterator[Callable[..., Proxy]]:
    """``start_proxy(**config_sections)``: a running proxy over the fake upstream; stopped after the test.

    ``warm_up`` replaces the start-up warm-up (a test's own, e.g. one that waits for an event).
    """
    started: list[RunningServer] = []

    def start(*, warm_up: Callable[[], Any] | None = None, **sections: Any) -> Proxy:
        config = server_config(**sections)
        guard = Guard(config)
        server = RunningServer(create_app(guard, config, warm_up=warm_up))
        started.append(server)
        return Proxy(guard, server)

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def proxy(start_proxy) -> Proxy:
    return start_proxy()
