"""The trainable support model path: a scorer saved as training saves it is read back and scores pairs.

No trained weights ship (see README, "Measured"); these tests save an untrained head on the
packaged MiniLM, which is enough to pin the file format, batching and question handling.
"""

from __future__ import annotations

import json

import pytest

from guard.embeddings import packaged_model_dir
from guard.verify.support_model import PARAMS_FILE, SupportModelVerifier

PAIRS = [("Refunds take 5 business days.", ["Refunds are paid within 5 business days."]),
         ("Express shipping costs 12 dollars.", ["Express shipping costs 12 dollars.", "Standard is free."]),
         ("The lamp is waterproof.", ["The lamp is for indoor use only. Keep it away from water."])]


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    import torch
    from transformers import AutoTokenizer

    from guard.verify.scorer import SupportScorer

    folder = tmp_path_factory.mktemp("support-model")
    torch.manual_seed(0)
    SupportScorer.from_encoder(packaged_model_dir()).save(folder, half=True)
    AutoTokenizer.from_pretrained(str(packaged_model_dir())).save_pretrained(folder)
    (folder / PARAMS_FILE).write_text(json.dumps({"max_length": 128, "thresholds": {
        "medium": {"threshold": 0.4}, "high": {"threshold": 0.6}}}))
    return folder


@pytest.fixture(scope="module")
def verifier(model_folder):
    return SupportModelVerifier(model_folder, batch_size=2)


def test_scores_are_probabilities_in_the_order_of_the_pairs(verifier):
    together = verifier.probabilities(PAIRS)
    alone = [verifier.probabilities([pair])[0] for pair in PAIRS]

    assert all(0.0 <= p <= 1.0 for p in together)
    assert together == pytest.approx(alone, abs=1e-5)


def test_the_question_is_part_of_what_the_model_reads(verifier):
    claim, evidence = PAIRS[0]

    (built,) = verifier.pairs([(claim, evidence)], ["How long do refunds take?"])

    assert "How long do refunds take?" in built[1] and claim in built[1]


def test_thresholds_per_risk_come_from_the_saved_parameters(verifier):
    assert (verifier.threshold("medium"), verifier.threshold("high"), verifier.threshold("low")) == (0.4, 0.6, 0.5)


def test_a_folder_without_parameters_names_the_training_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="guard.verify.train"):
        SupportModelVerifier(tmp_path)
