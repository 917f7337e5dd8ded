"""Nothing kept forever: records and review items past their retention are deleted by a background thread.

``telemetry.retention_days`` covers request records, their feedback and refused records;
``review.retention_days`` covers review items that ended (decided or expired) with their
history, sent events and any held answer's text as written that was never delivered
(``pii_handling: redact``). Pending items are never purged: a held draft exists nowhere else.
Deletes go in batches, each its own short transaction, so serving never waits on a purge.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from guard.config import GuardConfig
from guard.logs import get_logger
from guard.store import Store, utcnow

log = get_logger()


def purge(store: Store, *, records_before: datetime | None = None,
          reviews_before: datetime | None = None) -> dict[str, int]:
    """Delete records and ended review items older than the given times; how many of each went."""
    deleted = {"records": 0, "reviews": 0}
    if records_before is not None:
        deleted["records"] = store.purge_records(records_before)
    if reviews_before is not None:
        deleted["reviews"] = store.purge_reviews(reviews_before)
    return deleted


def purge_past_retention(store: Store, config: GuardConfig, now: datetime | None = None) -> dict[str, int]:
    """``purge`` with the cut-offs the configured retentions give at ``now``."""
    now = now or utcnow()
    records, reviews = config.telemetry.retention_days, config.review.retention_days
    return purge(store, records_before=None if records is None else now - timedelta(days=records),
                 reviews_before=None if reviews is None else now - timedelta(days=reviews))


class Purger:
    """Runs ``purge_past_retention`` at start and every ``telemetry.purge_interval_s`` in a daemon thread.

    Without a retention configured it starts nothing. A failed purge is logged and tried at the next interval.
    """

    def __init__(self, store: Store, config: GuardConfig):
        self._store, self._config = store, config
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if config.telemetry.retention_days is not None or config.review.retention_days is not None:
            self._thread = threading.Thread(target=self._run, name="guard-purge", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deleted = purge_past_retention(self._store, self._config)
            except Exception as exc:  # noqa: BLE001 - the thread must outlive a store that is away for a while
                log.warning("purge_failed", error=f"{type(exc).__name__}: {exc}")
            else:
                if any(deleted.values()):
                    log.info("purged", **deleted)
            self._stop.wait(self._config.telemetry.purge_interval_s)
