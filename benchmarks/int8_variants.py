"""How ONNX Runtime's int8 quantization options trade CPU against score drift, on both MiniLM graphs.

    python -m benchmarks.int8_variants --data ../shared/data [--limit 60] [--checks 15]

Each variant quantizes both graphs (dynamic quantization of the matrix products) with its options, scores every
factual claim of ``--limit`` held-out ``select`` answers per file with the trees and the cross-encoder, and
reports how far their scores move from fp32 (mean and 95th percentile of |Δp|, correlation of log-odds) and the
p50 time of a first-sight ``Guard.check`` (``verify_speed``'s cases; the figures in benchmarks/README.md were taken on one model thread, the default then). guard ships
``per_channel`` (``guard.onnx_encoder.quantized``); the other variants are here to show why.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

LAYERS = range(6)
VARIANTS: dict[str, dict] = {
    "per_tensor": {},
    "per_channel": {"per_channel": True},
    "per_channel, FFN output of layers 0-1 in fp32": {
        "per_channel": True, "nodes_to_exclude": [f"/model/encoder/layer.{i}/output/dense/MatMul" for i in (0, 1)]},
    "per_channel, every FFN output in fp32": {
        "per_channel": True, "nodes_to_exclude": [f"/model/encoder/layer.{i}/output/dense/MatMul" for i in LAYERS]},
}


@contextmanager
def quantized_with(options: dict) -> Iterator[None]:
    """guard's in-memory quantization, with these options in place of its own, and fresh models."""
    import onnxruntime.quantization as quantization

    from guard import embeddings

    original = quantization.quantize_dynamic

    def variant(model_input, model_output, **kwargs):  # noqa: ANN001, ANN202 - quantize_dynamic's own
        return original(model_input, model_output, **{**kwargs, "per_channel": False, **options})

    quantization.quantize_dynamic = variant
    embeddings._embedder.cache_clear()
    try:
        yield
    finally:
        quantization.quantize_dynamic = original
        embeddings._embedder.cache_clear()


def claim_scores(verifier, claims: list[tuple[int, str, list[str], str | None]]) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    pairs = [(c, s) for _, c, s, _ in claims]
    trees = np.asarray(verifier.offline.probabilities(pairs))
    model = np.asarray(verifier.model.predict(pairs, [q for *_, q in claims]))
    return trees, model


def check_p50(verifier, checks: int) -> float:  # noqa: ANN001
    from benchmarks.verify_speed import cases, wice_rows
    from guard.verify import split_claims

    def one(answer: str, sources: list[str]) -> None:
        verifier.probabilities([(c.text, sources) for c in split_claims(answer)])

    built = cases(wice_rows(), checks + 2)
    for answer, sources in built[:2]:
        one(answer, sources)
    timings = []
    for answer, sources in built[2:]:
        t0 = time.perf_counter()
        one(answer, sources)
        timings.append((time.perf_counter() - t0) * 1000)
    return statistics.median(timings)


def drift(reference: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    moved = np.abs(scores - reference)
    clip = lambda p: np.clip(p, 1e-6, 1 - 1e-6)  # noqa: E731
    logit = lambda p: np.log(clip(p) / (1 - clip(p)))  # noqa: E731
    return {"mean_abs": round(float(moved.mean()), 4), "p95_abs": round(float(np.quantile(moved, 0.95)), 4),
            "logit_corr": round(float(np.corrcoef(logit(reference), logit(scores))[0, 1]), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--limit", type=int, default=60, help="select answers per file")
    parser.add_argument("--checks", type=int, default=15, help="timed checks per variant")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from benchmarks.verify_answers import claim_rows
    from guard.threads import single_threaded_blas
    from guard.training.splits import SELECT, load_rows
    from guard.training.train import held_out_rows
    from guard.verify.combined import CombinedVerifier

    single_threaded_blas()
    held = held_out_rows(load_rows(args.data), seed=0)[SELECT]
    claims = [c for rows in held.values() for c in claim_rows(rows[: args.limit])]
    fp32 = CombinedVerifier(int8=False)
    reference = claim_scores(fp32, claims)
    results = {"fp32": {"check_p50_ms": round(check_p50(fp32, args.checks), 1)}}
    print(json.dumps({"claims": len(claims), "fp32": results["fp32"]}), flush=True)
    for name, options in VARIANTS.items():
        with quantized_with(options):
            verifier = CombinedVerifier(int8=True)
            trees, model = claim_scores(verifier, claims)
            results[name] = {"check_p50_ms": round(check_p50(verifier, args.checks), 1),
                             "trees": drift(reference[0], trees), "cross_encoder": drift(reference[1], model)}
        print(json.dumps({name: results[name]}), flush=True)
    print(json.dumps({"load_avg": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
