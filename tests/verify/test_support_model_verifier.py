"""The shipped support model: a cross-encoder fine-tuned here, read on ONNX Runtime, the same scores as on torch."""

from __future__ import annotations

import numpy as np
import pytest

from guard.verify.support_model import SupportModelVerifier

PAIRS = [("Refunds take 5 business days.", ["Refunds are paid within 5 business days."]),
         ("Express shipping costs 12 dollars.", ["Express shipping costs 12 dollars.", "Standard is free."]),
         ("The lamp is waterproof.", ["The lamp is for indoor use only. Keep it away from water."])]


@pytest.fixture(scope="module")
def verifier() -> SupportModelVerifier:
    return SupportModelVerifier()


def test_a_restated_fact_outscores_a_contradicted_one(verifier):
    restated, _, contradicted = verifier.probabilities(PAIRS)

    assert restated > 0.5 > contradicted


def test_scores_are_probabilities_in_the_order_of_the_pairs(verifier):
    together = verifier.probabilities(PAIRS)
    alone = [verifier.probabilities([pair])[0] for pair in PAIRS]

    assert all(0.0 <= p <= 1.0 for p in together)
    assert together == pytest.approx(alone, abs=1e-5)


def test_onnx_runtime_gives_the_scores_the_torch_network_gives(verifier):
    torch = pytest.importorskip("torch", reason="the torch reference needs the train extra")
    from transformers import AutoTokenizer

    from guard.training.scorer import SupportScorer

    inputs = verifier.pairs(PAIRS, [None] * len(PAIRS))
    tokenizer = AutoTokenizer.from_pretrained(str(verifier.folder))
    encoded = tokenizer([e for e, _ in inputs], [c for _, c in inputs], truncation=True, max_length=verifier.max_length,
                        padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = SupportScorer.load(verifier.folder)(**encoded).numpy()

    assert np.allclose(verifier.runtime.logits(inputs), expected, atol=1e-4)


def test_a_pair_scored_before_is_not_run_through_the_model_again(monkeypatch):
    fresh = SupportModelVerifier()
    first = fresh.probabilities(PAIRS[:2])
    monkeypatch.setattr(fresh.runtime, "logits", lambda inputs: pytest.fail(f"scored again: {inputs}"))

    assert fresh.probabilities(PAIRS[:2]) == pytest.approx(first)


def test_the_question_is_part_of_what_the_model_reads(verifier):
    claim, evidence = PAIRS[0]

    (built,) = verifier.pairs([(claim, evidence)], ["How long do refunds take?"])

    assert "How long do refunds take?" in built[1] and claim in built[1]


def test_thresholds_per_risk_were_chosen_with_the_weights(verifier):
    assert 0.0 < verifier.threshold("medium") <= verifier.threshold("high") < 1.0
    assert verifier.params["chosen_on"]["split"] == "select"


def test_a_folder_without_parameters_names_the_training_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="guard.training.train"):
        SupportModelVerifier(tmp_path)
