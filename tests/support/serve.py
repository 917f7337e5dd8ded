"""``guard serve`` in a process of its own, as an operator starts it: for tests of what only a real server shows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

GUARD = Path(sys.executable).with_name("guard")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GuardServe:
    """``guard serve --config CONFIG`` on a free loopback port, started when constructed; ``ready()`` waits for
    ``/readyz`` (start several first, then wait: each start imports for seconds)."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = config.with_suffix(f".{self.port}.log")
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen([str(GUARD), "serve", "--config", str(config), "--port", str(self.port), *args],
                                        stdout=self._log, stderr=subprocess.STDOUT, cwd=config.parent,
                                        env=env if env is not None else os.environ.copy(), start_new_session=True)

    def ready(self, timeout_s: float = 180) -> GuardServe:
        deadline = time.monotonic() + timeout_s
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"guard serve did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        return self

    def _answers(self) -> bool:
        try:
            return httpx.get(self.url + "/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        """SIGTERM to the server and its workers, as a process manager stops it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
