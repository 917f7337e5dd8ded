"""Fine-tune the support cross-encoder from the packaged MiniLM on the shared labelled pairs.

    python -m guard.training.train --data ../shared/data --out /tmp/support-run --seed 0 \\
        [--caps vitaminc=12000,halueval_qa=1500,...] [--epochs 1] [--measure 20] \\
        [--init guard/verify/models/support-minilm] [--mine vitaminc=800,...] [--summary-edits 800]

Why this mix: VitaminC's minimal pairs (one number, date or word changed) teach what a
verifier must notice; WiCE's training groups are the realistic partly-supported case;
HaluEval and BEGIN add dialogue and summaries, but their hallucinated answers differ in
length and style, so they are capped and sampled length-matched (as many faithful as
hallucinated answers in every length band): length alone then tells nothing.

Evidence longer than ``--max-length`` is cut to the sentences sharing the most words with the
claim (``guard.verify.evidence``, as at inference). The grouped split (``guard.training.splits``) is written to ``<out>/split.json`` so evaluation
reuses it. Checkpoints go to ``<out>/checkpoints/step-N`` with their ``select``-split AUROC per
file in ``<out>/log.jsonl``; ``<out>/best.json`` names the best one. CI never runs this.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from guard.verify.evidence import MIN_EVIDENCE_BUDGET, SPECIAL_TOKENS, claim_text, evidence_sentences, select_sentences
from guard.training.splits import HELD_OUT, REPORT, SELECT, TRAIN, Row, load_rows, side

# Sized for ~40 minutes on a shared 2-core machine; raise them (and --epochs) where there is more CPU.
DEFAULT_CAPS = {"vitaminc": 1200, "wice_dev_claims": 10_000, "halueval_qa": 240, "halueval_dialogue": 100,
                "halueval_summarization": 80, "begin": 320}
LENGTH_BANDS = (1, 2, 3, 5, 8, 12, 20, 35, 60, 100)
EVAL_CAP = {SELECT: 250, REPORT: 600}  # rows per file of each held-out half
CHECKPOINT_EVAL_ROWS = 120  # per file of the select half, read at each checkpoint


def length_band(text: str) -> int:
    n = len(text.split())
    return sum(n > b for b in LENGTH_BANDS)


def balanced_sample(rows: list[Row], cap: int, rng: random.Random, match_length: bool) -> list[Row]:
    """Up to ``cap`` rows, as many faithful as hallucinated, per length band when ``match_length``."""
    bands: dict[int, tuple[list[Row], list[Row]]] = defaultdict(lambda: ([], []))
    for row in rows:
        bands[length_band(row.response) if match_length else 0][0 if row.faithful else 1].append(row)
    pairs: list[tuple[Row, Row]] = []
    for faithful, hallucinated in bands.values():
        rng.shuffle(faithful)
        rng.shuffle(hallucinated)
        pairs += list(zip(faithful, hallucinated))
    rng.shuffle(pairs)
    chosen = [r for pair in pairs[: cap // 2] for r in pair]
    if not match_length and len(chosen) < cap:  # a small file keeps its surplus class rather than lose it
        rest = [r for r in rows if r not in set(chosen)]
        rng.shuffle(rest)
        chosen += rest[: cap - len(chosen)]
    return chosen


def training_rows(rows: list[Row], caps: dict[str, int], seed: int) -> list[Row]:
    rng = random.Random(seed)
    by_family: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if side(row, seed) == TRAIN:
            by_family[row.family].append(row)
    chosen: list[Row] = []
    for family, cap in caps.items():
        if cap <= 0:
            continue
        match = family.startswith("halueval") or family == "begin"
        picked = balanced_sample(by_family[family], cap, rng, match_length=match)
        print(f"train {family}: {len(picked)} of {len(by_family[family])}", flush=True)
        chosen += picked
    rng.shuffle(chosen)
    return chosen


def summary_edit_rows(rows: list[Row], count: int, seed: int) -> list[Row]:
    """Sentence-level minimal pairs (``guard.training.synthetic.summary_edits``) from ``count`` faithful training
    summaries; each pair keeps its summary's group, so it stays on the training side."""
    from guard.training.synthetic import summary_edits

    faithful = [r for r in rows if r.family == "halueval_summarization" and r.faithful and side(r, seed) == TRAIN]
    random.Random(seed).shuffle(faithful)
    faithful = faithful[:count]
    pairs = summary_edits([(r.response, list(r.sources)) for r in faithful], seed)
    made = [Row(file="synthetic/summary_edits", id=f"{faithful[p.origin].id}:{p.kind}:{k}", sources=tuple(p.sources),
                response=p.claim, faithful=p.supported, question=None, group=faithful[p.origin].group)
            for k, p in enumerate(pairs)]
    print(f"train summary_edits: {len(made)} from {len(faithful)} faithful summaries", flush=True)
    return made


def mine_hard_rows(predict: Callable[[list], np.ndarray], builder: PairBuilder, rows: list[Row], chosen: list[Row], counts: dict[str, int],
                   seed: int, pool_factor: int, max_loss: float = math.inf) -> list[Row]:
    """Training-side rows the starting model gets most wrong, ``counts[family]`` per family, half of each class.

    Why: the random rows a second run adds are mostly ones the model already scores right; the rows it
    misjudges (a faithful summary it doubts, an edited VitaminC claim it believes) carry the signal.
    Each family's pool is ``pool_factor`` times its count, drawn from training rows not already chosen.
    ``max_loss`` leaves out rows judged wrong with more assurance than that (``-log`` of the probability given to
    the label): in these sets the most confidently misjudged rows are often the mislabelled ones.
    """
    rng = random.Random(seed + 7)
    taken = {(r.file, r.id) for r in chosen}
    mined: list[Row] = []
    for family, count in counts.items():
        pool = [r for r in rows if r.family == family and r.file.startswith("train/") and side(r, seed) == TRAIN
                and (r.file, r.id) not in taken]
        by_class = {True: [r for r in pool if r.faithful], False: [r for r in pool if not r.faithful]}
        for label, candidates in by_class.items():
            rng.shuffle(candidates)
            candidates = candidates[: pool_factor * count // 2]
            if not candidates:
                continue
            scores = predict(builder.build(candidates))
            loss = -np.log(np.clip(scores if label else 1.0 - scores, 1e-6, 1.0))
            eligible = np.flatnonzero(loss <= max_loss)
            hardest = eligible[np.argsort(-loss[eligible])][: count // 2]
            mined += [candidates[i] for i in hardest]
            wrong = float(np.mean((scores >= 0.5) != label))
            kept = f"loss {loss[hardest].min():.2f}-{loss[hardest].max():.2f}" if len(hardest) else "none"
            print(f"mine {family} {'faithful' if label else 'hallucinated'}: {len(hardest)} of {len(candidates)} "
                  f"scored (misjudged at 0.5: {wrong:.2f}, kept {kept})", flush=True)
    return mined


def held_out_rows(rows: list[Row], seed: int) -> dict[str, dict[str, list[Row]]]:
    """``{select|report: {file: rows}}``; HaluEval QA is measured on its development file only."""
    rng = random.Random(seed + 1)
    result: dict[str, dict[str, list[Row]]] = {SELECT: defaultdict(list), REPORT: defaultdict(list)}
    for row in rows:
        half = side(row, seed)
        if half != TRAIN and row.file != "train/halueval_qa":
            result[half][row.file].append(row)
    for half, files in result.items():
        for file, picked in files.items():
            rng.shuffle(picked)
            files[file] = picked[: EVAL_CAP[half]]
    return {half: dict(files) for half, files in result.items()}


class PairBuilder:
    """(evidence, claim) text pairs cut to fit ``max_length``, exactly as inference builds them."""

    def __init__(self, tokenizer, max_length: int):  # noqa: ANN001 - a transformers tokenizer
        self.tokenizer = tokenizer
        self.max_length = max_length

    def build(self, rows: list[Row]) -> list[tuple[str, str]]:
        claims = [claim_text(r.response, r.question) for r in rows]
        sentences = [evidence_sentences(r.sources) for r in rows]
        counts = iter(self._count([s for ss in sentences for s in ss]))
        sentence_tokens = [[next(counts) for _ in ss] for ss in sentences]
        budgets = [max(MIN_EVIDENCE_BUDGET, self.max_length - SPECIAL_TOKENS - n) for n in self._count(claims)]
        pairs = []
        for i, claim in enumerate(claims):
            keep = select_sentences(claim, sentences[i], sentence_tokens[i], budgets[i])
            pairs.append((" ".join(sentences[i][k] for k in keep), claim))
        return pairs

    def _count(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in self.tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]]


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """NaN when a file holds one class only, so one such file cannot stop a training run."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if len(np.unique(labels)) == 2 else float("nan")


class Trainer:
    def __init__(self, args: argparse.Namespace):
        import torch
        from transformers import AutoTokenizer

        from guard.embeddings import packaged_model_dir
        from guard.training.scorer import SupportScorer

        torch.manual_seed(args.seed)
        base = args.init or args.base or str(packaged_model_dir())
        self.torch = torch
        self.args = args
        self.tokenizer = AutoTokenizer.from_pretrained(base)
        # --init goes on from a trained scorer (encoder and head), e.g. the shipped one with new data
        self.model = SupportScorer.load(args.init) if args.init else SupportScorer.from_encoder(base)
        self.out = Path(args.out)

    def batches(self, pairs: list[tuple[str, str]], rng: random.Random) -> list[list[int]]:
        """Length-bucketed batches (similar lengths pad little), in random order."""
        order = list(range(len(pairs)))
        rng.shuffle(order)
        size = self.args.batch_size
        chunk = size * 50
        batches = []
        for start in range(0, len(order), chunk):
            part = sorted(order[start:start + chunk], key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
            batches += [part[k:k + size] for k in range(0, len(part), size)]
        rng.shuffle(batches)
        return batches

    def encode(self, pairs: list[tuple[str, str]]):  # noqa: ANN201 - a BatchEncoding
        return self.tokenizer([p[0] for p in pairs], [p[1] for p in pairs], truncation=True,
                              max_length=self.args.max_length, padding=True, return_tensors="pt")

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        torch = self.torch
        self.model.eval()
        out = []
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        with torch.inference_mode():
            for k in range(0, len(order), 64):
                idx = order[k:k + 64]
                logits = self.model(**self.encode([pairs[i] for i in idx]))
                out += list(zip(idx, torch.sigmoid(logits).tolist()))
        self.model.train()
        scores = np.zeros(len(pairs))
        for i, s in out:
            scores[i] = s
        return scores

    def evaluate(self, select: dict[str, tuple[list[tuple[str, str]], np.ndarray]]) -> dict[str, float]:
        return {file: auroc(labels, self.predict(pairs)) for file, (pairs, labels) in select.items()}

    def run(self, pairs: list[tuple[str, str]], labels: list[float],
            select: dict[str, tuple[list[tuple[str, str]], np.ndarray]]) -> None:
        torch, args = self.torch, self.args
        rng = random.Random(args.seed)
        epochs = [self.batches(pairs, rng) for _ in range(args.epochs)]
        total = sum(len(e) for e in epochs)
        if args.measure:
            total = args.measure
        # The head starts from nothing: it gets a larger step than the pretrained encoder.
        optimizer = torch.optim.AdamW([{"params": self.model.encoder.parameters(), "lr": args.lr},
                                       {"params": self.model.head.parameters(), "lr": args.head_lr}],
                                      weight_decay=0.01)
        warmup = max(1, int(0.06 * total))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
        loss_fn = torch.nn.BCEWithLogitsLoss()
        target = torch.tensor(labels, dtype=torch.float32)
        self.model.train()
        step, running, started = 0, [], time.time()
        log = (self.out / "log.jsonl").open("a")
        best = {"step": None, "score": -1.0}
        for batch in (b for e in epochs for b in e):
            if step >= total:
                break
            inputs = self.encode([pairs[i] for i in batch])
            logits = self.model(**inputs)
            loss = loss_fn(logits, target[batch])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            running.append(loss.item())
            if step % 20 == 0 or step == total:
                elapsed = time.time() - started
                print(json.dumps({"step": step, "of": total, "loss": round(float(np.mean(running[-50:])), 4),
                                  "sec_per_step": round(elapsed / step, 3),
                                  "eta_min": round(elapsed / step * (total - step) / 60, 1)}), flush=True)
            if not args.measure and (step % args.checkpoint_every == 0 or step == total):
                best = self.checkpoint(step, select, running, log, best)
        if args.measure:
            print(json.dumps({"measured_steps": step, "sec_per_step": (time.time() - started) / step,
                              "batches_per_epoch": len(epochs[0])}), flush=True)

    def checkpoint(self, step: int, select, running: list[float], log, best: dict) -> dict:  # noqa: ANN001
        folder = self.out / "checkpoints" / f"step-{step}"
        self.model.save(folder)
        self.tokenizer.save_pretrained(folder)
        per_file = self.evaluate(select)
        score = float(np.nanmean(list(per_file.values())))
        entry = {"step": step, "loss": float(np.mean(running[-200:])), "select_auroc": per_file,
                 "select_auroc_mean": score, "time": time.time()}
        log.write(json.dumps(entry) + "\n")
        log.flush()
        print(json.dumps(entry), flush=True)
        if score > best["score"]:
            best = {"step": step, "score": score, "folder": str(folder)}
            (self.out / "best.json").write_text(json.dumps(best, indent=2))
        return best


def parse_counts(text: str | None) -> dict[str, int]:
    """``"vitaminc=800,begin=300"`` -> ``{"vitaminc": 800, "begin": 300}``."""
    counts = {}
    for item in filter(None, (text or "").split(",")):
        name, value = item.split("=")
        counts[name.strip()] = int(value)
    return counts


def parse_caps(text: str | None) -> dict[str, int]:
    return {**DEFAULT_CAPS, **parse_counts(text)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="folder with the development *.jsonl files and train/")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base", help="model folder to start from (default: the packaged MiniLM)")
    parser.add_argument("--init", help="a trained support model folder to go on training (its head included)")
    parser.add_argument("--summary-edits", type=int, default=0,
                        help="faithful training summaries to make sentence-level minimal pairs from")
    parser.add_argument("--caps", help="rows per family, e.g. vitaminc=12000,begin=2000")
    parser.add_argument("--mine", help="hard rows per family the starting model misjudges most, e.g. vitaminc=800")
    parser.add_argument("--mine-pool", type=int, default=4, help="rows scored per mined row")
    parser.add_argument("--mine-max-loss", type=float, default=math.inf,
                        help="leave out rows misjudged more surely than this loss, e.g. 2.3 (label given p < 0.1)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--checkpoint-every", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--measure", type=int, default=0, help="time this many steps and stop")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = load_rows(args.data)
    caps = parse_caps(args.caps)
    train = training_rows(rows, caps, args.seed)
    if args.summary_edits:
        train += summary_edit_rows(rows, args.summary_edits, args.seed)
        random.Random(args.seed).shuffle(train)
    trainer = Trainer(args)
    builder = PairBuilder(trainer.tokenizer, args.max_length)
    if args.mine:
        train += mine_hard_rows(trainer.predict, builder, rows, train, parse_counts(args.mine), args.seed,
                                args.mine_pool, args.mine_max_loss)
        random.Random(args.seed).shuffle(train)
    held = held_out_rows(rows, args.seed)
    split = {"seed": args.seed, "held_out": HELD_OUT, "caps": caps, "eval_cap": EVAL_CAP,
             "train": {f: sorted(r.id for r in train if r.file == f) for f in sorted({r.file for r in train})},
             **{half: {f: [r.id for r in rs] for f, rs in files.items()} for half, files in held.items()}}
    (out / "split.json").write_text(json.dumps(split))
    (out / "args.json").write_text(json.dumps(vars(args), indent=2))

    started = time.time()
    if args.measure:
        train = train[: args.measure * args.batch_size * 2]
    pairs = builder.build(train)
    labels = [1.0 if r.faithful else 0.0 for r in train]
    select = {} if args.measure else {
        f: (builder.build(rs[:CHECKPOINT_EVAL_ROWS]), np.array([r.faithful for r in rs[:CHECKPOINT_EVAL_ROWS]]))
        for f, rs in held[SELECT].items()}
    print(json.dumps({"pairs": len(pairs), "prep_sec": round(time.time() - started, 1),
                      "steps_per_epoch": math.ceil(len(pairs) / args.batch_size)}), flush=True)
    trainer.run(pairs, labels, select)


if __name__ == "__main__":
    main()
