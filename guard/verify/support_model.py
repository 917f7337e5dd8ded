"""A MiniLM cross-encoder fine-tuned for support (``support.verifier: support_model``).

Trained by ``python -m guard.training.train`` on the shared labelled pairs and exported by
``python -m guard.training.export`` (weights in ``guard/verify/models/support-minilm/``, fp16;
the network is ``guard.training.scorer``). It runs on ONNX Runtime (the encoder through the graph
guard ships, ``guard.onnx_encoder``; the mean pooling and the linear head in numpy), so a serving
process needs no torch.

Before the cross-encoder reads a pair, the source sentences that share the most words with
the claim are chosen until the pair fits the model (``guard.verify.evidence``, the same cut as in training).
Sentence lengths and each pair's score are cached by content, so a source or an answer seen again costs nothing.

``support.json`` beside the weights holds the decision threshold chosen per risk level on
held-out development data, and how it was chosen.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from guard.embeddings import length_batches
from guard.onnx_encoder import OnnxEncoder
from guard.threads import model_forward, run_model
from guard.verify.base import SupportScores, SupportVerifier
from guard.verify.evidence import MIN_EVIDENCE_BUDGET, SPECIAL_TOKENS, claim_text, evidence_sentences, select_sentences
from guard.verify.thresholds import read_thresholds

PARAMS_FILE = "support.json"
HEAD_FILE = "head.safetensors"  # the linear head beside the encoder's own files (``guard.training.scorer`` writes it)
T = TypeVar("T")


def model_dir() -> Path:
    return Path(str(resources.files("guard.verify") / "models" / "support-minilm"))


class _ByContent(Generic[T]):
    """Text -> value, bounded, thread-safe, keyed by a hash of the text: sources and answers come back often."""

    def __init__(self, size: int = 100_000):
        self._items: OrderedDict[bytes, T] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get_many(self, texts: list[str], compute: Callable[[list[str]], Sequence[T]]) -> list[T]:
        keys = [hashlib.blake2b(t.encode(), digest_size=16).digest() for t in texts]
        with self._lock:
            found = {k: self._items[k] for k in keys if k in self._items}
        missing = list(dict.fromkeys((k, t) for k, t in zip(keys, texts) if k not in found))
        if missing:
            fresh = dict(zip((k for k, _ in missing), compute([t for _, t in missing])))
            found.update(fresh)
            with self._lock:
                self._items.update(fresh)
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return [found[k] for k in keys]


class SupportModelVerifier(SupportVerifier):
    """Scores (evidence, claim) pairs with the shipped cross-encoder; reads the question when there is one."""

    name = "support_model"
    uses_question = True

    def __init__(self, folder: str | Path | None = None, int8: bool = False):
        self.folder = Path(folder) if folder else model_dir()
        try:
            self.params = json.loads((self.folder / PARAMS_FILE).read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"support model not found at {self.folder}; run python -m guard.training.train") from None
        self.max_length = int(self.params["max_length"])
        self.thresholds: dict[str, float] = read_thresholds(self.params)
        self.int8 = int8
        self._tokens: _ByContent[int] = _ByContent()
        self._logits: _ByContent[float] = _ByContent()  # a repeated answer against the same sources costs nothing
        self._load_lock = threading.Lock()
        self._runtime: _OnnxScorer | None = None
        self._counter = None

    @property
    def runtime(self) -> _OnnxScorer:
        """Loaded once, on first use, whichever thread gets there first."""
        with self._load_lock:
            if self._runtime is None:
                self._runtime = _OnnxScorer(OnnxEncoder(self.folder, self.max_length, self.int8), self.folder)
            return self._runtime

    def load(self) -> None:
        """Load the model now (it otherwise loads on first use), e.g. at process start, off the event loop."""
        _ = self.runtime

    def pairs(self, pairs: list[tuple[str, list[str]]], questions: Sequence[str | None]) -> list[tuple[str, str]]:
        """(evidence, claim) texts as the model reads them, cut to fit; one question (or None) per pair."""
        claims = [claim_text(claim, question) for (claim, _), question in zip(pairs, questions, strict=True)]
        sentence_sets = [evidence_sentences(evidence) for _, evidence in pairs]
        counts = self._tokens.get_many([s for ss in sentence_sets for s in ss], self._count)
        claim_tokens = self._count(claims)
        built, start = [], 0
        for claim, sentences, n_claim in zip(claims, sentence_sets, claim_tokens):
            tokens = counts[start:start + len(sentences)]
            start += len(sentences)
            budget = max(MIN_EVIDENCE_BUDGET, self.max_length - SPECIAL_TOKENS - n_claim)
            keep = select_sentences(claim, sentences, tokens, budget)
            built.append((" ".join(sentences[k] for k in keep), claim))
        return built

    def _count(self, texts: list[str]) -> list[int]:
        """Word pieces of each text, untruncated: the evidence budget is spent on whole sentences."""
        if not texts:
            return []
        if self._counter is None:
            from tokenizers import Tokenizer

            counter = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            counter.no_truncation()
            counter.no_padding()
            self._counter = counter
        return [len(e.ids) for e in self._counter.encode_batch(texts, add_special_tokens=False)]

    def probabilities(self, pairs: list[tuple[str, list[str]]], question: str | None = None) -> list[float]:
        """Synchronous scoring, for batch jobs that are not in an event loop."""
        return self.predict(pairs, [question] * len(pairs))

    def predict(self, pairs: list[tuple[str, list[str]]], questions: Sequence[str | None]) -> list[float]:
        """Scores of pairs that each come with their own question (labelled rows in benchmarks)."""
        if not pairs:
            return []
        runtime = self.runtime
        inputs = self.pairs(pairs, questions)
        keys = [f"{evidence}\x00{claim}" for evidence, claim in inputs]
        by_key = dict(zip(keys, inputs))
        logits = self._logits.get_many(keys, lambda missing: runtime.logits([by_key[k] for k in missing]).tolist())
        return (1.0 / (1.0 + np.exp(-np.asarray(logits)))).tolist()

    async def _score(self, pairs: list[tuple[str, list[str]]], question: str | None = None) -> SupportScores:
        return SupportScores(await run_model(self.probabilities, pairs, question))


class _OnnxScorer:
    """The encoder on ONNX Runtime, its token vectors mean-pooled and read by the head, as ``SupportScorer`` does."""

    def __init__(self, encoder: OnnxEncoder, folder: Path):
        from safetensors.numpy import load_file

        head = load_file(str(folder / HEAD_FILE))
        self.encoder = encoder
        self.weight = head["weight"].astype(np.float32).reshape(-1)
        self.bias = float(head["bias"].astype(np.float32).reshape(-1)[0])

    def logits(self, inputs: list[tuple[str, str]]) -> np.ndarray:
        encodings = self.encoder.tokenize(inputs)
        logits = np.zeros(len(inputs))
        with model_forward(torch_threads=False):
            for batch in length_batches([len(e.ids) for e in encodings]):
                vectors = self.encoder.token_vectors([encodings[i] for i in batch])
                logits[batch] = np.stack([v.mean(axis=0) for _, v in vectors]) @ self.weight + self.bias
        return logits
