"""Contradicted and invented specifics, on hand-made claims about the sample knowledge base (examples/kb)."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.verify.contradictions import CONTRADICTED_SUPPORT, cap, find

KB = Path(__file__).resolve().parents[2] / "examples" / "kb"
SUBSCRIPTION = (KB / "subscription.md").read_text()
PRODUCTS = (KB / "products.md").read_text()
REFUNDS = (KB / "refund_policy.md").read_text()


def kinds(claim: str, *sources: str) -> list[str]:
    return [f.kind for f in find(claim, list(sources))]


@pytest.mark.parametrize("claim", [
    "Lumen Plus costs $3.99 per month.",
    "Before 1 March 2025 the monthly price was $2.99.",
    "New subscribers get a 14-day free trial.",
    "Monthly plans are not refunded.",
    "The Lumen Arc Pro has the SKU LUM-P2-GRY.",
    "The Lumen Arc has no battery.",
    "The Arc Pro battery runs the lamp for up to 6 hours.",
    "Subscribers who joined earlier keep the old price until 31 August 2025.",
])
def test_a_claim_that_states_what_the_sources_say_has_no_finding(claim):
    assert find(claim, [SUBSCRIPTION, PRODUCTS]) == []


def test_an_invented_price_is_found():
    assert kinds("Lumen Plus increased to $4.99 per month after March 2025.", SUBSCRIPTION) == ["money"]


def test_an_invented_fee_is_found():
    findings = find("There is also a fixed monthly fee of $1.50.", [SUBSCRIPTION])
    assert [(f.kind, f.text) for f in findings] == [("money", "$1.50")]
    assert "in no source" in findings[0].reason


def test_a_different_duration_is_found():
    assert kinds("New subscribers get a 30-day free trial.", SUBSCRIPTION) == ["quantity"]


def test_a_different_date_is_found():
    assert "date" in kinds("Subscribers who joined earlier keep the old price until 30 September 2025.", SUBSCRIPTION)


def test_a_wrong_sku_is_found():
    assert kinds("The Lumen Arc Pro has the SKU LUM-P3-GRY.", PRODUCTS) == ["identifier"]


def test_a_different_number_of_hours_is_found():
    assert kinds("The Arc Pro battery runs the lamp for up to 8 hours.", PRODUCTS) == ["quantity"]


def test_a_dropped_negation_contradicts_the_best_matching_sentence():
    findings = find("Monthly plans are refunded.", [SUBSCRIPTION])
    assert [f.kind for f in findings] == ["negation"]
    assert "not refunded" in findings[0].sentence


def test_an_added_negation_is_found():
    assert kinds("The Lumen Arc Pro has no battery.", PRODUCTS) == ["negation"]


def test_a_name_in_no_source_is_found():
    assert kinds("You can pay with PayPal.", REFUNDS) == ["name"]


def test_a_name_the_source_states_in_another_form_is_not_a_finding():
    source = "As of 22 March 2020 there are 1870 confirmed cases in 15 Bulgarian provinces."

    assert kinds("There are 1870 confirmed cases in Bulgaria.", source) == []
    assert kinds("There are 1870 confirmed cases in Romania.", source) == ["name"]


def test_a_contradicted_claim_is_capped_low_and_a_clean_one_is_untouched():
    assert cap(0.93, find("New subscribers get a 30-day free trial.", [SUBSCRIPTION])) <= CONTRADICTED_SUPPORT
    assert cap(0.93, find("New subscribers get a 14-day free trial.", [SUBSCRIPTION])) == 0.93


def test_capped_claims_keep_the_verifiers_order_among_themselves():
    findings = find("New subscribers get a 30-day free trial.", [SUBSCRIPTION])

    assert cap(0.2, findings) < cap(0.9, findings) <= CONTRADICTED_SUPPORT


def test_fitted_weights_lower_a_name_in_no_source_less_than_the_cap_would():
    from guard.verify.contradictions import Finding, cap, penalized

    name = [Finding(kind="name", text="Oslo")]
    assert cap(0.9, name) < penalized(0.9, name, {"name": 0.2}) < 0.9


def test_a_kind_of_finding_without_a_fitted_weight_still_caps():
    from guard.verify.contradictions import Finding, cap, penalized

    wrong_price = [Finding(kind="money", text="$129", sentence="The lamp costs $89.")]
    assert penalized(0.9, wrong_price, {"name": 0.2}) == cap(0.9, wrong_price)
