"""How well and how fast guard's offline verification tells faithful answers from hallucinated ones.

    python benchmarks/verify_quality.py --data ../shared/data [--speed-rows 100] [--speed-only] [--json out.json]

Quality is held out (the same protocol as ``python -m guard.training.fit``): 5-fold
grouped cross-validation within each labelled file, synthetic pairs only from
training folds, plus fitting on the other file only. Beside it, the trivial floors:
answer length alone and plain MiniLM max cosine. Speed is ``Guard.check`` end to
end (support + citations layers, confidence, tier) on this machine, on sources it
has not seen before (cold) and again (warm: encodings cached).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from guard.config import load_config  # noqa: E402
from guard.embeddings import DEFAULT_MODEL  # noqa: E402
from guard.pipeline import Guard  # noqa: E402
from guard.verify import fit  # noqa: E402
from guard.training.data import Example, load_dir  # noqa: E402
from guard.verify.encoder import TextEncoder  # noqa: E402


def quality(data: dict[str, list[Example]]) -> dict[str, dict]:
    encoder = TextEncoder(DEFAULT_MODEL, cache_size=1_000_000)
    held_out, _ = fit.report([fit.featurize(name, rows, encoder) for name, rows in data.items()])
    return held_out


def speed(data: dict[str, list[Example]], rows: int) -> dict[str, dict]:
    guard = Guard(load_config(telemetry={"enabled": False}))
    guard.check("Warm up.", ["Warm up the model."])
    result = {}
    for name, examples in data.items():
        sample = examples[:rows]
        timings = {}
        for run in ("cold", "warm"):
            started = time.perf_counter()
            for e in sample:
                guard.check(e.response, e.sources, question=e.question)
            timings[run] = len(sample) / (time.perf_counter() - started)
        result[name] = {"rows": len(sample), "checks_per_second_cold": timings["cold"],
                        "checks_per_second_warm": timings["warm"]}
    return result


def table(held_out: dict[str, dict]) -> str:
    lines = ["| file | protocol | AUROC | bal. acc. @0.5 | F1 halluc. | ECE | length AUROC | MiniLM cos AUROC |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in held_out.items():
        if name == "pooled":
            lines.append(f"| all files | cross_validated | | | | {r['ece']:.3f} | | |")
            continue
        for protocol in ("cross_validated", "fitted_on_other_files"):
            if protocol not in r:
                continue
            m, f = r[protocol], r["floors"]
            ece = f"{m['ece']:.3f}" if "ece" in m else "-"
            lines.append(f"| {name} | {protocol} | {m['auroc']:.3f} | {m['balanced_accuracy']:.3f} | "
                         f"{m['f1_hallucinated']:.3f} | {ece} | {f['length_auroc']:.3f} | {f['minilm_max_cosine_auroc']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--speed-rows", type=int, default=100, help="examples per file timed through Guard.check")
    parser.add_argument("--speed-only", action="store_true", help="skip the held-out quality run (~10 min)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    data = load_dir(args.data)
    timings = speed(data, args.speed_rows)  # first, while no encoding is cached
    held_out = {} if args.speed_only else quality(data)
    if held_out:
        print(table(held_out))
    for name, t in timings.items():
        print(f"{name}: {t['checks_per_second_cold']:.2f} checks/s cold, {t['checks_per_second_warm']:.1f} warm "
              f"({t['rows']} rows, {os.cpu_count()} cores)")
    if args.json:
        args.json.write_text(json.dumps({"held_out": held_out, "speed": timings}, indent=2))


if __name__ == "__main__":
    main()
