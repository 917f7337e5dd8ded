"""The packaged MiniLM on ONNX Runtime against sentence-transformers' torch, on what a check really encodes.

    python benchmarks/encoder_speed.py [--checks 12] [--rounds 2]

The texts are those of ``verify_speed.py``'s first-sight checks (claims, their clauses and the
source sentences, ~1,200 word pieces a check), encoded with ``Embedder.encode_tokens`` as the
verifier does, one model thread for both (``OMP_NUM_THREADS=1`` unless set). Rounds alternate the two runtimes so a change in the machine's
load lands on both. Reports p50 per check and ms per word piece.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # the runtimes compared on the same thread count

from benchmarks.verify_speed import cases, wice_rows  # noqa: E402
from guard.embeddings import Embedder  # noqa: E402
from guard.verify.features import _evidence, claim_parts  # noqa: E402
from guard.verify.text import split_sentences  # noqa: E402


def check_texts(answer: str, sources: list[str]) -> list[str]:
    claims = split_sentences(answer)
    parts = [p for claim in claims for p in claim_parts(claim)]
    return list(dict.fromkeys(claims + parts + _evidence(sources).sentences))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    onnx = Embedder()
    if onnx._onnx is None:
        raise SystemExit("ONNX Runtime is not available here: nothing to compare")
    runtimes = {"onnx": onnx, "torch": Embedder(onnx=False)}
    checks = [check_texts(a, s) for a, s in cases(wice_rows(), args.checks + 1)]
    tokens = [sum(len(e.ids) for e in onnx._onnx.tokenize(texts)) for texts in checks[1:]]
    for embedder in runtimes.values():
        embedder.encode_tokens(checks[0])  # warm
    timings: dict[str, list[float]] = {name: [] for name in runtimes}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, embedder in runtimes.items():
            for texts in checks[1:]:
                t0 = time.perf_counter()
                embedder.encode_tokens(texts)
                timings[name].append(time.perf_counter() - t0)
    result = {name: {"check_p50_ms": round(1000 * statistics.median(ts), 1),
                     "ms_per_word_piece": round(1000 * sum(ts) / (args.rounds * sum(tokens)), 3)}
              for name, ts in timings.items()}
    result["word_pieces_per_check_p50"] = statistics.median(tokens)
    result["torch_over_onnx"] = round(result["torch"]["ms_per_word_piece"] / result["onnx"]["ms_per_word_piece"], 2)
    result["load_avg"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
