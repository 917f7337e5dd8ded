"""The shipped support model against the previous offline verifier, per file, on the held-out ``report`` split.

    python benchmarks/verify_heldout.py --data ../shared/data [--limit 600] [--json out.json]

The split is ``guard.verify.splits`` (grouped by source document, seed 0): the model never
trained on these rows, and neither thresholds nor calibration nor combination weights were
chosen on them (those used the ``select`` half). Figures are development figures all the
same: the files come from the distributions the model trained on. Caution for the old
verifier: it was fitted on all of ``wice_dev_claims`` and ``halueval_qa``, so its figures on
those two files are optimistic.

Arms, each scoring the whole response against its sources as one claim:
- ``offline``: the previous default (MiniLM features + boosted trees), threshold 0.5;
- ``model``: the cross-encoder alone;
- ``model+specifics``: with contradicted/invented specifics capped (what guard ships);
- ``combined``: logistic regression of both verifiers' logits and the contradiction flag,
  fitted on ``select`` (to decide whether combining helps).

AUROC ranks hallucinated above faithful by ``1 - support``; balanced accuracy at the
threshold each arm would use (the shipped medium-risk threshold for the model arms).
95 % intervals: percentile bootstrap over rows, 1,000 resamples, seed 0.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from guard.evals.metrics import Undefined, auroc, balanced_accuracy, bootstrap_intervals  # noqa: E402
from guard.verify import contradictions  # noqa: E402
from guard.verify.calibration import logit  # noqa: E402
from guard.verify.offline import OfflineVerifier  # noqa: E402
from guard.verify.splits import REPORT, SELECT, Row, load_rows  # noqa: E402
from guard.verify.support_model import SupportModelVerifier  # noqa: E402
from guard.verify.train import held_out_rows  # noqa: E402


def score_rows(rows: list[Row], model: SupportModelVerifier, offline: OfflineVerifier) -> dict[str, np.ndarray]:
    pairs = [(r.response, list(r.sources)) for r in rows]
    raw = np.array(model.predict(pairs, [r.question for r in rows]))
    flagged = np.array([bool(contradictions.find(r.response, list(r.sources))) for r in rows])
    return {"model": raw, "flag": flagged, "model+specifics": np.where(flagged, np.minimum(raw, contradictions.CONTRADICTED_SUPPORT), raw),
            "offline": np.asarray(offline.probabilities(pairs), dtype=float),
            "faithful": np.array([r.faithful for r in rows]), "file": np.array([r.file for r in rows])}


def combine_features(s: dict[str, np.ndarray]) -> np.ndarray:
    return np.column_stack([logit(s["model"]), logit(s["offline"]), s["flag"].astype(float)])


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
    parser.add_argument("--model", type=Path, help="a support model folder (weights + support.json); default: shipped")
    parser.add_argument("--no-combine", action="store_true", help="skip the combined arm (scores the select split)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression

    held = held_out_rows(load_rows(args.data), args.seed)
    model, offline = SupportModelVerifier(args.model), OfflineVerifier()
    threshold = model.threshold("medium")
    started = time.perf_counter()
    combiner = None
    if not args.no_combine:
        select = score_rows([r for rows in held[SELECT].values() for r in rows[: args.limit]], model, offline)
        weights = np.array([1.0 / (select["file"] == f).sum() for f in select["file"]])
        combiner = LogisticRegression(C=1.0).fit(combine_features(select), select["faithful"], sample_weight=weights)
    results: dict[str, dict] = {}
    for file, rows in sorted(held[REPORT].items()):
        s = score_rows(rows[: args.limit], model, offline)
        offline_specifics = np.where(s["flag"], np.minimum(s["offline"], contradictions.CONTRADICTED_SUPPORT), s["offline"])
        results[file] = {"rows": len(rows[: args.limit]), "hallucinated": int((~s["faithful"]).sum()),
                         "offline": metrics(s["faithful"], s["offline"], 0.5),
                         "offline+specifics": metrics(s["faithful"], offline_specifics, offline.threshold("medium")),
                         "model": metrics(s["faithful"], s["model"], threshold),
                         "model+specifics": metrics(s["faithful"], s["model+specifics"], threshold),
                         "flagged_by_specifics": round(float(s["flag"].mean()), 4)}
        if combiner is not None:
            results[file]["combined"] = metrics(s["faithful"], combiner.predict_proba(combine_features(s))[:, 1], 0.5)
        print(file, json.dumps(results[file]), flush=True)
    print(table(results, threshold))
    print(f"scored in {time.perf_counter() - started:.0f} s on {os.cpu_count()} cores")
    if args.json:
        combined = None if combiner is None else {"coef": combiner.coef_[0].tolist(),
                                                  "intercept": float(combiner.intercept_[0])}
        args.json.write_text(json.dumps({"threshold_medium": threshold, "combiner": combined, "files": results},
                                        indent=2))


def table(results: dict[str, dict], threshold: float) -> str:
    def cell(m: dict | None) -> str:
        if m is None:
            return "-"
        ci = m["ci95"]
        return f"{m['value']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{m['value']}"

    arms = ("offline", "offline+specifics", "model", "model+specifics", "combined")
    lines = ["| file | rows | " + " | ".join(f"AUROC {a}" for a in arms) + " | bal. acc. offline @0.5 | "
             f"bal. acc. model+specifics @{threshold:.2f} |", "|---" * (len(arms) + 4) + "|"]
    for file, r in results.items():
        lines.append(f"| {file} | {r['rows']} | " + " | ".join(cell((r.get(a) or {}).get("auroc")) for a in arms)
                     + f" | {cell(r['offline']['balanced_accuracy'])} | {cell(r['model+specifics']['balanced_accuracy'])} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
