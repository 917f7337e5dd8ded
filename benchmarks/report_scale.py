"""The health report over 1,000,000 records: how long it takes and how much memory it needs.

Builds a SQLite store with ``--records`` requests spread over 30 days (tiers 70/20/10 %, 15 % flagged,
lognormal latencies, prices), the low tier's review items (80 % decided), a 2 % audit sample of the
unflagged answers and feedback on 5 % of them, then runs ``build_report`` over the 30 days in a fresh
process and prints its wall and CPU time (SQLite runs in the process, so its work counts) and peak
resident memory, beside that process's memory before the
report (imports done).

    python -m benchmarks.report_scale                       # 1,000,000 records in /tmp/guard-report-scale.db
    python -m benchmarks.report_scale --records 100000 --database /tmp/small.db
    python -m benchmarks.report_scale --measure-only        # reuse the database built before

The database is built with raw ``sqlite3`` inserts (the store's schema, created by its migrations):
building it is not what is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

UNTIL = datetime(2026, 12, 1, tzinfo=timezone.utc)
DAYS = 30
ANSWER = "Refunds are issued within 14 days of receiving the returned item, to the original payment method."


def build(path: str, n: int, seed: int = 0) -> None:
    """Write ``n`` requests with their reviews and feedback into a fresh store at ``path``."""
    from guard.store import open_store

    if os.path.exists(path):
        os.remove(path)
    open_store(path).close()  # the schema, from the migrations
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    start = UNTIL - timedelta(days=DAYS)
    span = DAYS * 86400
    requests, reviews, feedback = [], [], []
    for i in range(n):
        at = (start + timedelta(seconds=span * i / n)).strftime("%Y-%m-%d %H:%M:%S.%f")  # as the store writes it
        tier = rng.choices(("high", "medium", "low"), (70, 20, 10))[0]
        failed = rng.random() < 0.01
        flagged = not failed and rng.random() < (0.08 if tier == "high" else 0.2 if tier == "medium" else 0.5)
        confidence = {"high": 0.85, "medium": 0.65, "low": 0.35}[tier] + rng.uniform(-0.1, 0.1)
        rid = f"gr_{i:08d}"
        requests.append((
            rid, at, "scale", "openai/gpt-4o-mini", "gpt-4o-mini", 0, None if failed else tier,
            None if failed else confidence, "{}", '{"support": {"status": "ok", "ms": 2.0}}', "[]",
            '[{"text": "14 days", "score": 0.1}]' if flagged else "[]", rng.lognormvariate(6.9, 0.5), 100, 120,
            None if failed else 0.0004, 0.0, "TimeoutError" if failed else None,
            f"rv_{i:08d}" if tier == "low" and not failed else None, "How long do refunds take?", ANSWER, 1))
        if failed:
            continue
        audit = not flagged and rng.random() < 0.02
        if tier == "low" or audit:
            decided = rng.random() < 0.8
            wrong = rng.random() < (0.6 if flagged else 0.05)
            status = ("rejected" if wrong else "approved") if decided else "pending"
            reviews.append((f"rv_{i:08d}", rid, at, "flag", tier, confidence, "gpt-4o-mini", ANSWER, "{}", status,
                            int(audit)))
        if rng.random() < 0.05:
            feedback.append((rid, at, at, rng.choice((1, 1, 1, -1)), rng.random() < 0.7))
        if len(requests) >= 50_000:
            _flush(conn, requests, reviews, feedback)
    _flush(conn, requests, reviews, feedback)
    conn.close()


def _flush(conn: sqlite3.Connection, requests: list, reviews: list, feedback: list) -> None:
    with conn:
        conn.executemany(
            "INSERT INTO requests (request_id, created_at, product, model_requested, model_served, streamed, tier, "
            "confidence, signals, layers, citations, unsupported, latency_total_ms, prompt_tokens, completion_tokens, "
            "cost_usd, verification_cost_usd, error_class, review_id, question, answer, delivered) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", requests)
        conn.executemany(
            "INSERT INTO reviews (id, request_id, created_at, policy, tier, confidence, model, draft, context, status, "
            "audit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", reviews)
        conn.executemany("INSERT INTO feedback (request_id, created_at, updated_at, rating, resolved) "
                         "VALUES (?, ?, ?, ?, ?)", feedback)
    requests.clear()
    reviews.clear()
    feedback.clear()


def measure(path: str) -> dict:
    """Run in its own process: the report's wall time and the process's peak RSS before and after it."""
    from guard.config import GuardConfig
    from guard.report import build_report
    from guard.store import open_store

    store = open_store(path)
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu = time.perf_counter(), time.process_time()
    report = build_report(store, since=UNTIL - timedelta(days=DAYS), until=UNTIL, config=GuardConfig())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store.close()
    return {"requests": report.requests, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "rss_before_mb": round(before_mb),
            "peak_rss_mb": round(peak_mb), "report_added_mb": round(peak_mb - before_mb),
            "hallucination_rate": report.hallucination_rate, "flag_rate": report.flag_rate,
            "summary": report.summary.status, "load_average": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database", default="/tmp/guard-report-scale.db")
    parser.add_argument("--measure-only", action="store_true", help="reuse the database built before")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.database)))
        return
    if not args.measure_only:
        started = time.perf_counter()
        build(args.database, args.records)
        print(f"built {args.records:,} records in {time.perf_counter() - started:.0f} s: {args.database}", flush=True)
    child = subprocess.run([sys.executable, "-m", "benchmarks.report_scale", "--child", "--database", args.database],
                           check=True, capture_output=True, text=True)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
