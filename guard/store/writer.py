"""Request records reach the store from a background thread, so a slow or broken store never slows an answer.

Records wait in a bounded in-memory queue and are written in batches. When a
write fails the batch is retried, before anything queued after it, with
backoff; every failure is logged and counted. Only when the queue is full are
new records turned away, and each of those is counted and logged too.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from guard.logs import get_logger
from guard.store.models import RequestRecord
from guard.store.store import Store

log = get_logger()

OnFailure = Callable[[int, str], None]  # (records affected, reason), e.g. GuardMetrics.store_write_failed
Prepare = Callable[[RequestRecord], RequestRecord]  # e.g. PII redaction: too slow for the event loop


class RecordWriter:
    """Owns one daemon thread; ``submit`` is cheap and never blocks, ``flush``/``close`` wait for the backlog.

    After the first record of a batch arrives the writer lingers up to ``linger_s`` for more, so a
    busy server commits (and fsyncs) once per batch rather than once per answer.

    ``prepare`` turns each record into what is stored (e.g. redacts it) in the writer's thread,
    once per record, before its first write attempt.
    """

    def __init__(self, store: Store, *, queue_size: int = 10_000, batch_size: int = 200,
                 on_failure: OnFailure | None = None, backoff_initial_s: float = 0.05, backoff_max_s: float = 5.0,
                 prepare: Prepare | None = None, linger_s: float = 0.05):
        self._store = store
        self._linger_s = linger_s
        self._prepare = prepare
        self._queue_size = queue_size
        self._batch_size = batch_size
        self._on_failure = on_failure or (lambda n, reason: None)
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._pending: deque[RequestRecord] = deque()
        self._in_flight = 0
        self._closing = False
        self._cond = threading.Condition()
        self._stop = threading.Event()  # cuts a retry backoff short at close
        self._thread = threading.Thread(target=self._run, name="guard-record-writer", daemon=True)
        self._thread.start()

    def submit(self, record: RequestRecord) -> bool:
        """Queue one record; False (counted and logged) when the queue is full or the writer closed."""
        with self._cond:
            if self._closing or len(self._pending) + self._in_flight >= self._queue_size:
                reason = "closed" if self._closing else "queue_full"
            else:
                self._pending.append(record)
                if len(self._pending) == 1 or len(self._pending) >= self._batch_size:
                    self._cond.notify_all()  # the writer waits for a first record or a full batch, not each one
                return True
        self._on_failure(1, reason)
        log.error("record_dropped", request_id=record.request_id, reason=reason, queue_size=self._queue_size)
        return False

    @property
    def backlog(self) -> int:
        """Records not yet committed (queued or being written)."""
        with self._cond:
            return len(self._pending) + self._in_flight

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record submitted so far is committed; False when ``timeout`` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending or self._in_flight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout: float | None = 10.0) -> bool:
        """Write what is queued (waiting at most ``timeout``), then stop; what is left is logged as lost."""
        flushed = self.flush(timeout)
        with self._cond:
            self._closing = True
            self._stop.set()
            lost = len(self._pending) + self._in_flight
            self._cond.notify_all()
        if lost:
            self._on_failure(lost, "shutdown")
            log.error("records_lost_at_shutdown", records=lost)
        self._thread.join(timeout=1.0)
        return flushed

    def _run(self) -> None:
        delay = 0.0
        batch: list[RequestRecord] | None = None  # prepared, not committed yet: a failed batch is retried as it is
        while not self._stop.is_set():
            if batch is None:
                taken = self._take()
                if taken is None:
                    return
                batch = self._prepared(taken)
            try:
                self._store.write_requests(batch)
            except Exception as exc:  # noqa: BLE001 - the writer must outlive any store failure
                delay = min(max(delay * 2, self._backoff[0]), self._backoff[1])
                self._on_failure(len(batch), type(exc).__name__)
                log.warning("record_write_failed", records=len(batch), retry_in_s=round(delay, 3),
                            error=f"{type(exc).__name__}: {exc}")
                self._stop.wait(delay)
                continue
            delay, batch = 0.0, None
            with self._cond:
                self._in_flight = 0
                self._cond.notify_all()

    def _take(self) -> list[RequestRecord] | None:
        """The next records to write, once there are some; None when the writer is closing."""
        with self._cond:
            while not self._pending and not self._closing:
                self._cond.wait()
            deadline = time.monotonic() + self._linger_s
            while len(self._pending) < self._batch_size and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            if self._closing:
                return None
            taken = [self._pending.popleft() for _ in range(min(self._batch_size, len(self._pending)))]
            self._in_flight = len(taken)
            return taken

    def _prepared(self, records: list[RequestRecord]) -> list[RequestRecord]:
        """``prepare`` applied to each record; one it fails on is dropped (counted, logged), never stored as it was."""
        if self._prepare is None:
            return records
        prepared = []
        for record in records:
            try:
                prepared.append(self._prepare(record))
            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the writer
                self._on_failure(1, "prepare_failed")
                log.error("record_dropped", request_id=record.request_id, reason="prepare_failed",
                          error=type(exc).__name__)
        return prepared
