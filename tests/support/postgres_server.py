"""A throwaway PostgreSQL cluster of the test's own, to stop and start: never the shared server others use.

Built with Debian's binaries (``/usr/lib/postgresql/*/bin``) in a temp dir on a free loopback port,
trust auth, run as the ``postgres`` user when the tests run as root (PostgreSQL refuses root).
Without the binaries the test skips, except under CI (``CI`` set), where ``.ci/run`` installs them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivatePostgres:
    """``start``, ``stop`` (fast: clients are disconnected, as in a restart) and ``url``; ``remove`` at the end."""

    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None or not (bindir / "initdb").exists():
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL's binaries (/usr/lib/postgresql/*/bin) are missing: .ci/run installs them")
            pytest.skip("PostgreSQL's binaries (/usr/lib/postgresql/*/bin) are missing: outage test skipped")
        self._bindir = bindir
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.root = Path(tempfile.mkdtemp(prefix="guard-pg-"))
        if self._as:
            shutil.chown(self.root, "postgres", "postgres")
        self.data, self.log = self.root / "data", self.root / "server.log"
        self.port = _free_port()
        self.url = f"postgresql://guard@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.data), "-U", "guard", "-A", "trust", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run([*self._as, str(self._bindir / tool), *args], capture_output=True, text=True,
                                timeout=120)
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed: {result.stdout}{result.stderr}{log}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def remove(self) -> None:
        subprocess.run([*self._as, str(self._bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
