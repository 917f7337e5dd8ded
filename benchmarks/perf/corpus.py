"""Questions and answers guard has never seen, built from the sample knowledge base (examples/kb).

Figure 4 measures guard's own compute on a realistic answer: about 200 tokens,
ten cited sentences, most taken from the knowledge base (so the support check
has real work) and some with a changed number (unsupported, as a model's slips
are). Each answer is unique, so no cache anywhere can serve it twice; each
question is too, so neither can retrieval.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

SAMPLE_KB = Path(__file__).resolve().parents[2] / "examples" / "kb"
TOPICS = ["refund", "return window", "shipping", "subscription", "privacy", "battery", "Wi-Fi", "warranty",
          "restocking fee", "account deletion", "delivery time", "error code", "Lumen Arc", "contact support"]


def kb_sentences(folder: Path = SAMPLE_KB) -> list[str]:
    """Plain sentences of the sample knowledge base's Markdown and FAQ files (headings and tables left out)."""
    text = []
    for path in sorted(folder.glob("*.md")):
        lines = [line.lstrip("- ") for line in path.read_text().splitlines() if not line.startswith(("#", "|"))]
        body = "\n".join(lines)
        text.append(body.replace("**", ""))
    for line in (folder / "faq.jsonl").read_text().splitlines():
        text.append(json.loads(line)["text"])
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(" ".join(text).split()))
    return [s for s in sentences if 6 <= len(s.split()) <= 40]


def _slip(sentence: str, rng: random.Random) -> str:
    """The sentence with one number changed, or unchanged when it has none."""
    numbers = re.findall(r"\d+", sentence)
    if not numbers:
        return sentence
    old = rng.choice(numbers)
    return sentence.replace(old, str(int(old) + rng.randint(2, 9)), 1)


def answer(rng: random.Random, sentences: list[str], words: int = 150) -> str:
    """About ``words`` words (~200 tokens) of cited sentences; roughly one in four carries a slip."""
    parts: list[str] = []
    while sum(len(p.split()) for p in parts) < words:
        sentence = rng.choice(sentences)
        if rng.random() < 0.25:
            sentence = _slip(sentence, rng)
        parts.append(f"{sentence[:-1]} [{rng.randint(1, 5)}]{sentence[-1]}")
    return " ".join(parts)


def question(rng: random.Random, sentences: list[str], number: int) -> str:
    words = rng.choice(sentences).rstrip(".!?").split()
    start = rng.randint(0, max(0, len(words) - 8))
    return f"About the {rng.choice(TOPICS)} (ticket {number}): is it true that {' '.join(words[start:start + 8])}?"


def build(count: int, model: str, seed: int = 12) -> tuple[list[dict[str, object]], list[str]]:
    """``count`` request bodies and, in the same order, the answers the fake upstream should give."""
    rng, sentences = random.Random(seed), kb_sentences()
    bodies = [{"model": model, "messages": [{"role": "user", "content": question(rng, sentences, i)}]}
              for i in range(count)]
    return bodies, [answer(rng, sentences) for _ in range(count)]
