"""Knowledge base backends side by side: local (faiss + SQLite) and PostgreSQL (pgvector), on the same chunks.

For each backend: ingest throughput (chunks/s through the backend's own write
path, vectors given: embedding is the same cost for both and left out), hybrid
search latency p50/p99 (dense + full-text, fused, as grounding runs it, one
query at a time), and recall@10 of the dense side against exact search.

Chunks are synthetic: 384-d vectors around cluster centres (``kb_index``'s
generator) and texts of words from a 5,000-word vocabulary, 100 chunks a
document. Queries are held-out vectors with two words of their nearest chunk.
The PostgreSQL side runs on a private server from the ``pgserver`` wheel
(PostgreSQL 16, pgvector 0.6.2, default settings) unless ``--database`` names one.
faiss runs on one thread, as one PostgreSQL backend process does. 50 queries
warm each side up before the timed ones (caches; on PostgreSQL, the page reads
after a fresh index build).

    python -m benchmarks.kb_backends --chunks 100000      # ~8 min on 2 busy cores
    python -m benchmarks.kb_backends --chunks 10000       # a quick look
    python -m benchmarks.kb_backends --chunks 1000000 --backends postgres --build-memory 4GB  # each side alone
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import faiss
import numpy as np

from benchmarks.kb_index import recall_at, synthetic_vectors
from guard.config import KnowledgeBaseConfig
from guard.kb import pg_schema
from guard.kb.backend import Backend, DocumentVersion
from guard.kb.knowledge_base import open_backend
from guard.kb.retrieval import hybrid_search
from guard.kb.store import Chunk

PER_DOCUMENT = 100
VOCABULARY = 5_000
WORDS = 40
WARM_UP = 50  # queries run before the timed ones


def documents(vectors: np.ndarray, seed: int) -> tuple[list[DocumentVersion], list[str]]:
    rng = np.random.default_rng(seed)
    texts = [" ".join(f"w{n}" for n in rng.integers(0, VOCABULARY, WORDS)) for _ in range(len(vectors))]
    versions = []
    for start in range(0, len(vectors), PER_DOCUMENT):
        doc = start // PER_DOCUMENT
        path = f"/bench/doc{doc}.md"
        chunks = [Chunk(id=f"doc{doc}.md#c{n - start}", title=f"Document {doc}", heading="", text=texts[n],
                        path=path, start=0, end=len(texts[n])) for n in range(start, min(start + PER_DOCUMENT, len(vectors)))]
        versions.append(DocumentVersion(path, f"doc{doc}.md", f"hash{doc}", "bench", 0, chunks,
                                        vectors[start:start + len(chunks)]))
    return versions, texts


def exact_top10(queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The 10 nearest chunks of each query by exact inner product, best first (in blocks: 1M x 200 is large)."""
    out = []
    for start in range(0, len(queries), 20):
        scores = queries[start:start + 20] @ vectors.T
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        out.append(np.take_along_axis(top, order, axis=1))
    return np.vstack(out)


def chunk_number(chunk_id: str) -> int:
    doc, n = chunk_id.removeprefix("doc").split(".md#c")
    return int(doc) * PER_DOCUMENT + int(n)


def measure(backend: Backend, versions: list[DocumentVersion], queries: np.ndarray, query_texts: list[str],
            exact: np.ndarray) -> dict:
    started = time.perf_counter()
    backend.commit(versions, [], backend.generation())
    ingest_s = time.perf_counter() - started
    chunks = sum(len(v.chunks) for v in versions)
    for vector, text in zip(queries[:WARM_UP], query_texts):  # caches warm, and the server's post-load work done
        hybrid_search(text, vector, backend, k=10, min_relevance=0.0)
    times, found = [], []
    for vector, text in zip(queries, query_texts):
        t0 = time.perf_counter()
        hybrid_search(text, vector, backend, k=10, min_relevance=0.0)
        times.append((time.perf_counter() - t0) * 1000)
        rows = [row for row, _ in backend.dense(vector, 10)]
        by_row = backend.chunks(rows, vector)
        found.append([chunk_number(by_row[row][0].id) for row in rows if row in by_row])
    found_padded = np.array([f + [-1] * (10 - len(f)) for f in found])
    return {"chunks": chunks, "ingest_s": round(ingest_s, 1), "ingest_chunks_per_s": round(chunks / ingest_s),
            "p50_ms": round(float(np.percentile(times, 50)), 2), "p99_ms": round(float(np.percentile(times, 99)), 2),
            "recall_at_10": round(recall_at(10, found_padded, exact), 3), "index": backend.figures().index}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database", help="a postgresql:// URL with pgvector (default: a private pgserver)")
    parser.add_argument("--backends", nargs="+", default=["local", "postgres"], choices=["local", "postgres"])
    parser.add_argument("--build-memory", help="maintenance_work_mem for the HNSW build (default "
                        f"{pg_schema.BUILD_MEMORY}; the 1M graph needs ~4GB to be built in memory)")
    parser.add_argument("--out", type=Path, help="also write each backend's results as JSON here, as it finishes")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    if args.build_memory:
        pg_schema.BUILD_MEMORY = args.build_memory

    vectors = synthetic_vectors(args.chunks, seed=1)
    queries = synthetic_vectors(args.queries, seed=2)
    exact = exact_top10(queries, vectors)
    versions, texts = documents(vectors, seed=3)
    query_texts = [" ".join(texts[row[0]].split()[:2]) for row in exact]

    work = Path(tempfile.mkdtemp(prefix="guard-kb-backends-"))
    server = None
    database = args.database
    if database is None and "postgres" in args.backends:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver
        server = pgserver.get_server(work / "pgdata", cleanup_mode="delete")
        database = server.get_uri()
    results = {}
    try:
        configs = {"local": lambda: KnowledgeBaseConfig(path=work / "kb"),
                   "postgres": lambda: KnowledgeBaseConfig(backend="postgres", database=database,
                                                           name=f"bench-{uuid.uuid4().hex[:8]}")}
        for name in args.backends:
            backend = open_backend(configs[name]())
            try:
                results[name] = measure(backend, versions, queries, query_texts, exact)
            finally:
                backend.close()
            print(name, json.dumps(results[name]), flush=True)
            if args.out:
                args.out.write_text(json.dumps(results, indent=2))
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n| backend | chunks | index | ingest | chunks/s | hybrid p50 ms | hybrid p99 ms | dense recall@10 |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['chunks']:,} | {r['index']} | {r['ingest_s']} s | {r['ingest_chunks_per_s']:,} | "
              f"{r['p50_ms']} | {r['p99_ms']} | {r['recall_at_10']} |")


if __name__ == "__main__":
    main()
