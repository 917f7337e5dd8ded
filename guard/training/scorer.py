"""The support model's network: MiniLM reading (evidence, claim) together, mean-pooled, one linear score.

Why mean pooling and not the usual ``[CLS]`` + pooler head: the packaged MiniLM was trained
as a sentence encoder with mean pooling, and its pooler output barely varies between inputs
(std ~0.04 against ~0.17 for the token mean), so a classifier on it started at chance and
stayed there for hundreds of steps. On the token mean it learns from the first batches.

Saved as the encoder's own files (``save_pretrained``) plus ``head.safetensors``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel

from guard.verify.support_model import HEAD_FILE



class SupportScorer(torch.nn.Module):
    """Logit that the claim (second segment) is supported by the evidence (first segment)."""

    def __init__(self, encoder: torch.nn.Module):
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(encoder.config.hidden_size, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)

    @classmethod
    def from_encoder(cls, folder: str | Path) -> "SupportScorer":
        """A fresh head on a pretrained encoder (the start of training)."""
        return cls(AutoModel.from_pretrained(str(folder), add_pooling_layer=False))

    @classmethod
    def load(cls, folder: str | Path) -> "SupportScorer":
        """A trained scorer, in fp32 whatever it was stored in (CPUs compute fp32 faster than fp16)."""
        encoder = AutoModel.from_pretrained(str(folder), add_pooling_layer=False, dtype=torch.float32,
                                            local_files_only=True)
        scorer = cls(encoder)
        scorer.head.load_state_dict({k: v.float() for k, v in load_file(str(Path(folder) / HEAD_FILE)).items()})
        return scorer.eval()

    def save(self, folder: str | Path, half: bool = False) -> None:
        folder = Path(folder)
        encoder = self.encoder.half() if half else self.encoder
        encoder.save_pretrained(folder, safe_serialization=True)
        head = {k: (v.half() if half else v).contiguous() for k, v in self.head.state_dict().items()}
        save_file(head, str(folder / HEAD_FILE))
