import json

import pytest

from guard.verify import contradictions
from guard.verify.offline import OfflineVerifier, params_path

POLICY = ["Customers can request a refund within 30 days of purchase. Refunds are paid to the original payment "
          "method within 5 business days.",
          "The Oberoi Group is a hotel company with its head office in Delhi. It was founded in 1934 by Mohan Singh Oberoi."]


async def support(verifier, claim: str, evidence=POLICY) -> float:
    return (await verifier.score([(claim, evidence)])).probabilities[0]


async def test_a_restated_fact_is_supported(offline_verifier):
    assert await support(offline_verifier, "You can ask for a refund within 30 days of buying.") > 0.5


async def test_an_unrelated_claim_is_unsupported(offline_verifier):
    assert await support(offline_verifier, "The museum opens at nine on Sundays and tickets cost eight euros.") < 0.5


@pytest.mark.parametrize(("right", "wrong"), [
    ("Refunds are paid within 5 business days.", "Refunds are paid within 45 business days."),
    ("The Oberoi Group has its head office in Delhi.", "The Oberoi Group has its head office in Mumbai."),
    ("The Oberoi Group was founded in 1934.", "The Oberoi Group was founded in 1961."),
], ids=["number", "name", "year"])
async def test_a_wrong_number_name_or_date_lowers_support_and_the_specifics_check_makes_it_unsupported(
        offline_verifier, right, wrong):
    # The trees alone move a swapped specific down by ~0.25-0.3; the contradiction cap makes it a verdict.
    assert await support(offline_verifier, wrong) < await support(offline_verifier, right) - 0.2
    capped = contradictions.cap(await support(offline_verifier, wrong), contradictions.find(wrong, POLICY))
    assert capped < offline_verifier.threshold("medium") < await support(offline_verifier, right)


async def test_a_negated_claim_scores_below_the_original(offline_verifier):
    right = await support(offline_verifier, "Customers can request a refund within 30 days of purchase.")
    negated = await support(offline_verifier, "Customers cannot request a refund within 30 days of purchase.")
    assert negated < right


async def test_a_claim_with_no_evidence_is_unsupported(offline_verifier):
    assert (await offline_verifier.score([("Refunds take 30 days.", [])])).probabilities == [0.0]


async def test_scores_come_back_in_pair_order(offline_verifier):
    pairs = [("Refunds are paid within 5 business days.", POLICY), ("Tickets cost eight euros.", POLICY)] * 2
    p = (await offline_verifier.score(pairs)).probabilities
    assert p[0] == pytest.approx(p[2]) and p[1] == pytest.approx(p[3]) and p[0] > p[1]


@pytest.mark.parametrize("pair", [("", ["x"]), ("claim", "a string, not a list"), ("claim",), ("claim", [1])])
async def test_malformed_pairs_are_refused(offline_verifier, pair):
    with pytest.raises(ValueError):
        await offline_verifier.score([pair])


def test_parameters_fitted_on_other_features_are_refused(tmp_path):
    params = json.loads(params_path("offline.json").read_text())
    params["model"]["features"] = params["model"]["features"][:-1]
    stale = tmp_path / "offline.json"
    stale.write_text(json.dumps(params))
    with pytest.raises(ValueError, match="refit"):
        OfflineVerifier(stale)


def test_missing_parameters_name_the_fit_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="guard.training.fit"):
        OfflineVerifier(tmp_path / "absent.json")


async def test_text_the_tokenizer_drops_entirely_still_gets_a_score(offline_verifier):
    scores = await offline_verifier.score([("\u200b\u200b", ["\u200b"]), ("Refunds take 30 days.", ["\u200b x"])])
    assert all(0.0 <= p <= 1.0 for p in scores.probabilities)
