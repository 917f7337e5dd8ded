"""The shipped support verifiers against the one they replaced, per file, on the held-out ``report`` split.

    python benchmarks/verify_heldout.py --data ../shared/data [--limit 600] [--model FOLDER] [--combined JSON] [--json out.json]

The split is ``guard.training.splits`` (grouped by source document, seed 0): the shipped
verifier never trained on these rows, and neither its thresholds nor its calibration were
chosen on them (those used the ``select`` half). Figures are development figures all the
same: the files come from the distributions it trained on. The baseline
(``benchmarks/baselines/offline-fitted-on-dev-files.json``, the previous default) was fitted
on all of ``wice_dev_claims`` and ``halueval_qa``, so its figures on those two files are optimistic.

Arms, each scoring the whole response against its sources as one claim, alone and with
contradicted/invented specifics capped (``+specifics``, what guard does):
- ``baseline``: the previous offline verifier (fitted on the two development files);
- ``offline``: the offline verifier (``guard/verify/params/offline.json``);
- ``model``: the support model (``guard/verify/models/support-minilm``, or ``--model``);
- ``combined``: the blend of the two, the default (``params/combined.json``, or ``--combined``).

AUROC ranks hallucinated above faithful by ``1 - support``; balanced accuracy at each arm's own
medium-risk threshold. 95 % intervals: percentile bootstrap over rows, 1,000 resamples, seed 0.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from guard.evals.metrics import Undefined, auroc, balanced_accuracy, bootstrap_intervals  # noqa: E402
from guard.verify import contradictions  # noqa: E402
from guard.verify.combined import CombinedVerifier  # noqa: E402
from guard.verify.offline import OfflineVerifier  # noqa: E402
from guard.verify.support_model import SupportModelVerifier  # noqa: E402
from guard.training.splits import REPORT, Row, load_rows  # noqa: E402
from guard.training.train import held_out_rows  # noqa: E402

BASELINE = Path(__file__).parent / "baselines" / "offline-fitted-on-dev-files.json"


def arm_scores(verifier, rows: list[Row]) -> np.ndarray:  # noqa: ANN001 - any verifier with probabilities()
    pairs = [(r.response, list(r.sources)) for r in rows]
    if getattr(verifier, "uses_question", False):
        return np.asarray(verifier.predict(pairs, [r.question for r in rows]), dtype=float)
    return np.asarray(verifier.probabilities(pairs), dtype=float)


def metrics(faithful: np.ndarray, support: np.ndarray, threshold: float) -> dict[str, dict]:
    hallucinated = ~faithful

    def stats(idx: np.ndarray) -> dict:
        return {"auroc": auroc(hallucinated[idx], 1 - support[idx]),
                "balanced_accuracy": balanced_accuracy(hallucinated[idx], support[idx] < threshold)}

    point = stats(np.arange(len(faithful)))
    intervals = bootstrap_intervals(stats, len(faithful))
    return {name: {"value": None if isinstance(v, Undefined) else round(float(v), 4),
                   "ci95": None if isinstance(intervals.get(name), Undefined) or name not in intervals
                   else [round(intervals[name].low, 4), round(intervals[name].high, 4)]}
            for name, v in point.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=600, help="report rows per file at most")
    parser.add_argument("--baseline", type=Path, default=BASELINE, help="offline parameters to compare with")
    parser.add_argument("--offline", type=Path, help="offline parameters to measure (default: shipped)")
    parser.add_argument("--model", type=Path, help="support model folder to measure (default: shipped)")
    parser.add_argument("--combined", type=Path, help="combined.json blending --model with --offline (default: shipped)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    held = held_out_rows(load_rows(args.data), args.seed)
    arms: dict[str, Any] = {"baseline": OfflineVerifier(args.baseline), "offline": OfflineVerifier(args.offline)}
    arms["model"] = SupportModelVerifier(args.model)
    arms["combined"] = CombinedVerifier(args.combined, offline=arms["offline"], model=arms["model"])
    started = time.perf_counter()
    results: dict[str, dict] = {}
    for file, rows in sorted(held[REPORT].items()):
        rows = rows[: args.limit]
        faithful = np.array([r.faithful for r in rows])
        findings = [contradictions.find(r.response, list(r.sources)) for r in rows]
        results[file] = {"rows": len(rows), "hallucinated": int((~faithful).sum()),
                         "flagged_by_specifics": round(sum(map(bool, findings)) / len(rows), 4)}
        for name, verifier in arms.items():
            raw = arm_scores(verifier, rows)
            capped = np.array([contradictions.cap(p, f) for p, f in zip(raw, findings)])
            results[file][name] = metrics(faithful, raw, verifier.threshold("medium"))
            results[file][f"{name}+specifics"] = metrics(faithful, capped, verifier.threshold("medium"))
        print(file, json.dumps(results[file]), flush=True)
    print(table(results, list(arms)))
    print(f"scored in {time.perf_counter() - started:.0f} s on {os.cpu_count()} cores")
    if args.json:
        thresholds = {name: v.threshold("medium") for name, v in arms.items()}
        args.json.write_text(json.dumps({"threshold_medium": thresholds, "files": results}, indent=2))


def table(results: dict[str, dict], names: list[str]) -> str:
    def cell(m: dict | None) -> str:
        if m is None or m["value"] is None:
            return "-"
        ci = m["ci95"]
        return f"{m['value']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{m['value']:.3f}"

    arms = [a for n in names for a in (n, f"{n}+specifics")]
    lines = ["| file | rows | " + " | ".join(f"AUROC {a}" for a in arms) + " | "
             + " | ".join(f"bal. acc. {n}+specifics" for n in names) + " |", "|---" * (len(arms) + len(names) + 2) + "|"]
    for file, r in results.items():
        lines.append(f"| {file} | {r['rows']} | " + " | ".join(cell(r[a]["auroc"]) for a in arms) + " | "
                     + " | ".join(cell(r[f"{n}+specifics"]["balanced_accuracy"]) for n in names) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
