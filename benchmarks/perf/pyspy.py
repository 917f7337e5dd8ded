"""Where a server's time goes under load: py-spy samples it, this condenses the samples into a short excerpt.

py-spy attaches from outside (no change to the server, ~1% overhead) and is an
optional bench tool (``make bench-setup``); without it ``--profile`` says so and
the figures run unprofiled.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.perf.procs import CLIENT_CORE, pinned


OUR_CODE = ("guard/", "adapters/", "layers/", "kb/", "verify/", "store/", "server/")


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@contextmanager
def sampling(pid: int, seconds: float, out: Path) -> Iterator[None]:
    """Sample ``pid`` (and its subprocesses) for ``seconds`` while the block runs; raw stacks land in ``out``."""
    tool = py_spy()
    if tool is None:
        out.write_text("")
        yield
        return
    argv = pinned(CLIENT_CORE, [tool, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200", "-s",
                                "-f", "raw", "-o", str(out), "--nonblocking"])
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.wait(seconds + 30)


def excerpt(raw: Path, title: str, top: int = 18) -> str:
    """The frames with the most samples: own time (the frame itself) and inclusive time (frame and callees)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines() if raw.exists() else []:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    if not total:
        return f"== {title}: no samples (py-spy missing: make bench-setup)\n"
    lines = [f"== {title}: {total} samples (py-spy, 200 Hz, idle frames excluded)", "-- own time"]
    lines += [f"{c / total:6.1%}  {f}" for f, c in own.most_common(top)]
    lines.append("-- inclusive time")
    lines += [f"{c / total:6.1%}  {f}" for f, c in inclusive.most_common(top * 2)]
    lines.append("-- inclusive time, guard's own frames")
    ours = Counter({f: c for f, c in inclusive.items() if f.rpartition("(")[2].startswith(OUR_CODE)})
    lines += [f"{c / total:6.1%}  {f}" for f, c in ours.most_common(top)]
    return "\n".join(lines) + "\n"
