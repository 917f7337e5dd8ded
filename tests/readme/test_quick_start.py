"""The README's quick start, run as a new user runs it: in a new folder outside the repository.

``examples/`` is copied into a temporary folder, then every ```bash and ```python block of the README's
"Quick start" and "Eval suites" sections runs there in order: a bash block as one script (its
``guard serve &`` keeps serving in the background, and the next block waits for ``/readyz``), a Python
block as a script of its own, as a user would paste them. The model is the scripted OpenAI-compatible
server (``tests/support/fake_upstream.py``): ``local/smollm2`` in a block becomes a model it answers, and
the server's port a free one. A block marked ``<!-- not run: REASON -->`` on the line above is skipped;
the reason is required.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.fake_upstream import FakeUpstream, Reply

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("Quick start", "Eval suites")
SCRIPTED_MODEL = "lumen-scripted"  # what the fake upstream answers for "local/smollm2"
NOT_RUN = re.compile(r"^<!-- not run: (?P<reason>.*?) -->$")
FENCE = re.compile(r"^```(?P<lang>[a-z]*)\n(?P<code>.*?)^```$", re.S | re.M)
BACKGROUND_SERVE = re.compile(r"^guard serve\b.*&\s*(#.*)?$", re.M)


@dataclass(frozen=True)
class Block:
    section: str
    lang: str
    code: str
    not_run: str | None  # the reason, when marked


def readme_blocks(text: str, sections: tuple[str, ...] = SECTIONS) -> list[Block]:
    """The bash and python blocks of these sections, in order, each with its not-run reason if marked."""
    found = []
    for section in sections:
        start = text.index(f"\n## {section}\n")
        end = text.find("\n## ", start + 1)
        body = text[start:end if end != -1 else None]
        for fence in FENCE.finditer(body):
            if fence["lang"] not in ("bash", "python"):
                continue
            before = body[:fence.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
            mark = NOT_RUN.match(before)
            found.append(Block(section, fence["lang"], fence["code"], mark["reason"].strip() if mark else None))
    return found


def test_every_block_not_run_says_why():
    blocks = readme_blocks((ROOT / "README.md").read_text(encoding="utf-8"))

    assert blocks and all(b.not_run is None or len(b.not_run) > 10 for b in blocks)
    assert any(b.not_run is None for b in blocks)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def new_project(tmp_path, upstream):
    """A folder outside the repository with examples/ copied in, and what a user's shell would have."""
    folder = tmp_path / "my-app"
    folder.mkdir()
    shutil.copytree(ROOT / "examples", folder / "examples")
    upstream.script[SCRIPTED_MODEL] = [Reply(text="You can return it within 30 days of delivery [1].")]
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               GUARD_MODELS__DEFAULT=f"openai/{SCRIPTED_MODEL}", GUARD_SERVER__PORT=str(port),
               OPENAI_BASE_URL=upstream.base_url, OPENAI_API_KEY="sk-test-not-a-real-key")
    env.pop("PYTHONPATH", None)  # guard as installed, not the repository on the path
    return folder, env, port


def _as_run(block: Block, port: int) -> str:
    return block.code.replace("local/smollm2", f"openai/{SCRIPTED_MODEL}").replace("localhost:8000",
                                                                                  f"127.0.0.1:{port}")


def _wait_ready(port: int, log: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"guard serve was not ready in time:\n{log.read_text()}")


def test_the_quick_start_runs_as_written_in_a_new_folder(new_project):
    folder, env, port = new_project
    blocks = [b for b in readme_blocks((ROOT / "README.md").read_text(encoding="utf-8")) if b.not_run is None]
    groups: list[int] = []  # process groups of bash blocks: what they left serving is stopped at the end
    logs: list[Path] = []
    try:
        for number, block in enumerate(blocks, 1):
            log = folder.parent / f"block-{number}.log"
            script = folder.parent / f"block-{number}.{'sh' if block.lang == 'bash' else 'py'}"
            script.write_text(_as_run(block, port), encoding="utf-8")
            command = ["bash", "-e", str(script)] if block.lang == "bash" else [sys.executable, str(script)]
            with log.open("w") as out:  # a file, not a pipe: a server left in the background keeps writing
                process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
                                           start_new_session=True)
                groups.append(process.pid)
                code = process.wait(timeout=600)
            assert code == 0, f"README block {number} ({block.section}) failed:\n{block.code}\n---\n{log.read_text()}"
            if BACKGROUND_SERVE.search(block.code):
                _wait_ready(port, log)
            logs.append(log)
    finally:
        for group in groups:
            try:
                os.killpg(group, signal.SIGTERM)
            except ProcessLookupError:
                pass

    text = "\n".join(log.read_text() for log in logs)  # read last: the server writes to its block's log
    assert f"guard serve: listening on http://127.0.0.1:{port}/v1" in text  # the server said where it is
    assert "You can return it within 30 days of delivery [1]." in text  # the proxy's and the client's answers
    assert f"store: {folder / '.guard' / 'guard.db'}" in text  # guard report named what it read
    assert "wice-dev" in text  # guard eval list
    assert (folder / "refunds.report.json").is_file()  # the user's own suite ran
