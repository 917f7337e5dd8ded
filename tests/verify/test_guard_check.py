"""Guard.check with the real verification layers: the metadata an app or eval suite reads."""

from pathlib import Path

import pytest

from guard.layers.support import SupportLayer
from guard.config import load_config
from guard.pipeline import Guard
from guard.verify.base import SupportScores, SupportVerifier

SOURCES = [{"id": "refund_policy.md#c2", "title": "Refund policy",
            "text": "Customers can request a refund within 30 days of purchase. Refunds are paid to the original "
                    "payment method within 5 business days."},
           {"id": "shipping.md#c1", "title": "Shipping", "text": "Express shipping costs 12 dollars."}]


@pytest.fixture
def guard(config, offline_verifier):
    return Guard(config)


async def test_a_supported_cited_answer_is_confident(guard):
    meta = await guard.acheck("You can request a refund within 30 days of purchase [1]. Express shipping costs "
                              "12 dollars [2].", SOURCES)
    assert {"support", "citations"} <= set(meta.signals) and meta.tier == "high"
    assert [(c.marker, c.source_id, c.supports) for c in meta.citations] == [
        ("[1]", "refund_policy.md#c2", True), ("[2]", "shipping.md#c1", True)]
    assert meta.unsupported == [] and meta.layers["support"].status == "ok"


async def test_a_wrong_number_lowers_confidence(guard):
    right = await guard.acheck("Refunds are paid within 5 business days [1].", SOURCES)
    wrong = await guard.acheck("Refunds are paid within 90 business days [1].", SOURCES)
    assert wrong.confidence < right.confidence and wrong.citations[0].score < right.citations[0].score


GOLD_BARS = "Refunds are paid within 5 business days [1]. Refunds are paid in gold bars by courier [1]."


async def test_at_high_risk_an_unsupported_sentence_is_listed_and_the_answer_is_low(offline_verifier):
    meta = await Guard(load_config(telemetry={"enabled": False}, product={"risk": "high"})).acheck(GOLD_BARS, SOURCES)
    assert [u.text for u in meta.unsupported] == ["Refunds are paid in gold bars by courier."]
    assert meta.tier == "low"


async def test_at_medium_risk_a_claim_the_verifier_is_unsure_of_lowers_confidence_without_a_flag(guard):
    """Medium risk flags few right answers (its operating point), so a borderline claim lowers confidence only."""
    supported = await guard.acheck("Refunds are paid within 5 business days [1].", SOURCES)
    meta = await guard.acheck(GOLD_BARS, SOURCES)
    assert meta.unsupported == [] and meta.tier == "medium"
    assert meta.confidence < supported.confidence


async def test_checking_without_sources_reports_why_nothing_was_verified(guard):
    meta = await guard.acheck("Refunds are paid within 5 business days.", [])
    assert meta.confidence is None and meta.tier == "low"
    assert meta.layers["support"].reason == "no sources" and meta.layers["consistency"].reason == "disabled"


async def test_the_demo_price_answer_lists_the_invented_price_and_fee(guard):
    subscription = (Path(__file__).resolve().parents[2] / "examples" / "kb" / "subscription.md").read_text()
    answer = ("Lumen Plus increased to $4.99 per month after March 2025. "
              "There is also a fixed monthly fee of $1.50. You can cancel any time.")
    meta = await guard.acheck(answer, [subscription], question="How much does Lumen Plus cost per month?")
    unsupported = {u.text: u.reason for u in meta.unsupported}
    assert "Lumen Plus increased to $4.99 per month after March 2025." in unsupported
    assert "$1.50" in unsupported["There is also a fixed monthly fee of $1.50."]
    assert "You can cancel any time." not in unsupported
    assert meta.tier == "low"


async def test_check_passes_the_question_to_a_verifier_that_reads_it(config):
    seen = []

    class Recording(SupportVerifier):
        name = "recording"
        uses_question = True

        async def _score(self, pairs, question=None):
            seen.append(question)
            return SupportScores([0.9] * len(pairs))

    layer = SupportLayer(config, verifier=Recording())
    await Guard(config, layers=[layer]).acheck("Refunds take 5 days.", SOURCES, question="How long do refunds take?")
    assert seen == ["How long do refunds take?"]
