"""Request records reach the store from a background thread, so a slow or broken store never slows an answer.

Records wait in a bounded in-memory queue and are written in batches. When the
store is away (``StoreUnavailable``) the batch is retried, before anything queued
after it, with backoff. When the database refuses the data itself (a value out of
range, a constraint), retrying cannot help: the batch is split in halves until the
one refused record is found, which is kept in the store's dead letters (or, if even
that fails, logged with its id) while the rest are written. Every failure is logged
and counted. Only when the queue is full are new records turned away, and each of
those is counted and logged too.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from guard.errors import StoreUnavailable
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
        on_writer = threading.current_thread() is self._thread  # a finalizer may run on the writer's own thread
        flushed = self.flush(0 if on_writer else timeout)
        with self._cond:
            self._closing = True
            self._stop.set()
            lost = len(self._pending) + self._in_flight
            self._cond.notify_all()
        if lost:
            self._on_failure(lost, "shutdown")
            log.error("records_lost_at_shutdown", records=lost)
        if not on_writer:
            self._thread.join(timeout=1.0)
        return flushed

    def _run(self) -> None:
        delay = 0.0
        chunks: list[list[RequestRecord]] = []  # prepared, not committed yet: what failed is retried as it is
        while not self._stop.is_set():
            if not chunks:
                taken = self._take()
                if taken is None:
                    return
                chunks = [self._prepared(taken)]
            chunk = chunks[0]
            try:
                self._write(chunk)
            except StoreUnavailable as exc:  # the database is away or busy: the same rows, once it is back
                delay = min(max(delay * 2, self._backoff[0]), self._backoff[1])
                self._on_failure(len(chunk), type(exc).__name__)
                log.warning("record_write_failed", records=len(chunk), retry_in_s=round(delay, 3),
                            error=f"{type(exc).__name__}: {exc}")
                self._stop.wait(delay)
                continue
            except Exception as exc:  # noqa: BLE001 - refused data: trying again would block every record after it
                half = len(chunk) // 2
                chunks[0:1] = [chunk[:half], chunk[half:]]  # one row is to blame: write the rest without it
                log.warning("record_batch_refused", records=len(chunk), error=_reason(exc))
                continue
            delay = 0.0
            chunks.pop(0)
            if not chunks:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()

    def _write(self, chunk: list[RequestRecord]) -> None:
        """Commit ``chunk``; a single record the database refuses goes to the dead letters instead.

        Raises ``StoreUnavailable`` when the store is away, anything else when a batch was refused.
        """
        if len(chunk) != 1:
            self._store.write_requests(chunk)
            return
        (record,) = chunk
        try:
            self._store.write_requests(chunk)
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - this very record is refused, whatever the reason
            self._on_failure(1, "refused")
            log.error("record_refused", request_id=record.request_id, error=_reason(exc))
            try:
                self._store.write_dead_letter("request", record.request_id, record.model_dump_json(), _reason(exc))
            except StoreUnavailable:
                raise
            except Exception as dead:  # noqa: BLE001 - the log line above is then all that is left of it
                log.error("record_dropped", request_id=record.request_id, reason="dead_letter_refused",
                          error=_reason(dead))

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


def _reason(exc: BaseException) -> str:
    """The database's own message, without the statement and parameters SQLAlchemy appends (user text)."""
    return f"{type(exc).__name__}: {getattr(exc, 'orig', None) or exc}"[:2000]
