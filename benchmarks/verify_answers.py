"""Answer-level verdicts as guard reports them, per file, on the held-out ``select`` and ``report`` halves.

    python -m benchmarks.verify_answers score --data ../shared/data --out answers.jsonl [--limit 250] [--int8] [--model FOLDER]
    python -m benchmarks.verify_answers table --scores answers.jsonl [--half report] [--params FOLDER] [--trees]
    python -m benchmarks.verify_answers tiers --scores answers.jsonl [--half report] [--params FOLDER]
    python -m benchmarks.verify_answers compare --before a.jsonl [--before-params FOLDER] --after b.jsonl [--after-params FOLDER]

``verify_heldout`` scores a whole response as one claim; guard does not. It splits the answer into
sentences, leaves out those that state nothing, scores each against the sources and lists every claim
under the threshold as ``unsupported``: a faithful five-sentence summary is flagged when any one of its
sentences falls under it. What users see is that answer-level verdict, so this is what the operating
points are chosen on and reported with.

``score`` keeps, per claim, what every verifier said (trees, cross-encoder) and the specifics found, so
operating points, aggregations and cascades can be tried on the ``select`` half without scoring again.
``table`` reports, per file of one half, the false-flag rate (faithful answers with an unsupported claim),
the catch rate (hallucinated answers with one) at each risk level's shipped threshold, AUROC of the
answer's support signal, and balanced accuracy, with 95 % bootstrap intervals over answers.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from guard.verify import contradictions, is_factual, split_claims
from guard.training.splits import REPORT, SELECT, Row, load_rows


def claim_rows(rows: list[Row]) -> list[tuple[int, str, list[str], str | None]]:
    """(row index, claim, sources, question) for every factual claim of every response."""
    out = []
    for i, row in enumerate(rows):
        for claim in split_claims(row.response):
            if is_factual(claim):
                out.append((i, claim.text, list(row.sources), row.question))
    return out


def specifics(claim: str, sources: list[str]) -> list[str]:
    """``kind:missing`` (in no source) or ``kind:contradicted`` (a source sentence says otherwise) per finding."""
    return [f"{f.kind}:{'missing' if f.sentence is None else 'contradicted'}"
            for f in contradictions.find(claim, sources)]


def score(args: argparse.Namespace) -> None:
    from guard.verify.combined import CombinedVerifier
    from guard.verify.support_model import SupportModelVerifier
    from guard.training.train import held_out_rows

    verifier = CombinedVerifier(int8=args.int8, model=SupportModelVerifier(args.model, int8=args.int8))
    held = held_out_rows(load_rows(args.data), seed=0)
    started = time.perf_counter()
    with args.out.open("w") as out:
        for half in (args.half,) if args.half else (SELECT, REPORT):
            for file, rows in sorted(held[half].items()):
                rows = rows[: args.limit]
                claims = claim_rows(rows)
                pairs = [(c, s) for _, c, s, _ in claims]
                trees = verifier.offline.probabilities(pairs) if pairs else np.zeros(0)
                model = np.asarray(verifier.model.predict(pairs, [q for *_, q in claims])) if pairs else np.zeros(0)
                found = [specifics(c, s) for _, c, s, _ in claims]
                per_row: dict[int, list[dict]] = {i: [] for i in range(len(rows))}
                for (i, text, _, _), t, m, f in zip(claims, trees, model, found):
                    per_row[i].append({"text": text, "trees": round(float(t), 6), "model": round(float(m), 6),
                                       "specifics": f})
                for i, row in enumerate(rows):
                    out.write(json.dumps({"half": half, "file": file, "id": row.id, "faithful": row.faithful,
                                          "precision": "int8" if args.int8 else "fp32", "claims": per_row[i]}) + "\n")
                out.flush()
                print(f"{half} {file}: {len(rows)} answers, {len(claims)} claims, "
                      f"{time.perf_counter() - started:.0f} s", flush=True)


def table(scores: Path, half: str, risks: tuple[str, ...] = ("medium", "high"), params_dir: Path | None = None,
          trees: bool = False) -> str:
    """False-flag and catch rates per file at the shipped thresholds (or those fitted into ``params_dir``), AUROC
    and balanced accuracy, 95 % intervals; with ``trees``, of the trees alone at their thresholds."""
    from guard.evals.metrics import auroc, balanced_accuracy, bootstrap_intervals

    files, params = scored_by_file(scores, half, params_dir, trees)
    thresholds = {risk: float(params["thresholds"][risk]["threshold"]) for risk in risks}
    head = ["file", "answers (halluc.)", "AUROC"] + [f"{name} {risk}" for risk in risks
                                                   for name in ("false flags", "catch", "bal. acc.")]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for file, scored in files.items():
        bad = ~scored.faithful

        def stats(idx: np.ndarray) -> dict:
            good_i, bad_i = idx[scored.faithful[idx]], idx[bad[idx]]
            out = {"auroc": auroc(bad[idx], doubt(scored)[idx])}
            for risk, t in thresholds.items():
                flagged = scored.flagged(t)
                out[f"ff {risk}"] = float(flagged[good_i].mean()) if good_i.size else float("nan")
                out[f"catch {risk}"] = float(flagged[bad_i].mean()) if bad_i.size else float("nan")
                out[f"ba {risk}"] = balanced_accuracy(bad[idx], flagged[idx])
            return out

        everything = np.arange(len(bad))
        point, intervals = stats(everything), bootstrap_intervals(stats, len(bad))
        row = [file, f"{len(bad)} ({int(bad.sum())})", cell(point["auroc"], intervals.get("auroc"))]
        for risk in risks:
            row += [cell(point[f"{k} {risk}"], intervals.get(f"{k} {risk}")) for k in ("ff", "catch", "ba")]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def compare(before: Path, after: Path, half: str, before_params: Path | None = None,
            after_params: Path | None = None) -> str:
    """AUROC per file of two scorings of the same answers (another model, another precision), each at its own
    parameters, and the difference with a paired 95 % interval: both sides are resampled together."""
    from guard.evals.metrics import Undefined, auroc, bootstrap_intervals

    old, _ = scored_by_file(before, half, before_params)
    new, _ = scored_by_file(after, half, after_params)
    lines = ["| file | answers (halluc.) | AUROC before | AUROC after | difference |", "|---|---|---|---|---|"]
    for file, a in old.items():
        b, bad = new[file], ~a.faithful
        if not np.array_equal(a.faithful, b.faithful):
            raise ValueError(f"{file}: the two scores files do not hold the same answers in the same order")

        def stats(idx: np.ndarray) -> dict:
            first, second = auroc(bad[idx], doubt(a)[idx]), auroc(bad[idx], doubt(b)[idx])
            undefined = next((v for v in (first, second) if isinstance(v, Undefined)), None)  # one class drawn
            return {"before": first, "after": second, "difference": undefined or second - first}

        point, intervals = stats(np.arange(len(bad))), bootstrap_intervals(stats, len(bad))
        lines.append("| " + " | ".join([file, f"{len(bad)} ({int(bad.sum())})"] + [
            cell(point[k], intervals.get(k), signed=k == "difference") for k in ("before", "after", "difference")]) + " |")
    return "\n".join(lines)


def tiers(scores: Path, half: str, params_dir: Path | None = None) -> str:
    """Where answers land at medium risk (the default): per file, the share of right and of wrong answers in each
    tier, placed by ``guard.tiers.tier_for`` from the answer's calibrated confidence and the support check's
    verdict, as guard places an answer whose only signal is support."""
    from guard.config import TiersConfig
    from guard.confidence import PARAMS_FILE, ConfidenceModel
    from guard.training.outputs import current
    from guard.tiers import tier_for

    files, params = scored_by_file(scores, half, params_dir)
    confidence_file = current(params_dir, "confidence.json") if params_dir else PARAMS_FILE
    model = ConfidenceModel(confidence_file, "combined", params["chosen_on"]["precision"])
    medium, config, names = float(params["thresholds"]["medium"]["threshold"]), TiersConfig(), ("high", "medium", "low")
    head = ["file", "right answers", *(f"right in {t}" for t in names), "wrong answers", *(f"wrong in {t}" for t in names)]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for file, scored in files.items():
        checked = ~np.isnan(scored.signal)
        placed = np.array([tier_for(model({"support": float(sig)}) if ok else None, config, bool(flag) if ok else None)
                           for sig, ok, flag in zip(scored.signal, checked, scored.flagged(medium))])
        row = [file]
        for label in (True, False):
            share = placed[scored.faithful == label]
            row += [str(len(share)), *(f"{np.mean(share == t):.0%}" if len(share) else "-" for t in names)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def scored_by_file(scores: Path, half: str, folder: Path | None, trees: bool = False) -> tuple[dict, dict]:
    """``({file: Scored}, params)``: one half's answers as guard scores them with the combined verifier's parameters
    for the precision they were scored at, those an ``operating_points --out`` folder holds, else the installed ones;
    with ``trees``, as the trees alone score them (``support.verifier: offline``) with theirs."""
    from guard.training.operating_points import TREES_ALONE, Scored, by_file, load, precision_of
    from guard.training.outputs import current
    from guard.verify.combined import PARAMS_FILES
    from guard.verify.offline import PARAMS_FILE, params_path

    answers = load(scores)
    name = PARAMS_FILE if trees else PARAMS_FILES[precision_of(answers)]
    params = json.loads((current(folder, name) if folder else params_path(name)).read_text())
    rows = by_file(a for a in answers if a.half == half)
    if trees:
        return {file: Scored(r, TREES_ALONE, exponent=float(params.get("length_exponent", 0.0)))
                for file, r in rows.items()}, params
    return {file: Scored.shipped(r, params) for file, r in rows.items()}, params


def doubt(scored) -> np.ndarray:  # noqa: ANN001 - operating_points.Scored
    """1 − the answer's support signal (an answer with nothing to check: no doubt), what AUROC ranks by."""
    return 1 - np.nan_to_num(scored.signal, nan=1.0)


def cell(point, interval, signed: bool = False) -> str:  # noqa: ANN001 - float | Undefined, Interval | Undefined | None
    from guard.evals.metrics import Undefined

    form = "+.3f" if signed else ".3f"
    if isinstance(point, Undefined) or point != point:
        return "-"
    if interval is None or isinstance(interval, Undefined):
        return f"{point:{form}}"
    return f"{point:{form}} [{interval.low:{form}}, {interval.high:{form}}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("score", help="score every claim of the held-out answers with each verifier")
    s.add_argument("--data", type=Path, default=Path("../shared/data"))
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--limit", type=int, default=250, help="answers per file and half at most")
    s.add_argument("--int8", action="store_true", help="the verifiers' int8 graphs (support.precision: int8)")
    s.add_argument("--half", choices=[SELECT, REPORT], help="score only this half (default: both)")
    s.add_argument("--model", type=Path, help="a support model folder (default: the installed one), e.g. one "
                   "guard.training.export wrote")
    t = sub.add_parser("table", help="answer-level figures per file at the shipped operating points")
    t.add_argument("--scores", type=Path, required=True)
    t.add_argument("--half", default=REPORT, choices=[SELECT, REPORT])
    t.add_argument("--params", type=Path, help="a folder operating_points --out wrote (default: the installed parameters)")
    t.add_argument("--trees", action="store_true", help="the trees alone (support.verifier: offline) at their thresholds")
    r = sub.add_parser("tiers", help="the share of right and of wrong answers per tier, per file, at medium risk")
    r.add_argument("--scores", type=Path, required=True)
    r.add_argument("--half", default=REPORT, choices=[SELECT, REPORT])
    r.add_argument("--params", type=Path, help="a folder operating_points --out wrote (default: the installed parameters)")
    c = sub.add_parser("compare", help="AUROC per file of two scorings of the same answers, paired differences")
    c.add_argument("--before", type=Path, required=True)
    c.add_argument("--after", type=Path, required=True)
    c.add_argument("--before-params", type=Path, help="the parameters folder the before scores go with")
    c.add_argument("--after-params", type=Path, help="the parameters folder the after scores go with")
    c.add_argument("--half", default=REPORT, choices=[SELECT, REPORT])
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.command == "score":
        score(args)
    elif args.command == "tiers":
        print(tiers(args.scores, args.half, args.params))
    elif args.command == "compare":
        print(compare(args.before, args.after, args.half, args.before_params, args.after_params))
    else:
        print(table(args.scores, args.half, params_dir=args.params, trees=args.trees))


if __name__ == "__main__":
    main()
