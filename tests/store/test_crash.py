"""SIGKILL a guard process while held answers and review decisions stream in: nothing it acknowledged is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from guard.store import open_store
from tests.support.fake_upstream import Reply

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("crash_worker.py")


def test_a_killed_process_loses_no_acknowledged_draft_or_decision(upstream, database):
    upstream.script["primary-model"] = [Reply(text="Refunds take 30 days.")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
    env["PYTHONPATH"] = str(ROOT)
    worker = subprocess.Popen([sys.executable, str(WORKER), database], stdout=subprocess.PIPE, text=True, env=env)
    acknowledged: list[str] = []
    try:
        for line in worker.stdout:
            acknowledged.append(line.split())
            if len(acknowledged) >= 30:
                break
        os.kill(worker.pid, signal.SIGKILL)
        acknowledged += [line.split() for line in worker.stdout]  # printed before the kill: acknowledged too
    finally:
        worker.kill()
        worker.wait()

    assert worker.returncode == -signal.SIGKILL
    store = open_store(database)
    held = {words[1] for words in acknowledged if words[0] == "held"}
    decided = {words[1] for words in acknowledged if words[0] == "decided"}
    assert len(held) >= 20 and len(decided) >= 10
    for review_id in held:
        item = store.get_review(review_id)
        assert item is not None and item.draft == "Refunds take 30 days."
        if review_id in decided:
            assert (item.status, item.reviewer) == ("approved", "worker")
    store.close()
