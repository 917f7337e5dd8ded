"""Ship a trained support model: fp16 weights, thresholds and calibration chosen on ``select``.

    python -m guard.training.export --run /path/to/train-run --data ../shared/data --out params/ [--step N]

Takes the checkpoint ``best.json`` names (the best mean ``select`` AUROC), stores it as fp16
safetensors in ``OUT/support-minilm/`` (copied to ``guard/verify/models/`` of a source checkout to ship it),
scores the ``select`` half of the held-out split with it exactly as guard does (contradicted specifics
capped), and writes

- ``support.json`` beside the weights: the threshold per risk level (``guard.verify.thresholds``),
  what the model reads, and provenance;
- the support slope and intercept into ``OUT/confidence.json`` (Platt scaling, files weighted equally);
  the other signals keep their documented priors.

The ``report`` half is left for ``benchmarks/verify_heldout.py``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from guard.verify import contradictions
from guard.training.fit import data_fingerprint
from guard.training.outputs import current, write
from guard.verify.calibration import fit_platt
from guard.training.splits import SELECT, load_rows
from guard.verify.support_model import PARAMS_FILE, SupportModelVerifier
from guard.verify.thresholds import choose, file_weights
from guard.training.train import held_out_rows

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def export_weights(checkpoint: Path, target: Path) -> None:
    """The checkpoint's weights in fp16 (half the size; the verifier computes in fp32) and its tokenizer."""
    from guard.training.scorer import SupportScorer

    model = SupportScorer.load(checkpoint)
    if target.exists():
        shutil.rmtree(target)
    model.save(target, half=True)
    for name in TOKENIZER_FILES:
        if (checkpoint / name).exists():
            shutil.copy(checkpoint / name, target / name)


def scored(verifier: SupportModelVerifier, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # noqa: ANN001
    """Capped support scores of rows (the whole response as one claim), labels, files."""
    raw = verifier.predict([(r.response, list(r.sources)) for r in rows], [r.question for r in rows])
    capped = contradictions.capped(raw, [(r.response, r.sources) for r in rows])
    return np.array(capped), np.array([r.faithful for r in rows]), np.array([r.file for r in rows])


def write_support_calibration(out: Path, verifier: str, calibration: dict[str, float], why: str, command: str,
                              data: dict[str, str], precision: str | None = None) -> None:
    """A verifier's support slope and intercept in ``params/confidence.json`` (``guard.confidence``): the top-level
    ones for the default verifier at the default precision, ``support_by_verifier`` for the others (keyed
    ``<verifier>-<precision>`` when fitted on another precision's scores); the other signals keep theirs."""
    from guard.config import SupportConfig
    from guard.confidence import precision_key

    default = SupportConfig()
    if precision not in (None, default.precision):
        verifier = precision_key(verifier, precision)
    confidence = json.loads(current(out, "confidence.json").read_text())
    if verifier == default.verifier:
        confidence["intercept"] = calibration["intercept"]
        confidence["signals"]["support"] = {"slope": calibration["slope"], "fitted": True, "why": why}
    else:
        confidence.setdefault("support_by_verifier", {})[verifier] = {**calibration, "why": why}
    provenance = confidence.setdefault("provenance", {})
    provenance["support"] = {**provenance.get("support", {}), verifier: {"command": command, "data": data}}
    write(out, "confidence.json", confidence)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, required=True, help="the --out folder of guard.training.train")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--step", type=int, help="export this checkpoint instead of the best one")
    parser.add_argument("--out", type=Path, required=True, help="params folder: the model goes into its "
                        "support-minilm/, the support calibration into its confidence.json")
    args = parser.parse_args(argv)

    train_args = json.loads((args.run / "args.json").read_text())
    best = json.loads((args.run / "best.json").read_text())
    step = args.step or best["step"]
    target = args.out / "support-minilm"
    export_weights(args.run / "checkpoints" / f"step-{step}", target)
    (target / PARAMS_FILE).write_text(json.dumps({"max_length": train_args["max_length"],
                                                  "thresholds": {"medium": {"threshold": 0.5}}}))

    rows = held_out_rows(load_rows(args.data), train_args["seed"])[SELECT]
    select = [r for file_rows in rows.values() for r in file_rows]
    verifier = SupportModelVerifier(target)
    scores, faithful, files = scored(verifier, select)
    thresholds = choose(scores, faithful, files)
    calibration = fit_platt(scores, faithful, file_weights(files))
    params = {
        "max_length": train_args["max_length"],
        "thresholds": thresholds,
        "chosen_on": {"split": "select", "rows": {f: int((files == f).sum()) for f in sorted(set(files.tolist()))}},
        "provenance": {"command": "python -m guard.training.train " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in train_args.items() if v not in (None, 0) and k != "out"),
            "checkpoint_step": step, "select_auroc_mean": best.get("score") if step == best["step"] else None,
            "data": data_fingerprint(args.data)},
    }
    if train_args.get("init"):  # went on from a trained model: keep how that one was made
        started = json.loads((Path(train_args["init"]) / PARAMS_FILE).read_text()).get("provenance")
        params["provenance"]["started_from"] = started
    (target / PARAMS_FILE).write_text(json.dumps(params, indent=2))
    write_support_calibration(args.out, "support_model", calibration, "Platt scaling of the support model's capped scores on the held-out "
                              "select split, files weighted equally", "python -m guard.training.export",
                              params["provenance"]["data"])
    print(json.dumps({"thresholds": thresholds, "calibration": calibration}, indent=2))


if __name__ == "__main__":
    main()
