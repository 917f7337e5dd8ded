"""What recording costs: the work on the request path, and how fast the background writer drains.

Request path (per answer): building the ``RequestRecord`` from the request
state, counting it in the Prometheus metrics, and queueing it for the writer.
Off the path: the writer's throughput in rows per second, batched (the default
200 per transaction) and one row per transaction, on a SQLite file and, when a
URL is given, on PostgreSQL. Nothing here is asserted; figures depend on the disk.

    python -m benchmarks.record_cost [--rows 20000] [--postgres postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from guard.config import GuardConfig
from guard.metadata import (
    UX,
    Citation,
    GuardMetadata,
    GuardUsage,
    LatencyMs,
    LayerReport,
)
from guard.metrics import GuardMetrics
from guard.pii import Redactor
from guard.records import request_record
from guard.state import RequestState, Source
from guard.store import open_store
from guard.store.writer import RecordWriter

ANSWER = "Refunds take 30 days from delivery [1]. Opened items can be returned within 14 days [2]."


def sample_state(config: GuardConfig) -> tuple[RequestState, GuardMetadata]:
    """A typical verified answer: four layers, two citations, token counts and costs."""
    state = RequestState(request_id="gr_" + uuid.uuid4().hex[:24], config=config, model="openai/bench",
                         messages=[{"role": "user", "content": "How long do refunds take?"}])
    state.answer, state.served_model = ANSWER, "openai/bench"
    state.sources = [Source(id=f"refunds.md#{i}", text="Refunds take 30 days." * 5, title="Refunds") for i in (1, 2)]
    state.signals = {"retrieval": 0.81, "support": 0.64, "citations": 0.5}
    state.layers = {name: LayerReport(status="ok", ms=3.2) for name in ("grounding", "support", "citations", "consistency")}
    state.citations = [Citation(marker=f"[{i}]", source_id=f"refunds.md#{i}", supports=True, score=0.9) for i in (1, 2)]
    state.usage.add(120, 40, 0.0004)
    state.usage.model_ms = 800.0
    meta = GuardMetadata(request_id=state.request_id, model="openai/bench", confidence=0.72, tier="medium",
                         ux=UX(border_color="#f39c12", icon="info", disclaimer=None, suggested_actions=[]),
                         signals=state.signals, citations=state.citations, layers=state.layers,
                         usage=GuardUsage(latency_ms=LatencyMs(total=830.0, model=800.0, guard=30.0)))
    return state, meta


def per_call_us(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """Median and p99 of one call, in microseconds, over ``n`` calls."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e6)
    times.sort()
    return statistics.median(times), times[int(0.99 * (n - 1))]


def request_path(rows: int, database: str) -> list[tuple[str, float, float]]:
    config = GuardConfig()
    state, meta = sample_state(config)
    redactor, metrics = Redactor(config), GuardMetrics()
    store = open_store(database)
    writer = RecordWriter(store, queue_size=rows * 2)
    record = request_record(state, started=time.perf_counter(), streamed=False, question="How long?", meta=meta,
                            redactor=redactor)
    queued = iter([record.model_copy(update={"request_id": "gr_" + uuid.uuid4().hex}) for _ in range(rows)])
    results = [
        ("build the record", *per_call_us(lambda: request_record(
            state, started=0.0, streamed=False, question="How long do refunds take?", meta=meta, redactor=redactor), rows)),
        ("metrics.observe", *per_call_us(lambda: metrics.observe(record), rows)),
        ("writer.submit (queue; writer draining)", *per_call_us(lambda: writer.submit(next(queued)), rows)),
    ]
    writer.close(timeout=120)
    store.close()
    return results


def throughput(database: str, rows: int, batch_size: int) -> float:
    """Rows per second the writer commits, from the first submit to the last commit."""
    store = open_store(database)
    writer = RecordWriter(store, queue_size=rows + 1, batch_size=batch_size)
    state, meta = sample_state(GuardConfig())
    base = request_record(state, started=0.0, streamed=False, question="How long?", meta=meta, redactor=Redactor(GuardConfig()))
    records = [base.model_copy(update={"request_id": f"gr_{uuid.uuid4().hex}"}) for _ in range(rows)]
    t0 = time.perf_counter()
    for rec in records:
        writer.submit(rec)
    writer.close(timeout=600)
    elapsed = time.perf_counter() - t0
    store.close()
    return rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--postgres", default=os.environ.get("GUARD_TEST_POSTGRES_URL"),
                        help="a PostgreSQL URL to measure too (default: GUARD_TEST_POSTGRES_URL)")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = str(Path(tmp) / "bench.db")
        path = Table("on the request path", "median µs", "p99 µs", title=f"Recording cost per answer ({args.rows} calls)")
        for name, median, p99 in request_path(args.rows, sqlite):
            path.add_row(name, f"{median:.1f}", f"{p99:.1f}")
        console.print(path)

        backends = [("SQLite file (WAL, synchronous=FULL)", str(Path(tmp) / "throughput.db"))]
        if args.postgres:
            backends.append(("PostgreSQL", args.postgres))
        drain = Table("store", "batched (200/tx) rows/s", "1 row/tx rows/s", title="Background writer throughput")
        for name, database in backends:
            batched = throughput(database, args.rows, 200)
            single = throughput(database, max(args.rows // 20, 200), 1)  # one fsync per row: slow
            drain.add_row(name, f"{batched:,.0f}", f"{single:,.0f}")
        console.print(drain)


if __name__ == "__main__":
    main()
