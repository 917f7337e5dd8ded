"""The run's JSON Lines checkpoint: one line per finished item, appended as it finishes.

The first line names what the results belong to (suite, config and dataset
hashes); results recorded under a different identity are never reused. A line
cut short by a crash is ignored, and the next append starts on a fresh line.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from guard.evals.results import Result, parse_result


class Checkpoint:
    def __init__(self, path: Path, identity: dict[str, Any]):
        self.path = path
        self.identity = identity
        self._lock = threading.Lock()

    def resume(self) -> tuple[dict[str, Result], bool]:
        """Results finished without error, by item id, and whether a stale checkpoint was discarded.

        Failed items are left out so the next run retries them: most failures
        (timeouts, a model briefly down) are transient.
        """
        lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
        if not lines or _header(lines[0]) != self.identity:
            discarded = bool(lines)
            self._start()
            return {}, discarded
        finished: dict[str, Result] = {}
        for line in lines[1:]:
            try:
                result = parse_result(line)
            except ValidationError:
                continue  # cut short by an interruption
            if result.ok:
                finished[result.id] = result
        self._end_with_newline()
        return finished, False

    def append(self, result: Result) -> None:
        line = result.model_dump_json() + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def _start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"checkpoint": self.identity}, sort_keys=True) + "\n", encoding="utf-8")

    def _end_with_newline(self) -> None:
        with self.path.open("rb+") as f:
            f.seek(-1, 2)
            if f.read(1) != b"\n":
                f.write(b"\n")


def _header(line: str) -> Any:
    try:
        return json.loads(line).get("checkpoint")
    except (ValueError, AttributeError):
        return None
