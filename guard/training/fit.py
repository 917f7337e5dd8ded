"""Fit the offline verifier from labelled data; report held-out quality.

    python -m guard.training.fit --data ../shared/data [--split vitaminc=6000,begin=2000,...]

With ``--split``, the trees learn from the training side of the grouped split
(``guard.training.splits``) of the development files and ``train/`` (rows per family as given,
HaluEval and BEGIN length-matched), so ``benchmarks/verify_heldout.py`` can measure them on
the ``report`` half, which no fitted part saw.

Writes ``params/offline.json`` (boosted trees over ``features.FEATURE_NAMES``); its thresholds and its
confidence calibration are then chosen on the ``select`` half (``python -m guard.training.offline_thresholds``,
``python -m guard.training.fit_blend --confidence``). Every figure printed is held
out: cross-validated within each file (grouped, synthetic pairs only from training
folds) and across files (fit on one, test on the other). Needs scikit-learn (dev extra).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from guard.embeddings import DEFAULT_MODEL
from guard.verify.calibration import expected_calibration_error, fit_platt, logit, sigmoid
from guard.training.data import Example, load_dir
from guard.verify.encoder import TextEncoder
from guard.verify.features import FEATURE_NAMES, extract
from guard.training.outputs import write
from guard.training.synthetic import synthesize
from guard.verify.trees import BoostedTrees

SEED = 0
FOLDS = 5
THRESHOLD = 0.5  # class-balanced training puts the decision at 0.5
# HaluEval QA answers are fragments ("Delhi") whose length gives the label away; down-weighted so its
# artefacts do not dominate a verifier meant for full sentences. Synthetic pairs count half a real one.
DATASET_WEIGHT = {"halueval_qa": 0.3}
SYNTHETIC_WEIGHT = 0.5
TREES = dict(max_depth=3, max_iter=150, learning_rate=0.05, l2_regularization=1.0, random_state=SEED)
# More similarity or overlap never lowers support; more missing numbers/names or a negation mismatch never raises it.
MONOTONE = [-1 if name.endswith(("_missing", "_mismatch")) else 1 for name in FEATURE_NAMES]


@dataclass
class Dataset:
    """One labelled file's feature rows and its synthetic pairs (with the example each came from)."""

    name: str
    examples: list[Example]
    X: np.ndarray
    y: np.ndarray
    X_synthetic: np.ndarray
    y_synthetic: np.ndarray
    synthetic_origin: np.ndarray  # index into examples

    @property
    def weight(self) -> float:
        return DATASET_WEIGHT.get(self.name, 1.0)


def featurize(name: str, examples: list[Example], encoder: TextEncoder) -> Dataset:
    faithful = [i for i, e in enumerate(examples) if e.faithful]
    synthetic = synthesize([(examples[i].response, examples[i].sources) for i in faithful], seed=SEED)
    X = extract(encoder, [(e.response, e.sources) for e in examples])
    X_syn = extract(encoder, [(p.claim, p.sources) for p in synthetic])
    return Dataset(name, examples, X, np.array([e.faithful for e in examples]), X_syn,
                   np.array([p.supported for p in synthetic]), np.array([faithful[p.origin] for p in synthetic]))


def _balanced(y: np.ndarray, total: float) -> np.ndarray:
    """Weights summing to ``total``, half on each class, so 0.5 is the balanced decision point."""
    w = np.zeros(len(y))
    for cls in (True, False):
        n = (y == cls).sum()
        if n:
            w[y == cls] = total / 2 / n
    return w


def training_set(parts: list[tuple[Dataset, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the chosen examples of each dataset plus the synthetic pairs made from those examples."""
    X, y, w = [], [], []
    for ds, chosen in parts:
        keep = np.isin(ds.synthetic_origin, chosen)
        for rows, labels, share in ((ds.X[chosen], ds.y[chosen], 1.0),
                                    (ds.X_synthetic[keep], ds.y_synthetic[keep], SYNTHETIC_WEIGHT)):
            if len(labels):
                X.append(rows)
                y.append(labels)
                w.append(_balanced(labels, 1000 * ds.weight * share))
    return np.vstack(X), np.concatenate(y), np.concatenate(w)


def fit_trees(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> BoostedTrees:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(monotonic_cst=MONOTONE, **TREES).fit(X, y, sample_weight=w)
    trees = BoostedTrees.from_dict(export_trees(model))
    assert np.allclose(trees.predict_proba(X), model.predict_proba(X)[:, 1], atol=1e-6), "tree export drifted"
    return trees


def export_trees(model) -> dict:  # noqa: ANN001 - a fitted HistGradientBoostingClassifier
    """The fitted trees as plain lists (scikit-learn keeps them in private predictor objects)."""
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        trees.append({"feature": nodes["feature_idx"].tolist(), "threshold": nodes["num_threshold"].tolist(),
                      "left": nodes["left"].tolist(), "right": nodes["right"].tolist(),
                      "is_leaf": nodes["is_leaf"].astype(bool).tolist(), "value": nodes["value"].tolist()})
    return {"features": list(FEATURE_NAMES), "baseline": float(np.ravel(model._baseline_prediction)[0]), "trees": trees}


def folds(ds: Dataset, k: int = FOLDS) -> list[np.ndarray]:
    """Test indices of k folds, grouped (a HaluEval question's two answers together) and stratified by label."""
    rng = np.random.default_rng(SEED)
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(ds.examples):
        groups.setdefault(e.group, []).append(i)
    order = list(groups.values())
    rng.shuffle(order)
    order.sort(key=lambda g: ds.y[g].mean())  # stable: shuffled within each label mix, then dealt round-robin
    out: list[list[int]] = [[] for _ in range(k)]
    for n, g in enumerate(order):
        out[n % k] += g
    return [np.array(sorted(f)) for f in out]


def out_of_fold(datasets: list[Dataset]) -> dict[str, np.ndarray]:
    """Support probability of every example from a model that never saw it (nor perturbations of it)."""
    splits = {ds.name: folds(ds) for ds in datasets}
    predictions = {ds.name: np.zeros(len(ds.y)) for ds in datasets}
    for k in range(FOLDS):
        parts = [(ds, np.setdiff1d(np.arange(len(ds.y)), splits[ds.name][k])) for ds in datasets]
        model = fit_trees(*training_set(parts))
        for ds in datasets:
            test = splits[ds.name][k]
            predictions[ds.name][test] = model.predict_proba(ds.X[test])
    return predictions


def cross_dataset(datasets: list[Dataset]) -> dict[str, np.ndarray]:
    """Each file scored by a model fitted on the other files only."""
    predictions = {}
    for ds in datasets:
        others = [(o, np.arange(len(o.y))) for o in datasets if o is not ds]
        if others:
            predictions[ds.name] = fit_trees(*training_set(others)).predict_proba(ds.X)
    return predictions


def calibrated_held_out(datasets: list[Dataset], oof: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Confidence for each example from a Platt map fitted on the other folds' out-of-fold scores."""
    out = {ds.name: np.zeros(len(ds.y)) for ds in datasets}
    splits = {ds.name: folds(ds) for ds in datasets}
    for k in range(FOLDS):
        train = [(oof[ds.name][np.setdiff1d(np.arange(len(ds.y)), splits[ds.name][k])],
                  ds.y[np.setdiff1d(np.arange(len(ds.y)), splits[ds.name][k])], ds) for ds in datasets]
        platt = fit_platt(np.concatenate([t[0] for t in train]), np.concatenate([t[1] for t in train]),
                          np.concatenate([np.full(len(t[1]), 1000 / len(t[1])) for t in train]))
        for ds in datasets:
            test = splits[ds.name][k]
            out[ds.name][test] = sigmoid(platt["intercept"] + platt["slope"] * logit(oof[ds.name][test]))
    return out


def metrics(labels: np.ndarray, support: np.ndarray, confidence: np.ndarray | None = None,
            threshold: float = THRESHOLD) -> dict[str, float]:
    """AUROC and balanced accuracy for spotting faithful answers; F1 of the hallucinated class; ECE."""
    from sklearn.metrics import f1_score, roc_auc_score

    predicted = support >= threshold
    recall_faithful = (predicted & labels).sum() / max(labels.sum(), 1)
    recall_hallucinated = (~predicted & ~labels).sum() / max((~labels).sum(), 1)
    out = {"auroc": float(roc_auc_score(labels, support)),
           "balanced_accuracy": float((recall_faithful + recall_hallucinated) / 2),
           "f1_hallucinated": float(f1_score(~labels, ~predicted))}
    if confidence is not None:
        out["ece"] = expected_calibration_error(confidence, labels)
    return out


def floors(ds: Dataset) -> dict[str, float]:
    """What trivial detectors get: answer length alone (shorter = faithful) and plain MiniLM max cosine."""
    from sklearn.metrics import roc_auc_score

    lengths = np.array([len(e.response) for e in ds.examples])
    return {"length_auroc": float(roc_auc_score(ds.y, -lengths)),
            "minilm_max_cosine_auroc": float(roc_auc_score(ds.y, ds.X[:, FEATURE_NAMES.index("sent_max")]))}


def report(datasets: list[Dataset]) -> tuple[dict[str, dict], dict[str, np.ndarray]]:
    """Every held-out figure, per file, and the out-of-fold support scores they came from."""
    oof = out_of_fold(datasets)
    confidence = calibrated_held_out(datasets, oof)
    transfer = cross_dataset(datasets)
    result = {}
    for ds in datasets:
        result[ds.name] = {"rows": len(ds.y), "cross_validated": metrics(ds.y, oof[ds.name], confidence[ds.name]),
                           "floors": floors(ds)}
        if ds.name in transfer:
            result[ds.name]["fitted_on_other_files"] = metrics(ds.y, transfer[ds.name])
    result["pooled"] = {"ece": expected_calibration_error(np.concatenate([confidence[ds.name] for ds in datasets]),
                                                          np.concatenate([ds.y for ds in datasets]))}
    return result, oof


def data_fingerprint(data_dir: Path) -> dict[str, str]:
    files = sorted(data_dir.glob("*.jsonl")) + sorted(data_dir.glob("train/*.jsonl"))
    return {str(f.relative_to(data_dir)): hashlib.sha256(f.read_bytes()).hexdigest()[:16] for f in files}


def split_examples(data_dir: Path, caps: str) -> dict[str, list[Example]]:
    """The training side of the grouped split, sampled per family as ``caps`` says."""
    from guard.training.splits import load_rows
    from guard.training.train import parse_caps, training_rows

    chosen = training_rows(load_rows(data_dir), parse_caps(caps), SEED)
    by_family: dict[str, list[Example]] = {}
    for r in chosen:
        by_family.setdefault(r.family, []).append(Example(id=r.id, sources=list(r.sources), response=r.response,
                                                          faithful=r.faithful, question=r.question,
                                                          dataset=r.family))
    return dict(sorted(by_family.items()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="folder of labelled *.jsonl files")
    parser.add_argument("--out", type=Path, required=True, help="params folder offline.json is written to")
    parser.add_argument("--split", metavar="CAPS", help="fit on the training side of the grouped split; rows per "
                        "family, e.g. vitaminc=6000,halueval_summarization=1000")
    args = parser.parse_args(argv)

    encoder = TextEncoder(DEFAULT_MODEL, cache_size=1_000_000)
    examples = split_examples(args.data, args.split) if args.split else load_dir(args.data)
    datasets = [featurize(name, rows, encoder) for name, rows in examples.items()]
    print(f"featurized {sum(len(ds.y) for ds in datasets)} rows", flush=True)
    held_out, oof = report(datasets)
    print(json.dumps(held_out, indent=2))

    final = fit_trees(*training_set([(ds, np.arange(len(ds.y))) for ds in datasets]))
    command = "python -m guard.training.fit" + (f" --split {args.split}" if args.split else "")
    provenance = {"data": data_fingerprint(args.data), "seed": SEED, "command": command, "split": args.split}
    model = {"features": list(final.features), "baseline": final.baseline,
             "trees": [{k: getattr(t, k).tolist() for k in ("feature", "threshold", "left", "right", "is_leaf", "value")}
                       for t in final.trees]}
    write(args.out, "offline.json",
          {"embedding_model": DEFAULT_MODEL, "model": model, "held_out": held_out, "provenance": provenance})


if __name__ == "__main__":
    main()
