"""The background writer: batched, retried when the store fails, counted when it must turn records away."""

from __future__ import annotations

import threading

from guard.errors import StoreUnavailable
from guard.store.writer import RecordWriter
from tests.store.conftest import record


class FlakyStore:
    """Fails the first ``failures`` writes, then keeps what it is given."""

    def __init__(self, failures: int = 0, gate: threading.Event | None = None):
        self.failures = failures
        self.gate = gate
        self.rows: list = []
        self.batches = 0

    def write_requests(self, rows):
        if self.gate is not None:
            self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("database is locked")
        self.batches += 1
        self.rows += rows


def writer_for(store, **kw):
    failures: list[tuple[int, str]] = []
    writer = RecordWriter(store, on_failure=lambda n, reason: failures.append((n, reason)),
                          backoff_initial_s=0.001, backoff_max_s=0.01, **kw)
    return writer, failures


def test_submitted_records_reach_the_store_in_batches(store):
    writer, failures = writer_for(store, batch_size=50)
    for n in range(120):
        writer.submit(record(f"gr_{n}"))

    assert writer.flush(timeout=30)

    assert len(store.requests_between(record().created_at, record().created_at.replace(year=2100))) == 120
    assert failures == []
    writer.close()


def test_a_failing_store_is_retried_counted_and_loses_nothing():
    store = FlakyStore(failures=3)
    writer, failures = writer_for(store)
    for n in range(5):
        writer.submit(record(f"gr_{n}"))

    assert writer.flush(timeout=10)

    assert [r.request_id for r in store.rows] == [f"gr_{n}" for n in range(5)]
    assert len(failures) == 3 and all(reason == "StoreUnavailable" for _, reason in failures)
    writer.close()


def test_a_full_queue_turns_records_away_and_counts_them():
    gate = threading.Event()
    store = FlakyStore(gate=gate)
    writer, failures = writer_for(store, queue_size=2)

    accepted = [writer.submit(record(f"gr_{n}")) for n in range(3)]
    gate.set()
    writer.flush(timeout=10)

    assert accepted == [True, True, False]
    assert failures == [(1, "queue_full")]
    assert len(store.rows) == 2
    writer.close()


def test_close_with_the_store_down_reports_what_is_lost():
    store = FlakyStore(failures=10**9)
    writer, failures = writer_for(store)
    writer.submit(record())

    assert writer.flush(timeout=0.05) is False
    assert writer.close(timeout=0.05) is False

    assert failures[-1] == (1, "shutdown")


def test_prepare_runs_once_per_record_in_the_writer_thread_before_the_write():
    store = FlakyStore(failures=1)
    seen: list[str] = []

    def mask(rec):
        seen.append(threading.current_thread().name)
        return rec.model_copy(update={"answer": "[masked]"})

    writer, _ = writer_for(store, prepare=mask)
    writer.submit(record("gr_1"))

    assert writer.flush(timeout=10)
    assert [r.answer for r in store.rows] == ["[masked]"]
    assert seen == ["guard-record-writer"]  # once, though the first write failed and was retried
    writer.close()


def test_a_record_prepare_fails_on_is_counted_and_never_stored_as_it_was():
    store = FlakyStore()

    def mask(rec):
        if rec.request_id == "gr_bad":
            raise ValueError("cannot redact")
        return rec

    writer, failures = writer_for(store, prepare=mask)
    for request_id in ("gr_1", "gr_bad", "gr_2"):
        writer.submit(record(request_id))

    assert writer.flush(timeout=10)
    assert [r.request_id for r in store.rows] == ["gr_1", "gr_2"]
    assert failures == [(1, "prepare_failed")]
    writer.close()


def test_records_arriving_one_at_a_time_share_one_commit():
    store = FlakyStore()
    writer, _ = writer_for(store, linger_s=0.5)
    for n in range(5):  # a server's answers trickle in: each submit alone would be its own commit (and fsync)
        writer.submit(record(f"gr_{n}"))

    assert writer.flush(timeout=10)

    assert store.batches == 1 and len(store.rows) == 5
    writer.close()


def test_a_record_the_database_refuses_goes_to_the_dead_letters_and_the_rest_are_written(store):
    writer, failures = writer_for(store, linger_s=0.5)
    for n in range(9):  # one batch: the refused record is found in it, not retried forever with the others
        writer.submit(record(f"gr_{n}", prompt_tokens=2**70 if n == 4 else 10))

    assert writer.flush(timeout=30)

    written = store.requests_between(record().created_at, record().created_at.replace(year=2100))
    assert sorted(r.request_id for r in written) == [f"gr_{n}" for n in range(9) if n != 4]
    (dead,) = store.dead_letters()
    assert (dead["kind"], dead["key"]) == ("request", "gr_4")
    assert '"prompt_tokens":1180591620717411303424' in dead["payload"]
    assert failures == [(1, "refused")]
    writer.close()


def test_records_after_a_refused_one_still_reach_the_store(store):
    writer, _ = writer_for(store)
    writer.submit(record("gr_bad", prompt_tokens=2**70))
    assert writer.flush(timeout=30)

    writer.submit(record("gr_next"))
    assert writer.flush(timeout=30)

    assert store.get_request("gr_next") is not None
    writer.close()
