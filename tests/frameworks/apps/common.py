"""What every framework app shares: the questions, the tool, the output schema and how results are reported.

The apps run in the frameworks' own virtualenv (``.venv-frameworks``), never in guard's: each is a small
program written as a user of that framework would write it, pointed at ``guard serve`` by its base URL
(first argument). It prints one JSON object: for each path (plain, stream, tools, structured) the answer
the framework returned, the verdict guard gave it (read through ``guard.verdicts.VerdictLog`` unless the
framework shows it itself) or the error the framework raised.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from guard.verdicts import VerdictLog

MODEL = "gpt-4o-mini"
QUESTION = "How long do refunds take?"
ORDER_QUESTION = "Can I still return order LL-1234?"
API_KEY = "sk-app-frameworks"


class RefundAnswer(BaseModel):
    """How long a refund takes."""

    days: int
    summary: str


def lookup_order(order_id: str) -> str:
    """Look up an order's delivery status by its id."""
    return json.dumps({"order_id": order_id, "status": "delivered 12 days ago", "opened": False})


def base_url() -> str:
    return sys.argv[1].rstrip("/") + "/v1"


def run(paths: dict[str, Callable[[VerdictLog], Any]]) -> None:
    """Run each path with a fresh VerdictLog and print the results as one JSON line."""
    results: dict[str, Any] = {}
    for name, path in paths.items():
        log = VerdictLog()
        try:
            answer = path(log)
            if inspect.iscoroutine(answer):
                answer = asyncio.run(answer)
            verdict = log.last
            results[name] = {"answer": answer if isinstance(answer, (str, dict, type(None))) else str(answer),
                             "verdict": None if verdict is None else verdict.model_dump(mode="json"),
                             "verdicts": len(log), "error": None}
        except Exception as exc:  # noqa: BLE001 - reported to the test, which says what went wrong
            results[name] = {"answer": None, "verdict": None, "verdicts": len(log),
                             "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()[-2000:]}
    print(json.dumps(results))
