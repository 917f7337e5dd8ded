"""Fit the blend of the trees and the cross-encoder on the held-out ``select`` split.

    python -m guard.training.fit_blend --data ../shared/data --out params/ [--model FOLDER] [--confidence] [--precision fp32]

Scores the ``select`` rows with both verifiers, fits the blend's three numbers by logistic
regression (files weighted equally; neither verifier trained on these rows), chooses the
threshold per risk level on the blended scores with contradicted specifics capped, as guard
reports them, and writes ``guard/verify/params/combined.json`` (``combined-fp32.json`` with ``--precision fp32``). ``--confidence`` also refits
the support slope and intercept of ``params/confidence.json`` for the blend and for the trees
(``guard.confidence`` picks the configured verifier's). The ``report`` half is left for ``benchmarks/verify_heldout.py``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from guard.config import SupportConfig
from guard.verify.contradictions import cap, find
from guard.verify.combined import PARAMS_FILES, blend
from guard.verify.combined import fit_weights as blend_weights
from guard.training.export import write_support_calibration
from guard.training.outputs import write
from guard.training.fit import data_fingerprint
from guard.verify.calibration import fit_platt
from guard.verify.offline import OfflineVerifier
from guard.training.splits import SELECT, load_rows
from guard.verify.support_model import SupportModelVerifier
from guard.verify.thresholds import choose, file_weights
from guard.training.train import held_out_rows


def fit_weights(offline: np.ndarray, model: np.ndarray, faithful: np.ndarray, files: np.ndarray) -> dict[str, float]:
    """The shipped blend: files weighing the same."""
    return blend_weights(offline, model, faithful, file_weights(files))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, help="support model folder (default: the package's)")
    parser.add_argument("--seed", type=int, default=0, help="the split's seed (as in training)")
    parser.add_argument("--out", type=Path, required=True,
                        help="params folder the blend (combined.json, or combined-fp32.json) is written to")
    parser.add_argument("--confidence", action="store_true", help="also refit the support slopes of confidence.json")
    parser.add_argument("--precision", choices=["int8", "fp32"], default=SupportConfig().precision,
                        help="the graphs the verifiers score with (support.precision; default: the served default)")
    args = parser.parse_args(argv)

    held = held_out_rows(load_rows(args.data), args.seed)[SELECT]
    rows = [r for file_rows in held.values() for r in file_rows]
    faithful = np.array([r.faithful for r in rows])
    files = np.array([r.file for r in rows])
    pairs = [(r.response, list(r.sources)) for r in rows]
    findings = [find(claim, evidence) for claim, evidence in pairs]  # contradicted specifics, capped as guard does

    def capped(raw: np.ndarray) -> np.ndarray:
        return np.array([cap(p, f) for p, f in zip(raw, findings)])

    int8 = args.precision == "int8"
    model = SupportModelVerifier(args.model, int8=int8)
    offline = OfflineVerifier(int8=int8).probabilities(pairs)
    supported = np.asarray(model.predict(pairs, [r.question for r in rows]))
    weights = fit_weights(offline, supported, faithful, files)
    scores = capped(blend(offline, supported, weights))
    params = {
        "weights": weights,
        "thresholds": choose(scores, faithful, files),
        "chosen_on": {"split": "select", "seed": args.seed, "rows": {f: int((files == f).sum()) for f in sorted(set(files))}},
        "provenance": {"command": "python -m guard.training.fit_blend", "support_model": model.params.get("provenance"),
                       "data": data_fingerprint(args.data)},
    }
    write(args.out, PARAMS_FILES[args.precision], params)
    summary = {"weights": weights, "thresholds": params["thresholds"]}
    if args.confidence:  # the blend's calibration, and the trees' on the same rows
        for verifier, verifier_scores in (("combined", scores), ("offline", capped(offline))):
            summary[f"calibration_{verifier}"] = fit_platt(verifier_scores, faithful, file_weights(files))
            write_support_calibration(args.out, verifier, summary[f"calibration_{verifier}"],
                                      f"Platt scaling of the {verifier} verifier's capped scores on the held-out select "
                                      "split, files weighted equally", "python -m guard.training.fit_blend --confidence",
                                      params["provenance"]["data"], args.precision)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
