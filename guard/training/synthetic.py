"""Synthetic training pairs made by perturbing supported claims, so the verifier sees many more negatives.

Each perturbation changes one fact the sources state — a number, a date, a name,
the polarity — or bolts an unrelated clause onto a supported claim (the partly
supported case, the commonest real one). Positives come from the sources themselves
(a sentence, or its first clause). Only perturbations that really contradict the
sources are kept: a swapped number must have been in the sources, the new one must not.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from guard.verify.text import STOPWORDS, numbers, split_sentences, stem, words

_AUXILIARIES = re.compile(r"\b(is|are|was|were|has|have|had|can|could|will|would|should|does|did|do|must)\b(?! not)")
_NEGATED = re.compile(r"\b(is|are|was|were|has|have|had|can|could|will|would|should|does|did|do|must) not\b")
_DIGITS = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?![\w,])|(?<![\w.,])\d+(?:\.\d+)?(?![\w.,]\d)")
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]


@dataclass(frozen=True)
class Pair:
    claim: str
    sources: list[str]
    supported: bool
    kind: str
    origin: int = -1  # index of the supported claim it was made from, to keep splits honest


def swap_number(claim: str, sources: Sequence[str], rng: random.Random) -> str | None:
    """Change one number (a year by a few years, anything else by a plausible factor) to one the sources lack."""
    source_numbers = set().union(*(numbers(s) for s in sources)) if sources else set()
    matches = [m for m in _DIGITS.finditer(claim) if float(m.group().replace(",", "")) in source_numbers]
    if not matches:
        return None
    match = rng.choice(matches)
    value = float(match.group().replace(",", ""))
    for _ in range(10):
        if 1000 <= value <= 2100 and value == int(value):
            new = value + rng.choice([-5, -3, -2, -1, 1, 2, 3, 7])
        else:
            new = round(value * rng.choice([0.5, 0.7, 1.3, 1.5, 2, 3]) + rng.choice([0, 1, 2]), 0 if value == int(value) else 1)
        if new != value and new not in source_numbers and new >= 0:
            text = f"{int(new):,}" if "," in match.group() else (str(int(new)) if new == int(new) else str(new))
            return claim[:match.start()] + text + claim[match.end():]
    return None


def swap_month(claim: str, sources: Sequence[str], rng: random.Random) -> str | None:
    present = [m for m in _MONTHS if re.search(rf"\b{m}\b", claim)]
    if not present:
        return None
    old = rng.choice(present)
    joined = " ".join(sources)
    choices = [m for m in _MONTHS if m not in joined]
    return re.sub(rf"\b{old}\b", rng.choice(choices), claim, count=1) if choices else None


def swap_name(claim: str, sources: Sequence[str], name_pool: Sequence[str], rng: random.Random) -> str | None:
    """Replace a name the sources mention with a name from elsewhere that they do not."""
    source_stems = {stem(w) for s in sources for w in words(s)}
    candidates = [w for w in capitalised(claim) if stem(w) in source_stems]
    if not candidates or not name_pool:
        return None
    old = rng.choice(candidates)
    for _ in range(10):
        new = rng.choice(name_pool)
        if stem(new) not in source_stems and new != old:
            return re.sub(rf"\b{re.escape(old)}\b", new, claim, count=1)
    return None


def capitalised(text: str) -> list[str]:
    """Capitalised words that are not stopwords: names, places, titles."""
    return [w for w in words(text) if w[0].isupper() and w.lower() not in STOPWORDS and not w.isdigit()]


def flip_negation(claim: str) -> str | None:
    """Negate the first auxiliary verb, or remove an existing "not"."""
    if _NEGATED.search(claim):
        return _NEGATED.sub(lambda m: m.group(1), claim, count=1)
    if _AUXILIARIES.search(claim):
        return _AUXILIARIES.sub(lambda m: f"{m.group(1)} not", claim, count=1)
    return None


def add_clause(claim: str, other: str) -> str:
    """The claim plus an unrelated statement: partly supported, hence unsupported."""
    tail = other.strip().rstrip(".")
    return f"{claim.strip().rstrip('.')}, and {tail[:1].lower()}{tail[1:]}."


def first_clause(sentence: str) -> str | None:
    """A source sentence cut at its first comma: still supported, and shaped like a paraphrase."""
    head = sentence.split(",", 1)[0].strip()
    return head + "." if len(head.split()) >= 5 and head != sentence.strip() else None


def perturbations(claim: str, sources: list[str], unrelated: str, name_pool: Sequence[str],
                  rng: random.Random) -> Iterator[Pair]:
    """Every contradicting variant of one supported claim that applies to it."""
    made = {
        "number": swap_number(claim, sources, rng),
        "month": swap_month(claim, sources, rng),
        "name": swap_name(claim, sources, name_pool, rng),
        "negation": flip_negation(claim),
        "extra_clause": add_clause(claim, unrelated) if len(claim.split()) >= 4 else None,
    }
    for kind, text in made.items():
        if text and text != claim:
            yield Pair(text, sources, False, kind)


def synthesize(supported: Sequence[tuple[str, list[str]]], seed: int = 0, per_claim: int = 2,
               source_positives: float = 0.5) -> list[Pair]:
    """Perturbed negatives (up to ``per_claim`` per supported claim) and source-sentence positives."""
    rng = random.Random(seed)
    name_pool = sorted({w for claim, _ in supported for w in capitalised(claim)})
    pairs: list[Pair] = []
    for origin, (claim, sources) in enumerate(supported):
        other_claim, _ = supported[rng.randrange(len(supported))]
        variants = list(perturbations(claim, sources, other_claim, name_pool, rng))
        pairs += [replace(v, origin=origin) for v in rng.sample(variants, min(per_claim, len(variants)))]
        if rng.random() < source_positives:
            sentences = [s for text in sources for s in split_sentences(text) if len(s.split()) >= 6]
            if sentences:
                sentence = rng.choice(sentences)
                pairs.append(Pair(first_clause(sentence) or sentence, sources, True, "source_sentence", origin))
    return pairs


def summary_edits(faithful: Sequence[tuple[str, list[str]]], seed: int = 0) -> list[Pair]:
    """Minimal pairs from faithful multi-sentence answers: one sentence as written (supported) and the same
    sentence with one fact changed (not), read against the answer's sources as the support layer reads claims.

    Why: the support layer scores each sentence of a summary, and a summary's slip is usually one changed name,
    number, date or polarity in an otherwise faithful sentence; HaluEval's hallucinated summaries differ from its
    faithful ones in style, which a model can learn instead of the facts.
    """
    rng = random.Random(seed)
    name_pool = sorted({w for answer, _ in faithful for w in capitalised(answer)})
    pairs: list[Pair] = []
    for origin, (answer, sources) in enumerate(faithful):
        sentences = [s for s in split_sentences(answer) if len(s.split()) >= 6]
        if not sentences:
            continue
        sentence = rng.choice(sentences)
        # a clause bolted on from the same faithful answer would be supported: only changed facts here
        variants = [v for v in perturbations(sentence, sources, sentence, name_pool, rng) if v.kind != "extra_clause"]
        if variants:
            pairs.append(Pair(sentence, sources, True, "summary_sentence", origin))
            pairs.append(replace(rng.choice(variants), origin=origin))
    return pairs
