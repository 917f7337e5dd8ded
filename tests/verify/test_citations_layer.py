"""Citation recall and precision on hand-built cases, following the ALCE definitions."""

import pytest

from guard.layers.base import Skip
from guard.layers.citations import CitationsLayer
from guard.layers.support import SupportLayer

REFUNDS = "Refunds are paid within five business days."
SHIPPING = "Express shipping costs twelve dollars."
WEATHER = "The office is closed on public holidays."


async def run(config, make_state, answer, sources, verifier, required=False):
    config.citations.required = required
    state = make_state(answer, sources)
    await CitationsLayer(config, verifier=verifier).run(state)
    return state


async def test_a_correct_citation_has_full_recall_and_precision(config, make_state, word_overlap):
    state = await run(config, make_state, "Refunds are paid within five business days [1].", [REFUNDS, SHIPPING],
                      word_overlap)
    assert state.signals["citations"] == 1.0
    assert [(c.marker, c.source_id, c.valid, c.supports, c.sentence) for c in state.citations] == [
        ("[1]", "doc1", True, True, 0)]


async def test_a_citation_that_does_not_support_its_sentence_fails_recall(config, make_state, word_overlap):
    state = await run(config, make_state, "Refunds are paid within five business days [2].", [REFUNDS, SHIPPING],
                      word_overlap)
    assert state.signals["citations"] == 0.0 and state.citations[0].supports is False


async def test_an_extra_citation_that_adds_nothing_is_irrelevant(config, make_state, word_overlap):
    # [1] alone supports; [3] alone does not and [1] without it still does: [3] is irrelevant.
    state = await run(config, make_state, "Refunds are paid within five business days [1][3].",
                      [REFUNDS, SHIPPING, WEATHER], word_overlap)
    recall, precision = 1.0, 0.5
    assert state.signals["citations"] == pytest.approx(2 * recall * precision / (recall + precision))
    assert [c.supports for c in state.citations] == [True, False]


async def test_citations_needed_together_are_both_relevant(config, make_state, word_overlap):
    # Neither source alone supports the sentence; their union does, and dropping either breaks it.
    state = await run(config, make_state, "Refunds are paid within five business days and express shipping costs "
                      "twelve dollars [1][2].", [REFUNDS, SHIPPING], word_overlap)
    assert state.signals["citations"] == 1.0
    assert [c.supports for c in state.citations] == [False, False]


async def test_a_marker_pointing_at_no_source_is_invalid(config, make_state, word_overlap):
    state = await run(config, make_state, "Refunds are paid within five business days [1][7].", [REFUNDS],
                      word_overlap)
    invalid = [c for c in state.citations if not c.valid]
    assert [(c.marker, c.source_id) for c in invalid] == [("[7]", None)]
    assert state.signals["citations"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)  # recall 1, precision 1/2


async def test_uncited_factual_sentences_are_flagged_when_citations_are_required(config, make_state, word_overlap):
    answer = "Refunds are paid within five business days [1]. Express shipping costs twelve dollars."
    state = await run(config, make_state, answer, [REFUNDS, SHIPPING], word_overlap, required=True)
    assert [(u.sentence, u.text) for u in state.uncited] == [(1, "Express shipping costs twelve dollars.")]
    assert all(c.marker for c in state.citations)
    assert state.signals["citations"] == pytest.approx(2 * 0.5 * 1.0 / 1.5)  # recall 1/2, precision 1


async def test_uncited_sentences_are_left_out_when_citations_are_optional(config, make_state, word_overlap):
    answer = "Refunds are paid within five business days [1]. Express shipping costs twelve dollars."
    state = await run(config, make_state, answer, [REFUNDS, SHIPPING], word_overlap)
    assert state.signals["citations"] == 1.0 and len(state.citations) == 1


async def test_an_answer_without_markers_skips_unless_citations_are_required(config, make_state, word_overlap):
    with pytest.raises(Skip, match="no citation markers"):
        await run(config, make_state, "Refunds are paid within five business days.", [REFUNDS], word_overlap)
    state = await run(config, make_state, "Refunds are paid within five business days.", [REFUNDS], word_overlap,
                      required=True)
    assert state.signals["citations"] == 0.0


async def test_no_sources_skips(config, make_state, word_overlap):
    with pytest.raises(Skip, match="no sources"):
        await run(config, make_state, "Refunds take 30 days [1].", [], word_overlap)


async def test_the_offline_verifier_catches_a_misattributed_citation(config, make_state, offline_verifier):
    state = await run(config, make_state, "Refunds are paid within five business days [1]. Express shipping costs "
                      "twelve dollars [1].", [REFUNDS, SHIPPING], offline_verifier)
    assert [c.supports for c in state.citations] == [True, False]
    assert 0 < state.signals["citations"] < 1


async def test_a_claim_no_source_supports_is_not_asked_about_again(config, make_state, word_overlap):
    asked: list[str] = []

    class Counting(type(word_overlap)):
        async def _score(self, pairs):
            asked.extend(claim for claim, _ in pairs)
            return await super()._score(pairs)

    state = make_state("Refunds are paid within five business days [1]. Refunds are paid in gold bars [2].",
                       [REFUNDS, SHIPPING])
    verifier = Counting()
    await SupportLayer(config, verifier=verifier).run(state)
    asked.clear()
    await CitationsLayer(config, verifier=verifier).run(state)

    assert asked == ["Refunds are paid within five business days."]
    gold = state.citations[1]
    assert (gold.marker, gold.supports, gold.score) == ("[2]", False, 0.0)
