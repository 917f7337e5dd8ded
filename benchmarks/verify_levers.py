"""Ranking levers tried at inference, measured on scores of ``benchmarks.verify_answers`` (not shipped: see README).

    python -m benchmarks.verify_levers windows --scores answers.jsonl --half select --windows 3 --out w.jsonl
    python -m benchmarks.verify_levers keep --scores w.jsonl --windows 2 --aggregate max --out w2.jsonl
    python -m benchmarks.verify_levers drop --scores answers.jsonl --pattern interjections --out d.jsonl
    python -m benchmarks.verify_levers softmin --scores answers.jsonl --half select --temperatures 0.1 1
    python -m benchmarks.verify_answers table --scores w2.jsonl --half select     # AUROC as guard reports it

``windows`` re-scores only the cross-encoder column: per claim, the evidence is read in up to N windows
that each fit the model's budget (the first is the window guard reads today, ``evidence.select_sentences``),
and each window's score is kept beside the claim; trees and specifics are copied from ``--scores``.
``--question-words`` reads that many of the question's last words instead of ``evidence.QUESTION_WORDS``.
``keep`` makes the claim's cross-encoder score the max (or mean log-odds) of its first windows, ``drop``
leaves out claims that state no fact by a wider rule than ``claims.is_factual``, ``softmin`` prints each
file's AUROC of the answer-level signal at other temperatures of ``layers.support.soft_min``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from guard.verify import evidence
from guard.training.splits import REPORT, SELECT, load_rows

STRATEGIES = ("ranked", "consecutive", "centred")
PATTERNS = {
    "interjections": r"^(yes|yeah|yep|no|nope|right|that's right|that is right|true|exactly|indeed|gladly|i agree"
                     r"|i know|wow|oh|haha|cool|nice|awesome|interesting|definitely|me too|agreed)\b[\s,.!]*$",
    "exclamations": r"^(\S+\s+){0,5}\S+!$",
    "opinions": r"\b(i (think|guess|believe|like|love|enjoy|prefer|agree|would say|feel)|my favou?rite|in my opinion)\b",
    "agreement_leads": r"^(yes|yeah|yep|no|right|true|exactly|indeed|definitely|i agree|you are (absolutely )?right"
                       r"|you're (absolutely )?right|that's (so )?true|that is (so )?true)\b",
}


def _fill(order: Sequence[int], tokens: Sequence[int], budget: int, taken: set[int]) -> list[int]:
    chosen, used = [], 0
    for i in order:
        if i in taken:
            continue
        if used + tokens[i] <= budget:
            chosen.append(i)
            used += tokens[i]
        elif not chosen:
            return [i]
    return sorted(chosen)


def windows(strategy: str, claim: str, sentences: list[str], tokens: list[int], budget: int, count: int) -> list[list[int]]:
    """Sentence indices of each window; the first is what guard reads today, the others only when evidence overflows.

    ranked: the next most relevant sentences not read yet; consecutive: runs of the source that fit, by their
    most relevant sentence; centred: the source grown around each next most relevant sentence.
    """
    first = evidence.select_sentences(claim, sentences, tokens, budget)
    if sum(tokens) <= budget:
        return [first]
    scores = evidence.relevance(claim, sentences)
    order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    found, taken = [first], set(first)
    if strategy == "ranked":
        while len(found) < count and len(taken) < len(sentences):
            found.append(_fill(order, tokens, budget, taken))
            taken.update(found[-1])
        return found
    if strategy == "consecutive":
        runs, run, used = [], [], 0
        for i, t in enumerate(tokens):
            if run and used + t > budget:
                runs.append(run)
                run, used = [], 0
            run.append(i)
            used += t
        runs.append(run)
        runs.sort(key=lambda r: (-max(scores[i] for i in r), -sum(scores[i] for i in r), r[0]))
        return found + [r for r in runs if r != first][: count - 1]
    covered: set[int] = set()
    for top in order:
        if len(found) >= count:
            break
        if top in covered:
            continue
        low = high = top
        used = tokens[top]
        grew = True
        while grew:
            grew = False
            if high + 1 < len(tokens) and used + tokens[high + 1] <= budget:
                high, used, grew = high + 1, used + tokens[high + 1], True
            if low > 0 and used + tokens[low - 1] <= budget:
                low, used, grew = low - 1, used + tokens[low - 1], True
        covered.update(range(low, high + 1))
        if list(range(low, high + 1)) != first:
            found.append(list(range(low, high + 1)))
    return found


def rescore(args: argparse.Namespace) -> None:
    from benchmarks.verify_answers import claim_rows
    from guard.verify.support_model import SupportModelVerifier
    from guard.training.train import held_out_rows

    if args.question_words is not None:
        evidence.QUESTION_WORDS = args.question_words
    verifier = SupportModelVerifier()
    base = {(r["file"], r["id"]): r for r in map(json.loads, args.scores.read_text().splitlines()) if r["half"] == args.half}
    held = held_out_rows(load_rows(args.data), seed=0)[args.half]
    logits: dict[tuple[str, str], float] = {}
    with args.out.open("w") as out:
        for file, rows in sorted(held.items()):
            rows = [r for r in rows if (file, r.id) in base]
            claims = claim_rows(rows)
            read = []
            for _, text, sources, question in claims:
                claim = evidence.claim_text(text, question)
                sentences = evidence.evidence_sentences(sources)
                tokens = verifier._tokens.get_many(sentences, verifier._count)
                budget = max(evidence.MIN_EVIDENCE_BUDGET,
                             verifier.max_length - evidence.SPECIAL_TOKENS - verifier._count([claim])[0])
                read.append([(" ".join(sentences[k] for k in w), claim)
                             for w in windows(args.strategy, claim, sentences, tokens, budget, args.windows)])
            missing = list(dict.fromkeys(p for ps in read for p in ps if p not in logits))
            if missing:
                logits.update(zip(missing, verifier.runtime.logits(missing).tolist()))
            per_row: dict[int, list[list[float]]] = {}
            for (i, *_), pairs in zip(claims, read):
                per_row.setdefault(i, []).append([round(float(1 / (1 + np.exp(-logits[p]))), 6) for p in pairs])
            for i, row in enumerate(rows):
                scored = base[(file, row.id)]
                scored["claims"] = [{**c, "model": w[0], "windows": w}
                                    for c, w in zip(scored["claims"], per_row.get(i, []), strict=True)]
                out.write(json.dumps(scored) + "\n")
            print(f"{file}: {len(claims)} claims, {len(missing)} pairs read", flush=True)


def keep(args: argparse.Namespace) -> None:
    with args.out.open("w") as out:
        for line in args.scores.read_text().splitlines():
            row = json.loads(line)
            for claim in row["claims"]:
                p = np.clip(np.asarray(claim["windows"][: args.windows]), 1e-6, 1 - 1e-6)
                odds = np.log(p / (1 - p))
                claim["model"] = round(float(1 / (1 + np.exp(-(odds.max() if args.aggregate == "max" else odds.mean())))), 6)
            out.write(json.dumps(row) + "\n")


def drop(args: argparse.Namespace) -> None:
    pattern = re.compile("|".join(f"(?:{PATTERNS[p]})" for p in args.pattern), re.I)
    left_out = 0
    with args.out.open("w") as out:
        for line in args.scores.read_text().splitlines():
            row = json.loads(line)
            kept = [c for c in row["claims"] if not pattern.search(c["text"].strip())]
            left_out += len(row["claims"]) - len(kept)
            out.write(json.dumps({**row, "claims": kept}) + "\n")
    print(f"{left_out} claims left out")


def softmin(args: argparse.Namespace) -> None:
    from guard.evals.metrics import auroc
    from guard.layers.support import soft_min
    from guard.training import operating_points
    from guard.verify.offline import params_path

    params = json.loads(params_path("combined.json").read_text())
    answers = operating_points.by_file(a for a in operating_points.load(args.scores) if a.half == args.half)
    print("| file | " + " | ".join(f"T = {t:g}" for t in args.temperatures) + " |")
    print("|---" * (len(args.temperatures) + 1) + "|")
    for file, rows in answers.items():
        cells = []
        for t in args.temperatures:
            operating_points.soft_min = functools.partial(soft_min, temperature=t)
            scored = operating_points.Scored.shipped(rows, params)
            value = auroc(~scored.faithful, 1 - np.nan_to_num(scored.signal, nan=1.0))
            cells.append(f"{value:.3f}" if isinstance(value, float) else "-")
        print(f"| {file} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("windows", help="re-score the cross-encoder column with evidence read in windows")
    w.add_argument("--scores", type=Path, required=True)
    w.add_argument("--half", required=True, choices=[SELECT, REPORT])
    w.add_argument("--data", type=Path, default=Path("../shared/data"))
    w.add_argument("--strategy", choices=STRATEGIES, default="ranked")
    w.add_argument("--windows", type=int, default=3)
    w.add_argument("--question-words", type=int)
    w.add_argument("--out", type=Path, required=True)
    k = sub.add_parser("keep", help="the claim's cross-encoder score from its first windows")
    k.add_argument("--scores", type=Path, required=True)
    k.add_argument("--windows", type=int, required=True)
    k.add_argument("--aggregate", choices=["max", "mean"], default="max")
    k.add_argument("--out", type=Path, required=True)
    d = sub.add_parser("drop", help="leave out claims matching a pattern")
    d.add_argument("--scores", type=Path, required=True)
    d.add_argument("--pattern", nargs="+", choices=sorted(PATTERNS), required=True)
    d.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("softmin", help="AUROC per file at other soft-minimum temperatures")
    s.add_argument("--scores", type=Path, required=True)
    s.add_argument("--half", default=SELECT, choices=[SELECT, REPORT])
    s.add_argument("--temperatures", type=float, nargs="+", default=[0.1, 1.0])
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    {"windows": rescore, "keep": keep, "drop": drop, "softmin": softmin}[args.command](args)


if __name__ == "__main__":
    main()
