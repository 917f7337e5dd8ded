"""Fitting a support calibration on labelled answers, and showing out of sample what it changes.

What is fitted, on the answers' support scores (``guard.calibrate.scoring``):

- the confidence map: Platt scaling of the support signal (``guard.verify.calibration.fit_platt``), which replaces
  the support slope and the intercept of ``guard.confidence``;
- the operating point per risk level: the threshold on the weakest claim's score, by the rules the shipped
  points follow (``guard.verify.thresholds``: at medium the highest that flags at most 30 % of the faithful
  answers, at low 15 %; at high and critical the lowest that flags at least 85 % of the hallucinated ones);
- with ``MIN_BLEND_PER_CLASS`` labels of each class and the ``combined`` verifier, first its blend's three
  weights (``fit_blend``); the answers are then scored again with them before the map and points are fitted.

Before and after are measured on the same labels by stratified k-fold cross-validation: every answer's
"after" decision comes from a calibration fitted on the other folds, "before" is what the configuration
in force decides. Metrics follow ``guard.evals.metrics`` (hallucinated is the positive class), with 95 %
percentile-bootstrap intervals over answers, before and after resampled together.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from guard.calibration import PlattMap
from guard.evals import metrics as m
from guard.extras import require
from guard.verify.calibration import fit_platt, logit, sigmoid
from guard.verify.combined import blend, fit_weights
from guard.verify.thresholds import choose

FOLDS = 5
SEED = 0
# Per class: each of 5 training folds then holds about 30, enough for two Platt numbers and a threshold.
MIN_PER_CLASS = 40
# Per class before the blend's weights are refitted too: three more numbers, read off claims, not answers.
MIN_BLEND_PER_CLASS = 150
METRICS = {"balanced_accuracy": "balanced accuracy", "false_flag_rate": "false-flag rate", "catch_rate": "catch rate",
           "ece": "ECE"}


class TooFewLabels(ValueError):
    """Not enough labels of a class to fit and cross-validate; the message says how many more are needed."""


@dataclass(frozen=True)
class Scores:
    """Per labelled answer: the support signal, the weakest claim's score, and whether it was faithful."""

    signal: np.ndarray
    weakest: np.ndarray
    faithful: np.ndarray


@dataclass(frozen=True)
class Decisions:
    confidence: np.ndarray  # probability faithful
    flagged: np.ndarray  # a claim listed as unsupported


@dataclass(frozen=True)
class Components:
    """Per labelled answer, the scores the combined verifier blends for each of its claims."""

    trees: list[np.ndarray]
    model: list[np.ndarray]

    def subset(self, index: np.ndarray) -> "Components":
        return Components([self.trees[i] for i in index], [self.model[i] for i in index])


def short_of(faithful: np.ndarray, minimum: int) -> dict[str, int]:
    """How many more labels of each class ``minimum`` asks for (the classes that have enough left out)."""
    have = {"faithful": int(faithful.sum()), "hallucinated": int((~faithful).sum())}
    return {name: minimum - n for name, n in have.items() if n < minimum}


def fit_blend(components: Components, faithful: np.ndarray, weights: dict[str, float]) -> dict[str, float] | None:
    """The combined verifier's blend weights fitted on answer labels; None when they come out unusable.

    Every claim of a faithful answer is supported; of a hallucinated answer only its weakest claim (under
    ``weights``, the blend in force) is known not to be. Logistic regression on those claims' log-odds, as
    ``guard.training.fit_blend`` fits the shipped weights, each class weighing the same and each answer one
    unit. A weight that comes out negative would rank a claim lower for looking better supported: kept shipped.
    """
    require("calibrate", "sklearn", purpose="guard calibrate")
    trees, model, labels, unit = [], [], [], []
    counts = {True: int(faithful.sum()), False: int((~faithful).sum())}
    for answer_trees, answer_model, ok in zip(components.trees, components.model, faithful):
        if not ok:
            weakest = int(np.argmin(blend(answer_trees, answer_model, weights)))
            answer_trees, answer_model = answer_trees[[weakest]], answer_model[[weakest]]
        trees.append(answer_trees)
        model.append(answer_model)
        labels += [bool(ok)] * len(answer_trees)
        unit += [1 / (len(answer_trees) * counts[bool(ok)])] * len(answer_trees)
    try:
        return fit_weights(np.concatenate(trees), np.concatenate(model), np.array(labels), np.array(unit) * len(labels))
    except ValueError:
        return None


def require_enough(faithful: np.ndarray, minimum: int = MIN_PER_CLASS) -> None:
    have = {"faithful": int(faithful.sum()), "hallucinated": int((~faithful).sum())}
    short = short_of(faithful, minimum)
    if short:
        more = " and ".join(f"{n} more {name}" for name, n in short.items())
        raise TooFewLabels(f"too few labels to calibrate: {have['faithful']} faithful and {have['hallucinated']} "
                           f"hallucinated answers with claims to check; at least {minimum} of each are needed "
                           f"({more})")


def fit(scores: Scores) -> tuple[PlattMap, dict[str, float]]:
    """The confidence map and the threshold per risk level, fitted on all of ``scores``."""
    require("calibrate", "sklearn", purpose="guard calibrate")
    platt = PlattMap(**fit_platt(scores.signal, scores.faithful))
    chosen = choose(scores.weakest, scores.faithful, np.zeros(len(scores.faithful)))
    return platt, {risk: spec["threshold"] for risk, spec in chosen.items()}


def applied(scores: Scores, platt: PlattMap, threshold: float) -> Decisions:
    return Decisions(sigmoid(platt.intercept + platt.slope * logit(scores.signal)), scores.weakest < threshold)


def stratified_folds(faithful: np.ndarray, k: int = FOLDS, seed: int = SEED) -> list[np.ndarray]:
    """Test indices of k folds, each class shuffled and dealt round-robin so every fold holds both."""
    rng = np.random.default_rng(seed)
    out: list[list[int]] = [[] for _ in range(k)]
    dealt = 0
    for cls in (True, False):
        members = np.flatnonzero(faithful == cls)
        rng.shuffle(members)
        for i in members:
            out[dealt % k].append(int(i))
            dealt += 1
    return [np.array(sorted(f), dtype=int) for f in out]


def cross_validated(scores: Scores, risk: str, k: int = FOLDS,
                    rescore: Callable[[np.ndarray], Scores] | None = None) -> Decisions:
    """Every answer decided by a calibration fitted on the other folds; ``rescore(train)``, when given, scores
    every answer again with what it refits on the training folds first (the blend)."""
    confidence, flagged = np.zeros(len(scores.signal)), np.zeros(len(scores.signal), dtype=bool)
    for test in stratified_folds(scores.faithful, k):
        train = np.setdiff1d(np.arange(len(scores.signal)), test)
        fold = rescore(train) if rescore is not None else scores
        platt, thresholds = fit(_subset(fold, train))
        decided = applied(_subset(fold, test), platt, thresholds[risk])
        confidence[test], flagged[test] = decided.confidence, decided.flagged
    return Decisions(confidence, flagged)


def measure(faithful: np.ndarray, decisions: Decisions) -> dict[str, m.Value]:
    hallucinated = ~faithful
    return {"balanced_accuracy": m.balanced_accuracy(hallucinated, decisions.flagged),
            "false_flag_rate": m.rate(decisions.flagged[faithful]),
            "catch_rate": m.recall(hallucinated, decisions.flagged),
            "ece": m.ece(hallucinated, 1 - decisions.confidence)}


def compare(faithful: np.ndarray, before: Decisions, after: Decisions, resamples: int = 1000) -> dict[str, dict]:
    """Per metric: before, after, and 95 % intervals of each and of the change (paired bootstrap)."""

    def both(index: np.ndarray) -> dict[str, m.Value]:
        b, a = (measure(faithful[index], Decisions(d.confidence[index], d.flagged[index])) for d in (before, after))
        out: dict[str, m.Value] = {}
        for name in METRICS:
            out[f"before.{name}"], out[f"after.{name}"] = b[name], a[name]
            if not isinstance(a[name], m.Undefined) and not isinstance(b[name], m.Undefined):
                out[f"change.{name}"] = a[name] - b[name]
        return out

    point = both(np.arange(len(faithful)))
    intervals = m.bootstrap_intervals(both, len(faithful), resamples=resamples)
    return {name: {f"{side}{suffix}": _plain(value)
                   for side in ("before", "after", "change")
                   for suffix, value in (("", point.get(f"{side}.{name}")),
                                         ("_95", intervals.get(f"{side}.{name}")))}
            for name in METRICS}


def confidence_of(model: Callable[[dict[str, float]], float | None], signal: np.ndarray) -> np.ndarray:
    """A confidence model's answer for answers whose only signal is support (the others add nothing)."""
    return np.array([model({"support": float(s)}) for s in signal])


def _subset(scores: Scores, index: np.ndarray) -> Scores:
    return Scores(scores.signal[index], scores.weakest[index], scores.faithful[index])


def _plain(value: m.Value | m.Interval | None) -> float | list[float] | None:
    if isinstance(value, m.Interval):
        return [round(value.low, 4), round(value.high, 4)]
    if isinstance(value, float) and math.isfinite(value):
        return round(value, 4)
    return None  # undefined on these labels
