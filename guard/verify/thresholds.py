"""Choosing the operating point that turns a support score into "unsupported", per risk level.

Chosen on held-out development data, each file weighing the same (a large file must not pick the
threshold for all): at low and medium risk the threshold of the best balanced accuracy; at high
and critical risk the lowest threshold that still flags at least 90 % of unsupported answers, so a
person sees nearly every bad one at the price of more false alarms.
"""

from __future__ import annotations

import numpy as np

HIGH_RISK_RECALL = 0.9
RULES = {
    "low": "max balanced accuracy",
    "medium": "max balanced accuracy",
    "high": f"recall of unsupported >= {HIGH_RISK_RECALL}",
    "critical": f"recall of unsupported >= {HIGH_RISK_RECALL}",
}


def read_thresholds(params: dict) -> dict[str, float]:
    """The threshold per risk level stored in a verifier's parameters by ``choose``."""
    return {risk: float(spec["threshold"]) for risk, spec in params.get("thresholds", {}).items()}


def answer_threshold(threshold: float, claims: np.ndarray | int, exponent: float) -> np.ndarray | float:
    """The per-claim threshold in an answer of ``claims`` factual claims: ``threshold * claims ** -exponent``.

    Each claim is one more chance to flag a faithful answer by mistake, so the claims of a long answer are
    held to a lower bar (exponent 0: every claim to the same one). The exponent is chosen with the thresholds
    (``guard.verify.operating_points``).
    """
    return threshold * np.power(np.maximum(claims, 1), -exponent)


def file_weights(files: np.ndarray) -> np.ndarray:
    """1/size of each row's file, so every file counts the same."""
    names, counts = np.unique(files, return_counts=True)
    size = dict(zip(names.tolist(), counts.tolist()))
    return np.array([1.0 / size[f] for f in files.tolist()])


def _rates(scores: np.ndarray, faithful: np.ndarray, weights: np.ndarray, threshold: float) -> tuple[float, float]:
    """(recall of unsupported, recall of supported) when ``score < threshold`` means unsupported."""
    flagged = scores < threshold
    bad, good = ~faithful, faithful
    return (float(weights[bad & flagged].sum() / weights[bad].sum()),
            float(weights[good & ~flagged].sum() / weights[good].sum()))


def candidates(scores: np.ndarray) -> np.ndarray:
    """Midpoints between distinct scores (and the ends): every distinct decision the data allows."""
    distinct = np.unique(scores)
    return np.concatenate([[0.0], (distinct[1:] + distinct[:-1]) / 2, [1.0]]) if distinct.size > 1 else distinct


def best_balanced_accuracy(scores: np.ndarray, faithful: np.ndarray, weights: np.ndarray) -> float:
    options = candidates(scores)
    accuracy = [sum(_rates(scores, faithful, weights, t)) / 2 for t in options]
    return float(options[int(np.argmax(accuracy))])


def lowest_with_recall(scores: np.ndarray, faithful: np.ndarray, weights: np.ndarray, recall: float) -> float:
    for t in candidates(scores):
        if _rates(scores, faithful, weights, t)[0] >= recall:
            return float(t)
    return 1.0


def choose(scores: np.ndarray, faithful: np.ndarray, files: np.ndarray) -> dict[str, dict]:
    """``{risk: {threshold, rule, recall_unsupported, recall_supported}}`` on the given held-out rows."""
    scores, faithful = np.asarray(scores, dtype=float), np.asarray(faithful, dtype=bool)
    weights = file_weights(np.asarray(files))
    balanced = best_balanced_accuracy(scores, faithful, weights)
    strict = lowest_with_recall(scores, faithful, weights, HIGH_RISK_RECALL)
    chosen = {"low": balanced, "medium": balanced, "high": max(strict, balanced), "critical": max(strict, balanced)}
    result = {}
    for risk, threshold in chosen.items():
        bad, good = _rates(scores, faithful, weights, threshold)
        result[risk] = {"threshold": round(threshold, 4), "rule": RULES[risk],
                        "recall_unsupported": round(bad, 4), "recall_supported": round(good, 4)}
    return result


def main(argv: list[str] | None = None) -> None:
    """Choose the offline verifier's thresholds on the ``select`` split and write them into its parameters.

    Only rows the verifier was not fitted on are used: every file's ``select`` half when it was fitted
    on the split's training side (``guard.verify.fit --split``), else only the ``train/`` files.
    """
    import argparse
    import json
    from pathlib import Path

    from guard.verify import contradictions
    from guard.verify.offline import PARAMS_FILE, OfflineVerifier, params_path
    from guard.verify.splits import SELECT, load_rows
    from guard.verify.train import held_out_rows

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=150, help="select rows per file")
    parser.add_argument("--params", type=Path, default=None, help="offline parameters (default: shipped)")
    args = parser.parse_args(argv)
    path = args.params or params_path(PARAMS_FILE)
    params = json.loads(path.read_text())
    on_split = bool(params.get("provenance", {}).get("split"))
    held = held_out_rows(load_rows(args.data), seed=0)[SELECT]
    rows = [r for file, file_rows in sorted(held.items()) if on_split or file.startswith("train/")
            for r in file_rows[: args.rows]]
    verifier = OfflineVerifier(path)
    raw = verifier.probabilities([(r.response, list(r.sources)) for r in rows])
    scores = np.array(contradictions.capped(raw, [(r.response, r.sources) for r in rows]))
    chosen = choose(scores, np.array([r.faithful for r in rows]), np.array([r.file for r in rows]))
    params["thresholds"] = chosen
    params["thresholds_chosen_on"] = {"split": "select (seed 0)", "files": sorted({r.file for r in rows}),
                                      "rows": len(rows), "command": "python -m guard.verify.thresholds"}
    path.write_text(json.dumps(params))
    print(json.dumps(chosen, indent=2))


if __name__ == "__main__":
    main()
