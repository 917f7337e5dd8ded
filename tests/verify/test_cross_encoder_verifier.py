"""The cross-encoder verifier on tiny checkpoints built here (no download): their heads ignore the input
and emit fixed logits, so each test knows exactly which probability the verifier must read off."""

import math

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

from guard.config import SupportConfig
from guard.errors import ConfigError
from guard.verify import get_verifier
from guard.verify.cross_encoder import CrossEncoderVerifier

WORDS = "the refund takes days thirty is paid within five business".split()


def tiny_checkpoint(path, labels: list[str], bias: list[float]) -> str:
    path.mkdir(parents=True)
    (path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "."] + WORDS) + "\n")
    config = BertConfig(vocab_size=len(WORDS) + 6, hidden_size=8, num_hidden_layers=1, num_attention_heads=1,
                        intermediate_size=8, max_position_embeddings=512, num_labels=len(labels),
                        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor(bias))
    model.save_pretrained(path)
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(path)
    return str(path)


def softmax_at(logits: list[float], index: int) -> float:
    return math.exp(logits[index]) / sum(math.exp(x) for x in logits)


PAIR = ("the refund takes thirty days.", ["the refund is paid within five business days."])


async def test_the_support_probability_is_read_from_the_entailment_class(tmp_path):
    logits = [2.0, -1.0, 0.5]
    path = tiny_checkpoint(tmp_path / "nli", ["contradiction", "neutral", "entailment"], logits)
    scores = await CrossEncoderVerifier(path).score([PAIR])
    assert scores.probabilities[0] == pytest.approx(softmax_at(logits, 2), abs=1e-4)


async def test_a_single_score_model_gives_its_sigmoid(tmp_path):
    path = tiny_checkpoint(tmp_path / "hhem", ["consistent"], [1.5])
    scores = await CrossEncoderVerifier(path).score([PAIR])
    assert scores.probabilities[0] == pytest.approx(1 / (1 + math.exp(-1.5)), abs=1e-4)


async def test_labels_that_name_no_support_class_are_refused(tmp_path):
    path = tiny_checkpoint(tmp_path / "odd", ["positive", "negative"], [0.0, 0.0])
    with pytest.raises(ValueError, match="supported"):
        await CrossEncoderVerifier(path).score([PAIR])


async def test_long_evidence_is_read_in_windows_and_scored_once_per_pair(tmp_path):
    path = tiny_checkpoint(tmp_path / "nli", ["entailment", "neutral", "contradiction"], [1.0, 0.0, 0.0])
    long_evidence = [" ".join(["the refund is paid within five business days."] * 40)] * 3
    scores = await CrossEncoderVerifier(path).score([PAIR, (PAIR[0], long_evidence)])
    assert scores.probabilities == pytest.approx([softmax_at([1.0, 0.0, 0.0], 0)] * 2, abs=1e-4)


def test_the_factory_builds_it_from_the_configured_path(tmp_path):
    path = tiny_checkpoint(tmp_path / "nli", ["entailment", "contradiction"], [0.0, 0.0])
    verifier = get_verifier(SupportConfig(verifier="cross_encoder", cross_encoder_model=path))
    assert isinstance(verifier, CrossEncoderVerifier) and verifier.model_name == path


def test_the_factory_refuses_a_cross_encoder_without_a_model():
    with pytest.raises(ConfigError, match="cross_encoder_model"):
        get_verifier(SupportConfig(verifier="cross_encoder"))
