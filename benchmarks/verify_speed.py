"""How fast ``Guard.check`` verifies an answer on sources it has never seen.

    python benchmarks/verify_speed.py [--checks 40] [--callers 1] [--json out.json]

Each check is a ~200-token answer (WiCE claims, eight or so sentences) against 5 sources of
about 100 words (sentences of WiCE cited pages: long, real web evidence), all new to the
process: nothing is cached from an earlier check. Models are loaded and warmed first (a
server does that once at start). Reports p50/p90 latency and checks per second, one at a
time (or ``--callers`` at once), on this machine's cores, with the CPU time a check took (all threads).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import guard.evals  # noqa: E402
from guard.config import load_config  # noqa: E402
from guard.pipeline import Guard  # noqa: E402
from guard.threads import onnx_threads, single_threaded_blas  # noqa: E402

ANSWER_WORDS = 150  # ~200 word pieces
SOURCE_WORDS = 100
SOURCES = 5


def wice_rows() -> list[dict]:
    path = Path(guard.evals.__file__).parent / "suites" / "data" / "wice_dev_claims.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def cases(rows: list[dict], count: int) -> list[tuple[str, list[str]]]:
    """(answer, sources) pairs in which no claim and no source sentence comes back: every check is first sight.

    WiCE lists each claim about three times (with different evidence); a claim is used once, and a
    source sentence once, so nothing of a check is in any cache from an earlier one, and an answer
    never repeats a sentence (which would cost less than a real answer).
    """
    built, i = [], 0
    used_claims: set[str] = set()
    used_sentences: set[str] = set()
    while len(built) < count and i < len(rows):
        sentences, claims = [], []
        while i < len(rows) and (sum(len(s.split()) for s in sentences) < SOURCES * SOURCE_WORDS
                                 or sum(len(c.split()) for c in claims) < ANSWER_WORDS):
            row = rows[i]
            i += 1
            if row["response"] in used_claims:
                continue
            used_claims.add(row["response"])
            claims.append(row["response"])
            fresh = [s for s in dict.fromkeys(row["sources"]) if s not in used_sentences]
            used_sentences.update(fresh)
            sentences += fresh
        sources, current = [], []
        for sentence in sentences:
            current.append(sentence)
            if sum(len(s.split()) for s in current) >= SOURCE_WORDS:
                sources.append(" ".join(current))
                current = []
            if len(sources) == SOURCES:
                break
        answer, words = [], 0
        for claim in claims:
            if words >= ANSWER_WORDS:
                break
            answer.append(claim)
            words += len(claim.split())
        built.append((" ".join(answer), sources))
    return built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=40)
    parser.add_argument("--verifier", help="support.verifier to measure (default: the configured one)")
    parser.add_argument("--precision", choices=["fp32", "int8"], help="support.precision (default: the configured one)")
    parser.add_argument("--callers", type=int, default=1, help="threads calling Guard.check at once")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    single_threaded_blas()  # as guard serve does

    settings = {"telemetry": {"enabled": False}}
    support = {"verifier": args.verifier, "precision": args.precision}
    if any(support.values()):
        settings["support"] = {k: v for k, v in support.items() if v}
    guard = Guard(load_config(**settings))
    all_cases = cases(wice_rows(), args.checks + 2)
    for answer, sources in all_cases[:2]:  # load and warm the models
        guard.check(answer, sources)
    def timed(case: tuple[str, list[str]]) -> tuple[float, Any]:
        t0 = time.perf_counter()
        meta = guard.check(*case)
        return (time.perf_counter() - t0) * 1000, meta

    load = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(args.callers) as callers:
        results = list(callers.map(timed, all_cases[2:]))
    wall = time.perf_counter() - started
    timings = [ms for ms, _ in results]
    layers: dict[str, list[float]] = {}
    for _, meta in results:
        for name, report in meta.layers.items():
            if report.status == "ok":
                layers.setdefault(name, []).append(report.ms)
    result = {"verifier": guard.config.support.verifier, "precision": guard.config.support.precision,
              "checks": len(timings), "callers": args.callers,
              "p50_ms": round(statistics.median(timings), 1),
              "p90_ms": round(statistics.quantiles(timings, n=10)[-1], 1),
              "checks_per_second": round(len(timings) / wall, 2),
              # every thread of the process (model threads included), per check
              "cpu_ms_per_check": round(1000 * (time.process_time() - cpu_started) / len(timings), 1),
              "layer_p50_ms": {name: round(statistics.median(ms), 1) for name, ms in layers.items()},
              "cores": os.cpu_count(), "model_threads": onnx_threads(),
              "load_avg": [round(load, 2), round(os.getloadavg()[0], 2)]}  # before and after: a busy machine shows
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
