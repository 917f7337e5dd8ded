"""BM25 side at scale: SQLite FTS5 insert rate and query latency p50/p99 at 10k, 100k and 1M chunks.

Chunks are synthetic: 80 words drawn from a Zipf-distributed 30,000-word
vocabulary (so common words are very common, as in prose), and one chunk in
fifty quotes an error code. Queries are what grounding sends: a question of
4 to 8 words, a third of them with an error code. Runs the knowledge base's
own schema, triggers and query builder; vectors are left empty.

    python -m benchmarks.kb_lexical
    python -m benchmarks.kb_lexical --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from guard.kb import lexical
from guard.kb.store import Chunk, Store

VOCABULARY = 30_000
BATCH = 50_000


def words(rng: np.random.Generator, n: int) -> list[str]:
    ranks = np.minimum(rng.zipf(1.2, n), VOCABULARY)
    return [f"w{r}" for r in ranks]


def chunk_text(rng: np.random.Generator, number: int) -> str:
    text = " ".join(words(rng, 80))
    return text + f" Error ERR-{number:06d} means the request failed." if number % 50 == 0 else text


def fill(store: Store, size: int, rng: np.random.Generator) -> float:
    """Insert ``size`` chunks in batches; returns chunks per second."""
    t0 = time.perf_counter()
    for start in range(0, size, BATCH):
        count = min(BATCH, size - start)
        path = f"/bench/doc_{start}.md"
        chunks = [Chunk(id=f"doc_{start}.md#c{i}", title=f"Document {start}", heading="", text=chunk_text(rng, start + i),
                        path=path, start=0, end=0) for i in range(count)]
        with store.write() as writer:
            file_id = writer.save_file(path, f"doc_{start}.md", "hash", "bench", 0, time.time())
            writer.insert_chunks({path: file_id}, chunks, np.zeros((count, 0), dtype=np.float32))
    return size / (time.perf_counter() - t0)


def queries(rng: np.random.Generator, size: int, n: int) -> list[str]:
    out = []
    for i in range(n):
        question = " ".join(words(rng, int(rng.integers(4, 9))))
        if i % 3 == 0:
            question += f" ERR-{int(rng.integers(0, size // 50)) * 50:06d}"
        out.append(question)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()

    print("| chunks | insert chunks/s | p50 ms | p99 ms | code queries: code chunk first |")
    print("|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        rng = np.random.default_rng(size)
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "chunks.sqlite3")
            rate = fill(store, size, rng)
            asked = queries(rng, size, args.queries)
            times, found, with_code = [], 0, 0
            for question in asked:
                t0 = time.perf_counter()
                hits = lexical.search(store, question, 40)
                times.append((time.perf_counter() - t0) * 1000)
                if "ERR-" in question:
                    with_code += 1
                    code = question.rsplit("ERR-", 1)[1]
                    top = store.chunks([hits[0][0]]) if hits else {}
                    found += any(f"ERR-{code}" in chunk.text for chunk, _ in top.values())
            store.close()
        ms = np.array(times)
        print(f"| {size:>9,} | {rate:,.0f} | {np.percentile(ms, 50):.2f} | {np.percentile(ms, 99):.2f} "
              f"| {found}/{with_code} |", flush=True)


if __name__ == "__main__":
    main()
