"""The start-up warm-up of the served guard's models, and what ``/readyz`` says about it.

The app's lifespan starts it (``server.warm_up``, on by default) in a daemon
thread, so the server accepts connections at once: ``/healthz`` answers
throughout, ``/readyz`` is 503 ("warming up models") until the models are
loaded. A daemon thread rather than the loop's executor: a shutdown during the
warm-up does not wait for a model load to finish.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

WARMING = "warming up"


class WarmUp:
    """Runs ``run`` once, in a thread.

    ``status``: ``disabled``, ``not started`` (no lifespan ran), ``warming up``, ``ok`` or ``failed ...``.
    """

    def __init__(self, run: Callable[[], Any] | None, log: Any):
        self._run, self._log = run, log
        self.status = "disabled" if run is None else "not started"
        self._thread: threading.Thread | None = None

    @property
    def warming(self) -> bool:
        return self.status == WARMING

    def start(self) -> None:
        if self._run is None or self._thread is not None:
            return
        self.status = WARMING
        self._thread = threading.Thread(target=self._work, name="guard-warm-up", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        assert self._run is not None
        started = time.perf_counter()
        try:
            report = self._run()
        except Exception as exc:  # noqa: BLE001 - the server serves on; the request path loads lazily
            self._log.error("warm_up_failed", error=f"{type(exc).__name__}: {exc}",
                            ms=round((time.perf_counter() - started) * 1000, 2))
            self.status = f"failed ({type(exc).__name__}): models load on first use"
            return
        failed = sorted(name for name, r in (report or {}).items() if getattr(r, "status", None) == "error")
        # Guard.warm_up has logged each failed layer already.
        self.status = f"failed for {', '.join(failed)}: they load on first use" if failed else "ok"
