"""The console under a real browser: Debian's chromium, headless, driven by Playwright (never `playwright install`).

One proxy (``create_app`` on uvicorn, on loopback) and one browser serve the
whole module; each test gets a fresh browser context, so no cookie leaks from
one test to the next. Without /usr/bin/chromium the browser tests are skipped,
except in CI, where that is a failure.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: apt-get install chromium"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    """One headless chromium for the module."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and page per test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@dataclass
class LiveServer:
    """An ASGI app served by uvicorn in a thread, on a free loopback port."""

    url: str
    _server: object
    _thread: threading.Thread

    @classmethod
    def start(cls, app) -> "LiveServer":
        import uvicorn

        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        return cls(f"http://127.0.0.1:{port}", server, thread)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


@pytest.fixture(scope="module")
def live_server_factory() -> Iterator:
    started: list[LiveServer] = []

    def start(app) -> LiveServer:
        started.append(LiveServer.start(app))
        return started[-1]

    yield start
    for server in started:
        server.stop()
