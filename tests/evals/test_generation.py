"""Generation suites: the full pipeline answers each question and the answer is scored."""

from __future__ import annotations

import asyncio

import pytest
from rich.console import Console

from guard import Guard, GuardConfig
from guard.evals.generation import citation_precision, citation_recall, source_recall
from guard.evals.arm import run_arm
from guard.evals.suite import load_rows, load_suite
from guard.metadata import Citation, UncitedSentence
from tests.evals.conftest import ScriptedSupport, support_as_confidence, write_suite
from tests.support.fake_upstream import Reply

ANSWER = "Refunds reach your card 5-7 business days after inspection."
FACT_STATED = "Refunds appear within 5-7 business days."
FACT_MISSING = "Return shipping is free in the US."
ROWS = [
    {"id": "refund-time", "question": "How long do refunds take?", "reference_facts": [FACT_STATED, FACT_MISSING],
     "expected_sources": ["refund_policy.md"]},
    {"id": "no-reference", "question": "Say something."},
]
SCORES = {ANSWER: 0.9}  # guard's support for the answer; reference facts go to the real offline verifier


def _config(**sections) -> GuardConfig:
    return GuardConfig(models={"default": "openai/answerer", "max_attempts": 1, "timeout_s": 10},
                       telemetry={"enabled": False}, **sections)


def _run(tmp_path, guard, **suite_fields):
    suite = load_suite(write_suite(tmp_path, ROWS, kind="generation", **suite_fields))
    return asyncio.run(run_arm(suite, load_rows(suite), guard, tmp_path / "out.json", console=Console(quiet=True)))


@pytest.fixture
def guard(upstream) -> Guard:
    upstream.script["answerer"] = [Reply(text=ANSWER, prompt_tokens=40, completion_tokens=12)]
    return Guard(_config(), layers=[ScriptedSupport(SCORES)], confidence=support_as_confidence)


def test_fact_recall_is_the_share_of_reference_facts_the_offline_verifier_finds_in_the_answer(tmp_path, guard):
    report = _run(tmp_path, guard)
    item = next(i for i in report.items if i.id == "refund-time")
    assert item.answer == ANSWER
    assert [(f.fact, f.supported) for f in item.facts] == [(FACT_STATED, True), (FACT_MISSING, False)]
    assert item.fact_recall == 0.5
    assert report.metrics["fact_recall"] == 0.5  # the item without reference facts does not count


def test_usage_tier_and_review_come_from_guards_verdict(tmp_path, guard):
    report = _run(tmp_path, guard)
    item = report.items[0]
    assert (item.prompt_tokens, item.completion_tokens) == (40, 12)
    assert item.tier == "high" and item.flagged is False and item.review_required is False
    assert report.metrics["tokens_per_item"] == 52
    assert report.metrics["tier_high_rate"] == 1.0 and report.metrics["hallucination_rate"] == 0.0
    assert report.metrics["latency_p95_ms"] > 0


def test_a_low_confidence_answer_counts_as_flagged_and_goes_to_review(tmp_path, upstream):
    upstream.script["answerer"] = [Reply(text="Refunds take 90 days.")]
    guard = Guard(_config(), layers=[ScriptedSupport({"Refunds take 90 days.": 0.1, **SCORES})],
                  confidence=support_as_confidence)
    report = _run(tmp_path, guard)
    assert report.metrics["hallucination_rate"] == 1.0
    assert report.metrics["review_rate"] == 1.0
    assert report.metrics["tier_low_rate"] == 1.0


def test_a_model_failure_is_recorded_on_the_item(tmp_path, upstream):
    upstream.script["answerer"] = [Reply(status=400, error_message="bad request")]
    guard = Guard(_config(), layers=[ScriptedSupport(SCORES)], confidence=support_as_confidence)
    report = _run(tmp_path, guard, thresholds={"error_rate": "<= 0.1"})
    assert report.counts.failed == 2
    assert "ModelCallError" in report.items[0].error
    assert report.passed is False


def test_an_llm_judge_gives_the_verdict_on_each_fact_when_configured(tmp_path, guard, upstream):
    upstream.script["judge"] = [Reply(text='{"supported": true, "confidence": 0.9}')]
    report = _run(tmp_path, guard, judge={"kind": "llm", "model": "openai/judge"})
    item = next(i for i in report.items if i.id == "refund-time")
    assert [f.supported for f in item.facts] == [True, True]
    assert upstream.calls_to("judge") == 2


def test_a_judge_reply_that_is_not_a_verdict_fails_the_item(tmp_path, guard, upstream):
    upstream.script["judge"] = [Reply(text="Probably yes.")]
    report = _run(tmp_path, guard, judge={"kind": "llm", "model": "openai/judge"})
    item = next(i for i in report.items if i.id == "refund-time")
    assert item.error.startswith("VerificationError: judge reply is not JSON")
    assert next(i for i in report.items if i.id == "no-reference").ok


def test_source_recall_counts_any_chunk_of_an_expected_document():
    assert source_recall(["refund_policy.md", "shipping.md"], ["refund_policy.md#c2", "warranty.md#c1"]) == 0.5
    assert source_recall([], ["refund_policy.md#c2"]) is None


# Sentence 0 cites [1] (supports) and [2] (does not); sentence 1 cites [3], a source that does not exist;
# sentence 2 has no citation although citations are required.
CITATIONS = [
    Citation(marker="[1]", source_id="a", supports=True, sentence=0),
    Citation(marker="[2]", source_id="b", supports=False, sentence=0),
    Citation(marker="[3]", source_id=None, valid=False, sentence=1),
]
UNCITED = [UncitedSentence(text="Shipping is free.", sentence=2)]


def test_citation_recall_is_the_share_of_cited_sentences_their_citations_support():
    assert citation_recall(CITATIONS, UNCITED) == pytest.approx(1 / 3)
    assert citation_recall([]) is None


def test_citation_precision_is_the_share_of_markers_whose_source_supports_the_sentence():
    assert citation_precision(CITATIONS) == pytest.approx(1 / 3)
