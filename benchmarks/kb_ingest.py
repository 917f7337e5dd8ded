"""Ingest throughput with the real MiniLM embedder, and end-to-end hybrid search latency.

The corpus is real prose: the HaluEval knowledge paragraphs from
``shared/data/halueval_qa.jsonl``, written as Markdown files of sections
(one paragraph a section), plus the sample knowledge base in ``examples/kb``.
Queries are HaluEval's questions. Each search is what the grounding layer
does per request: embed the question, dense + BM25 candidates, fusion, and
the metadata fetch.

    python -m benchmarks.kb_ingest
    python -m benchmarks.kb_ingest --files 100 --per-file 20
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from guard.config import KnowledgeBaseConfig
from guard.embeddings import get_embedder
from guard.kb import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "halueval_qa.jsonl"


def load_corpus(path: Path) -> tuple[list[str], list[str]]:
    """Unique knowledge paragraphs and the questions asked about them."""
    if not path.exists():
        raise SystemExit(f"{path} not found; pass --data with the HaluEval QA JSON Lines file")
    paragraphs: dict[str, None] = {}
    questions: dict[str, None] = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        for source in row["sources"]:
            paragraphs[source] = None
        questions[row["question"]] = None
    return list(paragraphs), list(questions)


def write_docs(folder: Path, paragraphs: list[str], files: int, per_file: int) -> int:
    folder.mkdir(parents=True)
    written = 0
    for n in range(files):
        part = paragraphs[n * per_file:(n + 1) * per_file]
        if not part:
            break
        sections = "\n\n".join(f"## Topic {n}.{i}\n\n{text}" for i, text in enumerate(part))
        (folder / f"doc_{n:04d}.md").write_text(f"# Reference {n}\n\n{sections}\n")
        written += len(part)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--per-file", type=int, default=20)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    paragraphs, questions = load_corpus(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        write_docs(docs, paragraphs, args.files, args.per_file)
        sources = [docs, ROOT / "examples" / "kb"] if (ROOT / "examples" / "kb").is_dir() else [docs]
        config = KnowledgeBaseConfig(path=Path(tmp) / "kb")

        t0 = time.perf_counter()
        get_embedder(config.embedding_model).encode(["warm up"])
        print(f"embedder load: {time.perf_counter() - t0:.1f} s")

        kb = KnowledgeBase.open(config)
        report = kb.add(sources)
        files = len(report.added)
        print(f"ingest: {files} files, {report.chunks_added} chunks in {report.seconds:.1f} s "
              f"= {report.chunks_added / report.seconds:.1f} chunks/s (chunk_size={config.chunk_size}, "
              f"overlap={config.chunk_overlap})")

        texts = [h.chunk.text for h in kb.search("reference", k=min(200, report.chunks_added))]
        t0 = time.perf_counter()
        get_embedder(config.embedding_model).encode(texts)
        embed_rate = len(texts) / (time.perf_counter() - t0)
        print(f"embedding alone: {embed_rate:.1f} chunks/s (MiniLM, batch 64, {len(texts)} chunks)")

        again = kb.add(sources)
        print(f"re-adding {len(again.unchanged)} unchanged files: {again.seconds * 1000:.0f} ms")

        latencies = []
        for question in questions[:args.queries]:
            t0 = time.perf_counter()
            kb.search(question, k=4, min_relevance=0.3)
            latencies.append((time.perf_counter() - t0) * 1000)
        ms = np.array(latencies)
        print(f"hybrid search over {kb.stats().chunks} chunks, {len(ms)} queries: "
              f"p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms")
        kb.close()


if __name__ == "__main__":
    main()
