"""Fit the token_confidence (and consistency) slopes of guard's confidence model on answers drawn here.

Not run by CI or ``make test``: it runs the embedded SmolLM2 for about an hour.

1. ``generate``: HaluEval QA questions (``train/halueval_qa.jsonl``, the right answer is the
   response of the ``-faithful`` row) are put to the embedded model with their knowledge
   passage as a numbered source, in guard's own grounded prompt (``guard.layers.grounding``),
   so some answers are right and some wrong. Per question: one sample at the model's
   serving temperature (0.2, guard's primary answer) and ``--hot`` samples at 0.7 (as guard's
   self-consistency extras), each with the token log-probabilities the engine returns.
   One JSON line per question is appended to ``--out``: a rerun resumes where it stopped.
2. ``fit``: labels each answer (normalized containment of the right answer, below), computes
   guard's own ``token_confidence`` per answer and guard's own consistency layer (the
   configured support verifier) on the primary plus the first two hot samples (guard's
   default of 3 samples), then Platt-fits logit(signal) -> correct on one half of the
   questions and reports on the other half: AUROC with a 95 % bootstrap interval (resampling
   questions), balanced accuracy, and the ECE of the fused confidence with the fitted slope
   and the shared intercept of ``guard/verify/params/confidence.json``. ``--write`` stores a
   fitted slope there only when its held-out AUROC interval excludes 0.5.

Labels: SQuAD-style normalization (lower case, no punctuation, no articles, single spaces);
an answer is correct when the right answer's words appear in it as a contiguous run. A yes/no
right answer must be the first yes/no word of the answer. Questions whose right answer is
spelled out in the question ("A or B, which came first?") are left out: containment cannot
label them, an answer naming both would count as right.

    python -m benchmarks.token_confidence_fit generate --questions 296 --out samples.jsonl  # ~1 h, one core
    python -m benchmarks.token_confidence_fit fit --samples samples.jsonl [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import random
import re
import string
import time
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path("/work/shared/data/train/halueval_qa.jsonl")
PARAMS = Path(__file__).resolve().parents[1] / "guard" / "verify" / "params" / "confidence.json"
SEED = 0
PRIMARY_TEMPERATURE = 0.2  # local/smollm2's serving temperature: guard's primary answer
HOT_TEMPERATURE = 0.7  # the extra samples (guard's consistency.temperature defaults to 0.8)
TOP_P = 0.9
REPEAT_PENALTY = 1.1


# ---------------------------------------------------------------- questions and labels

def normalize(text: str) -> list[str]:
    text = re.sub(r"[\W_]+", " ", text.lower())  # any punctuation, ASCII or not ("Ottoman–Habsburg")
    return [w for w in text.split() if w not in {"a", "an", "the"}]


def _ascii_words(text: str) -> list[str]:
    """The normalization the recorded run chose its questions with (ASCII punctuation only); kept so reruns match."""
    text = "".join(" " if ch in string.punctuation else ch for ch in text.lower())
    return [w for w in text.split() if w not in {"a", "an", "the"}]


def _contains(words: list[str], run: list[str]) -> bool:
    return bool(run) and any(words[i:i + len(run)] == run for i in range(len(words) - len(run) + 1))


def is_correct(answer: str, right: str) -> bool:
    words, run = normalize(answer), normalize(right)
    if run in (["yes"], ["no"]):
        first = next((w for w in words if w in ("yes", "no")), None)
        return first == run[0]
    return _contains(words, run)


def questions(path: Path, limit: int, seed: int = SEED) -> list[dict[str, str]]:
    """Questions in a fixed shuffled order, without those whose answer the question spells out."""
    rows = []
    with path.open() as f:
        for line in f:
            row = json.loads(line)
            if row["label"] != "faithful":
                continue
            right, question = row["response"], row["question"]
            words = _ascii_words
            if words(right) not in (["yes"], ["no"]) and _contains(words(question), words(right)):
                continue
            rows.append({"id": row["id"].removesuffix("-faithful"), "question": question,
                         "knowledge": row["sources"][0], "right": right})
    random.Random(seed).shuffle(rows)
    return rows[:limit]


def grounded_messages(q: dict[str, str]) -> list[dict[str, Any]]:
    """The prompt guard's grounding layer builds, with the knowledge paragraph as source [1]."""
    from guard.layers.grounding import _grounded_prompt
    from guard.state import Source

    source = Source(id="knowledge", text=q["knowledge"], metadata={"section": "Knowledge"})
    return _grounded_prompt([{"role": "user", "content": q["question"]}], [source], False)


# ---------------------------------------------------------------- generate

def generate(args: argparse.Namespace) -> None:
    from guard.adapters.llama_engine import LlamaEngine, Sampling
    from guard.adapters.local_model import MODELS

    out = Path(args.out)
    done = set()
    if out.exists():
        done = {json.loads(line)["id"] for line in out.read_text().splitlines() if line.strip()}
    engine = LlamaEngine(MODELS["smollm2"].path(), n_ctx=2048, n_threads=args.threads)
    todo = [q for q in questions(DATA, args.questions) if q["id"] not in done]
    print(f"{len(done)} questions done, {len(todo)} to go", flush=True)
    started = time.time()
    for k, q in enumerate(todo, 1):
        messages = grounded_messages(q)
        samples = []
        plan = [(PRIMARY_TEMPERATURE, 0)] + [(HOT_TEMPERATURE, i) for i in range(1, args.hot + 1)]
        for temperature, i in plan:
            seed = (SEED * 1_000_003 + int(q["id"].rsplit("-", 1)[-1]) * 31 + i) % 2**31
            g = engine.generate(messages, Sampling(max_tokens=args.max_tokens, temperature=temperature, top_p=TOP_P,
                                                   seed=seed, repeat_penalty=REPEAT_PENALTY, logprobs=True))
            samples.append({"temperature": temperature, "seed": seed, "text": g.text, "finish_reason": g.finish_reason,
                            "tokens": [[t.token, round(t.logprob, 5)] for t in g.logprobs or ()]})
        with out.open("a") as f:
            f.write(json.dumps({**q, "samples": samples}) + "\n")
        if k % 10 == 0 or k == len(todo):
            rate = (time.time() - started) / k
            print(f"{len(done) + k} questions, {rate:.1f} s/question, ~{rate * (len(todo) - k) / 60:.0f} min left",
                  flush=True)


# ---------------------------------------------------------------- fit

def token_signal(sample: dict[str, Any]) -> float | None:
    from guard.layers.token_confidence import token_confidence

    return token_confidence([(t, lp) for t, lp in sample["tokens"]])


def consistency_signals(rows: list[dict[str, Any]], n_samples: int) -> list[tuple[float, int] | None]:
    """guard's consistency layer on each question's first samples: (signal, chosen sample), or None if it skipped."""
    from guard.config import GuardConfig
    from guard.layers.base import Skip
    from guard.layers.consistency import ConsistencyLayer
    from guard.state import RequestState

    config = GuardConfig(telemetry={"enabled": False}, consistency={"enabled": True})  # off by default at medium
    layer = ConsistencyLayer(config)

    async def one(row: dict[str, Any]) -> tuple[float, int] | None:
        state = RequestState(request_id=row["id"], config=config, model="local/smollm2",
                             messages=[{"role": "user", "content": row["question"]}])
        state.samples = [s["text"] for s in row["samples"][:n_samples]]
        state.answer = state.samples[0]
        try:
            await layer.run(state)
        except Skip:
            return None
        return state.signals["consistency"], state.answer_index

    async def all_rows() -> list[tuple[float, int] | None]:
        return [await one(row) for row in rows]

    return asyncio.run(all_rows())


def auroc_interval(x: np.ndarray, y: np.ndarray, groups: np.ndarray, n: int = 2000,
                   seed: int = SEED) -> tuple[float, float, float]:
    """AUROC and its 95 % bootstrap interval, resampling questions (samples of one question move together)."""
    from guard.evals.metrics import auroc, bootstrap_intervals

    ids = np.unique(groups)
    members = [np.flatnonzero(groups == g) for g in ids]

    def stats(picked: np.ndarray) -> dict[str, Any]:
        rows = np.concatenate([members[i] for i in picked])
        return {"auroc": auroc(y[rows].astype(bool), x[rows])}

    interval = bootstrap_intervals(stats, len(ids), resamples=n, seed=seed)["auroc"]
    return float(auroc(y.astype(bool), x)), float(interval.low), float(interval.high)


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 5) -> list[dict[str, float]]:
    which = np.minimum((p * bins).astype(int), bins - 1)
    return [{"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "n": int((which == b).sum()),
             "mean_confidence": round(float(p[which == b].mean()), 3),
             "accuracy": round(float(y[which == b].mean()), 3)}
            for b in range(bins) if (which == b).any()]


def evaluate(name: str, x: np.ndarray, y: np.ndarray, groups: np.ndarray, fit_half: np.ndarray,
             intercept: float) -> dict[str, Any]:
    from guard.evals.metrics import balanced_accuracy
    from guard.verify.calibration import expected_calibration_error, logit, sigmoid
    from guard.verify.calibration import fit_platt

    fitted = fit_platt(x[fit_half], y[fit_half])
    a, b = fitted["intercept"], fitted["slope"]
    test = ~fit_half
    auc, lo, hi = auroc_interval(x[test], y[test], groups[test])
    own = sigmoid(a + b * logit(x[test]))
    fused = sigmoid(intercept + b * logit(x[test]))  # only this signal present, shared intercept
    yt = y[test].astype(bool)
    # operating point: the signal value with the best balanced accuracy on the fit half
    threshold = max(np.unique(x[fit_half]), key=lambda t: float(balanced_accuracy(y[fit_half].astype(bool), x[fit_half] >= t)))
    return {"signal": name, "fit": {"n": int(fit_half.sum()), "questions": int(len(np.unique(groups[fit_half]))),
                                    "base_rate": round(float(y[fit_half].mean()), 3), "intercept": a, "slope": b},
            "report": {"n": int(test.sum()), "questions": int(len(np.unique(groups[test]))),
                       "base_rate": round(float(yt.mean()), 3), "auroc": auc, "auroc_95": [lo, hi],
                       "balanced_accuracy_at_0.5": float(balanced_accuracy(yt, own >= 0.5)),
                       "threshold_from_fit_half": float(threshold),
                       "balanced_accuracy_at_threshold": float(balanced_accuracy(yt, x[test] >= threshold)),
                       "ece_own_intercept": expected_calibration_error(own, yt),
                       "ece_fused_shared_intercept": expected_calibration_error(fused, yt),
                       "mean_fused": float(fused.mean()),
                       "reliability_fused": reliability(fused, yt)}}


def fit(args: argparse.Namespace) -> None:
    rows = [json.loads(line) for line in Path(args.samples).read_text().splitlines() if line.strip()]
    params = json.loads(PARAMS.read_text())
    intercept = float(params["intercept"])
    rng = random.Random(SEED)
    ids = sorted({r["id"] for r in rows})
    rng.shuffle(ids)
    fit_ids = set(ids[: len(ids) // 2])
    results: dict[str, Any] = {"questions": len(rows), "intercept_shared": intercept}

    # token_confidence: every answer with content tokens, grouped by question
    x, y, groups, primary = [], [], [], []
    for r in rows:
        for i, s in enumerate(r["samples"]):
            value = token_signal(s)
            if value is None:
                continue
            x.append(value), y.append(is_correct(s["text"], r["right"])), groups.append(r["id"]), primary.append(i == 0)
    x, y, groups, primary = np.array(x), np.array(y, dtype=int), np.array(groups), np.array(primary)
    fit_half = np.array([g in fit_ids for g in groups])
    results["answers"] = int(len(x))
    results["base_rate_correct"] = round(float(y.mean()), 3)
    results["token_confidence"] = evaluate("token_confidence", x, y, groups, fit_half, intercept)
    from guard.evals.metrics import auroc
    test_primary = ~fit_half & primary
    report = results["token_confidence"]["report"]
    report["auroc_primary_answers_only"] = float(auroc(y[test_primary].astype(bool), x[test_primary]))
    # what the blend is made of, and a length floor, for comparison (report half)
    test = ~fit_half
    parts = {"mean_logprob": [], "min_logprob": [], "minus_tokens": []}
    for r in rows:
        if r["id"] in fit_ids:
            continue
        for s in r["samples"]:
            content = [lp for t, lp in s["tokens"] if any(ch.isalnum() for ch in t)]
            if token_signal(s) is None:
                continue
            parts["mean_logprob"].append(sum(content) / len(content))
            parts["min_logprob"].append(min(content))
            parts["minus_tokens"].append(-len(s["tokens"]))
    report["diagnostic_auroc"] = {k: float(auroc(y[test].astype(bool), v)) for k, v in parts.items()}
    print(json.dumps(results["token_confidence"], indent=1), flush=True)

    # consistency: guard's layer on primary + 2 hot samples; label = the chosen answer's correctness
    if not args.skip_consistency:
        t0 = time.time()
        signals = consistency_signals(rows, args.consistency_samples)
        cx, cy, cg = [], [], []
        for r, out in zip(rows, signals):
            if out is None:
                continue
            value, chosen = out
            cx.append(value), cy.append(is_correct(r["samples"][chosen]["text"], r["right"])), cg.append(r["id"])
        cx, cy, cg = np.array(cx), np.array(cy, dtype=int), np.array(cg)
        results["consistency"] = evaluate("consistency", cx, cy, cg, np.array([g in fit_ids for g in cg]), intercept)
        results["consistency"]["samples_per_question"] = args.consistency_samples
        results["consistency"]["skipped_questions"] = int(sum(s is None for s in signals))
        results["consistency"]["seconds"] = round(time.time() - t0, 1)
        print(json.dumps(results["consistency"], indent=1), flush=True)

    if args.report:
        Path(args.report).write_text(json.dumps(results, indent=1) + "\n")
    if args.write:
        write_slopes(results, args)


def write_slopes(results: dict[str, Any], args: argparse.Namespace) -> None:
    """Store each slope whose held-out AUROC interval excludes 0.5; leave every other entry untouched."""
    params = json.loads(PARAMS.read_text())
    command = (f"python -m benchmarks.token_confidence_fit generate --questions {results['questions']} --out samples.jsonl; "
               "python -m benchmarks.token_confidence_fit fit --samples samples.jsonl --write")
    for name in ("token_confidence", "consistency"):
        result = results.get(name)
        if result is None:
            continue
        lo, hi = result["report"]["auroc_95"]
        report = result["report"]
        if not (lo > 0.5 or hi < 0.5) or result["fit"]["slope"] <= 0:
            print(f"{name}: held-out AUROC interval [{lo:.3f}, {hi:.3f}] includes 0.5; prior kept", flush=True)
            kept = params["signals"][name]["slope"]
            params["signals"][name] = {
                "slope": kept, "fitted": False,
                "why": (f"a prior: on {report['questions']} held-out questions of the embedded SmolLM2 (HaluEval QA, "
                        f"grounded prompt) the signal's AUROC is {report['auroc']:.3f} [{lo:.3f}, {hi:.3f}], not shown "
                        f"to differ from chance, so no slope is fitted there; it keeps its earlier value {kept:.2f} "
                        f"(the fit there gave {result['fit']['slope']:.2f}): {command}")}
            continue
        params["signals"][name] = {
            "slope": result["fit"]["slope"],
            "fitted": True,
            "why": (f"Platt slope of logit({name}) -> answer correct, fitted on {result['fit']['n']} answers of the "
                    f"embedded SmolLM2 to {result['fit']['questions']} HaluEval QA questions (train/halueval_qa.jsonl, "
                    f"grounded prompt, labelled by containment of the right answer); on "
                    f"{report['questions']} held-out questions AUROC {report['auroc']:.3f} "
                    f"[{lo:.3f}, {hi:.3f}]: {command}"),
        }
        params.setdefault("provenance", {})[name] = {
            "command": command, "seed": SEED, "samples": Path(args.samples).name,
            "data": {"train/halueval_qa.jsonl": hashlib.sha256(DATA.read_bytes()).hexdigest()[:16]}}
    PARAMS.write_text(json.dumps(params, indent=2, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="draw the embedded model's answers, one JSON line per question")
    g.add_argument("--questions", type=int, default=600)
    g.add_argument("--hot", type=int, default=5, help="samples at the consistency temperature, beside the primary")
    g.add_argument("--max-tokens", type=int, default=40)
    g.add_argument("--threads", type=int, default=1)
    g.add_argument("--out", required=True)
    f = sub.add_parser("fit", help="label, fit the slopes on half the questions, report on the other half")
    f.add_argument("--samples", required=True)
    f.add_argument("--consistency-samples", type=int, default=3, help="primary + hot samples the layer compares")
    f.add_argument("--skip-consistency", action="store_true")
    f.add_argument("--report", help="write the figures as JSON here")
    f.add_argument("--write", action="store_true", help=f"store slopes whose AUROC interval excludes 0.5 in {PARAMS}")
    args = parser.parse_args(argv)
    {"generate": generate, "fit": fit}[args.command](args)


if __name__ == "__main__":
    main()
