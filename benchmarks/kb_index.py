"""Dense index at scale: build time, query latency p50/p99 and HNSW recall@10 against exact search.

Synthetic 384-d normalised vectors (MiniLM's shape) drawn around 2,000 cluster
centres, so neighbourhoods have structure as real embeddings do; uniformly
random vectors would make every approximate index look worse than it is on
text. Queries come from the same distribution but are not in the index.

Runs the knowledge base's own ``VectorIndex`` (faiss ``IndexIDMap2`` over
``IndexFlatIP`` or ``IndexHNSWFlat``), one query at a time as the grounding
layer sends them.

    python -m benchmarks.kb_index                       # 10k, 100k, 1M (the 1M HNSW build takes minutes)
    python -m benchmarks.kb_index --sizes 10000 100000  # quicker
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np

from guard.config import KnowledgeBaseConfig
from guard.kb.index import VectorIndex

DIM = 384
CENTRES = 2_000


def synthetic_vectors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).standard_normal((CENTRES, DIM)).astype(np.float32)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks, to keep the temporaries small at 1M
        stop = min(n, start + 100_000)
        out[start:stop] = centres[rng.integers(0, CENTRES, stop - start)]
        out[start:stop] += 0.9 * rng.standard_normal((stop - start, DIM)).astype(np.float32)
    faiss.normalize_L2(out)
    return out


def latencies_ms(index: VectorIndex, queries: np.ndarray, k: int, ef_search: int,
                 threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-query latency, and the ids found for each query."""
    faiss.omp_set_num_threads(threads)
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        hits = index.search(q, k, ef_search)
        times.append((time.perf_counter() - t0) * 1000)
        found.append([i for i, _ in hits])
    return np.array(times), np.array(found)


def recall_at(k: int, approximate: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a[:k]) & set(e[:k])) / k for a, e in zip(approximate, exact)]))


def build(ids: np.ndarray, vectors: np.ndarray, config: KnowledgeBaseConfig, threads: int) -> tuple[VectorIndex, float]:
    faiss.omp_set_num_threads(threads)
    t0 = time.perf_counter()
    index = VectorIndex.build(ids, vectors, config)
    return index, time.perf_counter() - t0


def run(size: int, queries: np.ndarray, args: argparse.Namespace) -> None:
    vectors = synthetic_vectors(size, seed=size)
    ids = np.arange(1, size + 1, dtype=np.int64)
    settings = {"hnsw_m": args.m, "hnsw_ef_construction": args.ef_construction}

    exact, exact_build = build(ids, vectors, KnowledgeBaseConfig(exact_search_max=size, **settings), args.build_threads)
    exact_ms, truth = latencies_ms(exact, queries, args.k, 0, args.search_threads)
    print(f"| {size:>9,} | exact (IndexFlatIP) | {exact_build:7.1f} s | {np.percentile(exact_ms, 50):7.2f} "
          f"| {np.percentile(exact_ms, 99):7.2f} | 1.000 (reference) |", flush=True)
    del exact

    hnsw, hnsw_build = build(ids, vectors, KnowledgeBaseConfig(exact_search_max=size - 1, **settings),
                             args.build_threads)
    del vectors
    for ef in args.ef_search:
        hnsw_ms, found = latencies_ms(hnsw, queries, args.k, ef, args.search_threads)
        print(f"| {size:>9,} | HNSW M={args.m} efC={args.ef_construction} efS={ef} | {hnsw_build:7.1f} s "
              f"| {np.percentile(hnsw_ms, 50):7.2f} | {np.percentile(hnsw_ms, 99):7.2f} "
              f"| {recall_at(args.k, found, truth):.3f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--m", type=int, default=KnowledgeBaseConfig().hnsw_m)
    parser.add_argument("--ef-construction", type=int, default=KnowledgeBaseConfig().hnsw_ef_construction)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[64, KnowledgeBaseConfig().hnsw_ef_search, 256])
    parser.add_argument("--build-threads", type=int, default=2, help="OpenMP threads while building")
    parser.add_argument("--search-threads", type=int, default=1,
                        help="OpenMP threads while searching (one query at a time: one thread is fastest)")
    args = parser.parse_args()

    queries = synthetic_vectors(args.queries, seed=12345)
    print(f"faiss {faiss.__version__}; build threads {args.build_threads}, search threads {args.search_threads}; "
          f"{args.queries} queries, k={args.k}")
    print("| chunks | index | build | p50 ms | p99 ms | recall@10 vs exact |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in args.sizes:
        run(size, queries, args)


if __name__ == "__main__":
    main()
