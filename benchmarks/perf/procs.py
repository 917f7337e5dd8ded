"""Processes under test: started pinned to a core, waited for, measured (RSS from /proc), stopped.

Pinning is what makes a 2-core machine usable for this: the server under test
gets core 0 alone and the load generator and the fake upstream share core 1, so
neither steals the other's CPU and the figures measure the server.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

SERVER_CORE = "0"
CLIENT_CORE = "1"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinned(core: str, argv: Sequence[str]) -> list[str]:
    """``argv`` under ``taskset`` when the machine has it and more than one core."""
    if (os.cpu_count() or 1) > 1 and Path("/usr/bin/taskset").exists():
        return ["taskset", "-c", core, *argv]
    return list(argv)


def wait_http(port: int, path: str, timeout: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``GET path`` answers anything below 500; fails with the log's tail when the process dies."""
    deadline = time.monotonic() + timeout
    request = f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n".encode()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(request)
                status = s.recv(64).split(b" ")[1]
                if int(status) < 500:
                    return
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{proc.args} not ready on port {port} after {timeout:.0f}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


@contextmanager
def server(argv: Sequence[str], *, port: int, ready_path: str, log: Path, env: dict[str, str] | None = None,
           timeout: float = 120.0, core: str = SERVER_CORE) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server pinned to ``core`` for the ``with`` block; stopped with SIGTERM (SIGKILL after 10 s)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(pinned(core, argv), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, **(env or {})}, start_new_session=True)
        try:
            wait_http(port, ready_path, timeout, proc, log)
            yield proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants (workers), in MB; ``taskset`` itself execs away."""
    total = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def cpu_s(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its descendants: unlike wall time, not inflated by
    other jobs on the core."""
    ticks = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children") if Path(f"/proc/{p}").exists() else []:
            todo += [int(c) for c in task.read_text().split()]
    return out


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def run_load(mode: str, url: str, *extra: str, watch_pid: int | None = None,
             timeout: float = 300.0) -> dict[str, object]:
    """The load generator as its own process on the client core; its JSON result.

    With ``watch_pid``, the result also has ``rss_peak_mb``: that process tree's
    largest RSS, sampled every 0.25 s while the load ran, and ``server_cpu_s``, the CPU
    time it used meanwhile.
    """
    argv = pinned(CLIENT_CORE, [sys.executable, "-m", "benchmarks.perf.load", mode, "--url", url, *extra])
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, deadline = 0.0, time.monotonic() + timeout
    cpu_before = cpu_s(watch_pid) if watch_pid is not None else 0.0
    while proc.poll() is None and time.monotonic() < deadline:
        if watch_pid is not None:
            peak = max(peak, rss_mb(watch_pid))
        time.sleep(0.25)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed ({proc.returncode}): {err[-2000:]}")
    result = json.loads(out)
    if watch_pid is not None:
        result["rss_peak_mb"] = peak
        result["server_cpu_s"] = round(cpu_s(watch_pid) - cpu_before, 3)
    return result
