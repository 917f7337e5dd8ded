"""Support from an NLI or fact-checking cross-encoder (DeBERTa-NLI, MiniCheck-style, HHEM-style checkpoints).

Any sentence-transformers ``CrossEncoder`` loads from a local path or hub name.
Evidence longer than the model reads is cut into windows of sentences and the
claim takes its best window (AlignScore-style), since support usually sits in one place.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from guard.extras import require
from guard.threads import model_forward, run_model
from guard.verify.base import SupportScores, SupportVerifier
from guard.verify.features import windows
from guard.verify.text import split_sentences

WINDOW_WORDS = 250


class CrossEncoderVerifier(SupportVerifier):
    """Scores (evidence window, claim) with the model; premise first, as NLI models were trained."""

    name = "cross_encoder"

    def __init__(self, model: str, batch_size: int = 16):
        if not model:
            raise ValueError("support.cross_encoder_model must name a CrossEncoder checkpoint (local path or hub name)")
        self.model_name = model
        self.batch_size = batch_size

    @cached_property
    def model(self):  # noqa: ANN201 - sentence_transformers.CrossEncoder, imported lazily
        require("train", "sentence_transformers", purpose="support.verifier: cross_encoder")
        from sentence_transformers import CrossEncoder

        return CrossEncoder(self.model_name, device="cpu")

    @cached_property
    def support_label(self) -> int | None:
        """Index of the entailment/support class of a multi-class model; None for single-score models."""
        labels = {int(i): str(name).lower() for i, name in (self.model.model.config.id2label or {}).items()}
        if len(labels) <= 1:
            return None
        for index, name in labels.items():
            if name.startswith(("entail", "support", "consistent", "faithful")):
                return index
        raise ValueError(f"{self.model_name}: cannot tell which of the labels {sorted(labels.values())} means 'supported'")

    def probabilities(self, pairs: list[tuple[str, list[str]]]) -> list[float]:
        inputs: list[tuple[str, str]] = []
        owners: list[int] = []
        for i, (claim, evidence) in enumerate(pairs):
            sentences = [s for text in evidence for s in split_sentences(text)]
            for start, end in windows(sentences, WINDOW_WORDS):
                inputs.append((" ".join(sentences[start:end]), claim))
                owners.append(i)
        with model_forward():
            raw = np.asarray(self.model.predict(inputs, batch_size=self.batch_size, show_progress_bar=False,
                                                convert_to_numpy=True), dtype=np.float64)
        per_window = self._to_probability(raw)
        best = np.zeros(len(pairs))
        np.maximum.at(best, np.asarray(owners), per_window)
        return best.tolist()

    def _to_probability(self, raw: np.ndarray) -> np.ndarray:
        if raw.ndim == 1 or raw.shape[1] == 1:
            return raw.reshape(-1)  # CrossEncoder applies its sigmoid to single-score heads
        label = self.support_label
        exp = np.exp(raw - raw.max(axis=1, keepdims=True))
        return (exp / exp.sum(axis=1, keepdims=True))[:, label]

    async def _score(self, pairs: list[tuple[str, list[str]]]) -> SupportScores:
        return SupportScores(await run_model(self.probabilities, pairs))
