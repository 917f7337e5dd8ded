"""A guard process for the crash test: answers are held under ``block`` and decided, each acknowledged on stdout.

Run as ``python crash_worker.py DATABASE``; the fake upstream is found through OPENAI_BASE_URL.
A line is printed only after the call returned, i.e. after guard acknowledged it.
"""

from __future__ import annotations

import asyncio
import sys

from guard import Guard, GuardConfig


async def main(database: str) -> None:
    config = GuardConfig(product={"risk": "high"}, telemetry={"database": database},
                         models={"default": "openai/primary-model", "max_attempts": 1, "timeout_s": 10})
    guard = Guard(config, layers=[], confidence=lambda signals: 0.2)  # every answer is low tier: held
    held: list[str] = []
    n = 0
    while True:
        reply = await guard.acomplete([{"role": "user", "content": f"question {n}"}])
        print(f"held {reply.guard.review.id}", flush=True)
        held.append(reply.guard.review.id)
        if n % 2:
            decided = await guard.adecide(held.pop(0), "approved", reviewer="worker")
            print(f"decided {decided.id} {decided.status}", flush=True)
        n += 1


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
