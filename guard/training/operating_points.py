"""Operating points chosen where users meet them: on whole answers, claim by claim, as the support layer decides.

    python -m guard.training.operating_points --scores answers.jsonl [--out params/]

(``answers.jsonl`` from ``python -m benchmarks.verify_answers score``: every factual claim of every
held-out answer with each verifier's score and the specifics found.)

An answer is flagged when any of its claims scores under the threshold, so a per-claim threshold
chosen on single claims flags most faithful multi-sentence answers: on summaries of four or five
sentences, a 30 % false-flag rate per claim is ~75 % per answer. The rules, on the ``select`` half,
each file weighing the same and the worst file deciding:

- low: the highest threshold at which no file's false-flag rate (faithful answers with an
  unsupported claim) exceeds 15 %;
- medium: the same at 30 %;
- high and critical: the lowest threshold at which every file's catch rate (hallucinated
  answers with one) is at least 85 %, and never under the medium one.

Whether a rule holds on data it was not chosen on is checked by leaving each file out: the
threshold chosen on the other files' ``select`` rows, measured on the left-out file's ``report`` rows.

The same scores fit the cascade (``guard.verify.combined``): the band of trees' scores outside which
the cross-encoder's reading changes no answer's verdict at the medium threshold on ``select`` (a
share of at most ``CASCADE_TOLERANCE`` of answers may change), and the linear map from the trees'
log-odds to the cross-encoder's that stands in for it outside the band.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from guard.layers.support import soft_min
from guard.verify.calibration import logit, sigmoid
from guard.verify.combined import PARAMS_FILES
from guard.verify.contradictions import CONTRADICTED_SUPPORT, group_of
from guard.training.export import write_support_calibration
from guard.training.outputs import current, write
from guard.verify.calibration import fit_platt
from guard.verify.offline import params_path
from guard.verify.thresholds import RULES, answer_threshold, by_rules, file_rates, file_weights

CASCADE_TOLERANCE = 0.01
EXPONENTS = (0.0, 0.5, 1.0)
MIN_GROUP_ROWS = 30  # single-claim answers a group of findings needs on ``select`` to be weighed
COMMAND = "python -m guard.training.operating_points --scores answers.jsonl --write"
TREES_ALONE = {"intercept": 0.0, "offline": 1.0, "support_model": 0.0}  # the blend that reads the trees only
GRID = np.round(np.concatenate([np.arange(0.005, 0.05, 0.005), np.arange(0.05, 0.951, 0.01)]), 4)


@dataclass(frozen=True)
class Answer:
    """One held-out answer: its label and, per factual claim, the trees', the cross-encoder's score and specifics."""

    half: str
    file: str
    faithful: bool
    trees: np.ndarray
    model: np.ndarray
    groups: tuple[frozenset[str], ...]  # per claim: the groups of its specifics findings (``contradictions.group_of``)
    precision: str = "fp32"  # of the graphs that scored it (``support.precision``), recorded in ``chosen_on``


def load(path: Path) -> list[Answer]:
    answers = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        claims = row["claims"]
        groups = tuple(frozenset(group_of(kind, missing=how == "missing")
                                 for kind, how in (f.split(":") for f in c["specifics"])) for c in claims)
        answers.append(Answer(row["half"], row["file"], bool(row["faithful"]),
                              np.array([c["trees"] for c in claims], dtype=float),
                              np.array([c["model"] for c in claims], dtype=float), groups,
                              row.get("precision", "fp32")))
    return answers


def precision_of(answers: list[Answer]) -> str:
    """The one precision a scores file was made with: operating points fitted on a mix would fit neither."""
    found = {a.precision for a in answers}
    if len(found) != 1:
        raise ValueError(f"the scores hold answers of precisions {sorted(found)}; score each precision on its own")
    return found.pop()


def blended(answer: Answer, weights: dict[str, float], cascade: dict | None = None) -> np.ndarray:
    """Each claim's blended score, the cross-encoder's read from the trees' outside the cascade's band."""
    model = answer.model
    if cascade is not None:
        low, high = cascade["band"]
        outside = (answer.trees < low) | (answer.trees > high)
        fit = cascade["model_from_trees"]
        model = np.where(outside, sigmoid(fit["intercept"] + fit["slope"] * logit(answer.trees)), model)
    return sigmoid(weights["intercept"] + weights["offline"] * logit(answer.trees)
                   + weights["support_model"] * logit(model))


def claim_support(answer: Answer, weights: dict[str, float], cascade: dict | None = None,
                  penalties: dict[str, float] | None = None) -> np.ndarray:
    """Each claim's support as the support layer reports it: the blend, lowered by its specifics findings
    (by the fitted ``penalties``, or scaled under ``CONTRADICTED_SUPPORT`` without them)."""
    scores = blended(answer, weights, cascade)
    if penalties is None:
        return np.array([CONTRADICTED_SUPPORT * p if g else p for p, g in zip(scores, answer.groups)])
    return np.array([CONTRADICTED_SUPPORT * p if g and not g <= penalties.keys()
                     else float(sigmoid(logit(p) - sum(penalties[x] for x in g))) if g else p
                     for p, g in zip(scores, answer.groups)])


def fit_penalties(select: dict[str, list[Answer]], weights: dict[str, float]) -> dict[str, float]:
    """The log-odds each group of findings subtracts, fitted on single-claim answers of ``select`` (whose claim
    carries the answer's label), files weighing the same; never negative, so a finding never raises support."""
    from scipy.optimize import minimize

    rows = [(a, f) for f, answers in select.items() for a in answers if len(a.groups) == 1]
    counts = Counter(g for a, _ in rows for g in a.groups[0])
    names = sorted(g for g, n in counts.items() if n >= MIN_GROUP_ROWS)  # rarer groups keep the cap
    if not names:  # no finding common enough to weigh: every one keeps the cap
        return {}
    size = {f: sum(1 for _, g in rows if g == f) for f in select}
    base = np.array([float(logit(blended(a, weights)[0])) for a, _ in rows])
    x = np.array([[g in a.groups[0] for g in names] for a, _ in rows], dtype=float)
    y = np.array([a.faithful for a, _ in rows], dtype=float)
    w = np.array([1.0 / size[f] for _, f in rows])

    def loss(beta: np.ndarray) -> float:
        p = np.clip(sigmoid(base - x @ beta), 1e-9, 1 - 1e-9)
        return float(-(w * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum())

    fitted = minimize(loss, np.ones(len(names)), bounds=[(0.0, None)] * len(names), method="L-BFGS-B")
    return {g: round(float(b), 4) for g, b in zip(names, fitted.x)}


def by_file(answers: Iterable[Answer]) -> dict[str, list[Answer]]:
    files: dict[str, list[Answer]] = defaultdict(list)
    for a in answers:
        files[a.file].append(a)
    return dict(sorted(files.items()))


class Scored:
    """One file's answers scored once: flags at any threshold and the answer-level support signal."""

    def __init__(self, answers: list[Answer], weights: dict[str, float], cascade: dict | None = None,
                 penalties: dict[str, float] | None = None, exponent: float = 0.0):
        supports = [claim_support(a, weights, cascade, penalties) for a in answers]
        self.faithful = np.array([a.faithful for a in answers])
        self.lowest = np.array([s.min() if s.size else np.inf for s in supports])  # no claim: never flagged
        self.claims = np.array([max(1, s.size) for s in supports])
        self.signal = np.array([soft_min(s.tolist()) if s.size else np.nan for s in supports])
        self.exponent = exponent

    @classmethod
    def shipped(cls, answers: list[Answer], params: dict) -> Scored:
        """Scored as the shipped ``combined.json`` scores: its blend, cascade, penalties and length exponent."""
        weights = {k: float(v) for k, v in params["weights"].items()}
        return cls(answers, weights, params.get("cascade"), (params.get("specifics") or {}).get("penalties"),
                   float(params.get("length_exponent", 0.0)))

    def flagged(self, threshold: float) -> np.ndarray:
        return self.lowest < answer_threshold(threshold, self.claims, self.exponent)

    def rates(self, threshold: float) -> tuple[float, float]:
        """(false-flag rate, catch rate); NaN where a file has no answer of that label."""
        return file_rates(self.flagged(threshold), self.faithful)


def choose(files: dict[str, Scored]) -> dict[str, float]:
    """The threshold per risk level by the shared rules (``guard.verify.thresholds``), on the given files."""
    return by_rules(GRID.tolist(), lambda t: [s.rates(t) for s in files.values()])


def choose_exponent(select: dict[str, list[Answer]], weights: dict[str, float],
                    penalties: dict[str, float] | None) -> float:
    """The length exponent (``thresholds.answer_threshold``) whose medium threshold catches most, files averaged."""
    def mean_catch(exponent: float) -> float:
        files = {f: Scored(rows, weights, None, penalties, exponent) for f, rows in select.items()}
        medium = choose(files)["medium"]
        return float(np.nanmean([s.rates(medium)[1] for s in files.values()]))

    return max(EXPONENTS, key=mean_catch)


def leave_one_file_out(select: dict[str, Scored], report: dict[str, Scored]) -> dict[str, dict[str, dict]]:
    """Per left-out file and risk: the threshold chosen without it, and its rates on its own ``report`` rows."""
    out: dict[str, dict[str, dict]] = {}
    for file in report:
        chosen = choose({f: s for f, s in select.items() if f != file})
        out[file] = {risk: dict(zip(("threshold", "false_flag", "catch"), (t, *report[file].rates(t))))
                     for risk, t in chosen.items()}
    return out


def fit_cascade(select: dict[str, list[Answer]], weights: dict[str, float], threshold: float,
                penalties: dict[str, float] | None = None, exponent: float = 0.0) -> dict:
    """The narrowest band of trees' scores that leaves at most ``CASCADE_TOLERANCE`` of answers' verdicts changed."""
    trees = np.concatenate([a.trees for rows in select.values() for a in rows])
    model = np.concatenate([a.model for rows in select.values() for a in rows])
    slope, intercept = np.polyfit(logit(trees), logit(model), 1)
    fit = {"intercept": float(intercept), "slope": float(max(slope, 0.0))}
    full = {f: Scored(rows, weights, None, penalties, exponent).flagged(threshold) for f, rows in select.items()}
    best = {"band": [0.0, 1.0], "model_from_trees": fit, "read_share": 1.0}
    for width in np.arange(0.05, 1.0, 0.05):
        for low in np.arange(0.0, 1.0 - width + 1e-9, 0.025):
            band = [round(float(low), 3), round(float(low + width), 3)]
            cascade = {"band": band, "model_from_trees": fit}
            changed = max(float(np.mean(Scored(rows, weights, cascade, penalties, exponent).flagged(threshold) != full[f]))
                          for f, rows in select.items())
            if changed <= CASCADE_TOLERANCE:
                share = float(np.mean((trees >= band[0]) & (trees <= band[1])))
                if share < best["read_share"]:
                    best = {"band": band, "model_from_trees": fit, "read_share": round(share, 4)}
        if best["read_share"] < 1.0:
            return best
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scores", type=Path, required=True, help="from python -m benchmarks.verify_answers score")
    parser.add_argument("--out", type=Path, help="params folder to write the scores' precision's parameters "
                        "(combined.json or combined-fp32.json: thresholds, cascade) and confidence.json into; "
                        "without it, only print")
    args = parser.parse_args(argv)
    answers = load(args.scores)
    precision = precision_of(answers)
    name = PARAMS_FILES[precision]  # each precision's operating points are chosen on its own scores
    path = current(args.out, name) if args.out else params_path(name)
    params = json.loads(path.read_text())
    weights = {k: float(v) for k, v in params["weights"].items()}
    rows = {half: by_file(a for a in answers if a.half == half) for half in ("select", "report")}
    penalties = fit_penalties(rows["select"], weights)
    exponent = choose_exponent(rows["select"], weights, penalties)
    select = {f: Scored(r, weights, None, penalties, exponent) for f, r in rows["select"].items()}
    report = {f: Scored(r, weights, None, penalties, exponent) for f, r in rows["report"].items()}
    chosen = choose(select)
    print(json.dumps({"penalties": penalties, "length_exponent": exponent, "thresholds": chosen,
                      "leave_one_file_out": leave_one_file_out(select, report)}, indent=1))
    cascade = fit_cascade(rows["select"], weights, chosen["medium"], penalties, exponent)
    signal = np.concatenate([s.signal for s in select.values()])
    labels = np.concatenate([s.faithful for s in select.values()])
    files = np.concatenate([[f] * len(s.signal) for f, s in select.items()])
    known = ~np.isnan(signal)
    platt = fit_platt(signal[known], labels[known], file_weights(files[known]))
    print(json.dumps({"cascade": cascade, "calibration": platt}, indent=1))
    if args.out:
        params["thresholds"] = {risk: {"threshold": t, "rule": RULES[risk], "level": "answer"}
                                for risk, t in chosen.items()}
        params["specifics"] = {"penalties": penalties, "fitted_on": "single-claim answers of the select split"}
        params["length_exponent"] = exponent
        params["cascade"] = cascade
        params["chosen_on"] = {"split": "select", "seed": 0, "answers": {f: len(r) for f, r in rows["select"].items()},
                               "precision": precision, "command": COMMAND}
        write(args.out, name, params)
        write_support_calibration(args.out, "combined", platt, "Platt scaling of the combined verifier's answer-level support "
                                  "signal (soft minimum over claims, findings penalised) on the held-out select split, "
                                  "files weighted equally", COMMAND, params["provenance"]["data"], precision)


if __name__ == "__main__":
    main()
