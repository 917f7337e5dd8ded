"""How a draft and its sources are cut up for the item page: what a reviewer sees highlighted and linked."""

from __future__ import annotations

from guard.adapters.server.console.passages import draft_segments, source_passages

DRAFT = "Items can be returned within 30 days [1]. Refunds take 90 days to arrive."
SOURCES = [{"id": "refunds.md#c1", "title": "Refund policy",
            "text": "Gift cards cannot be returned. Items can be returned within 30 days of delivery. Fees stay."}]


def test_an_unsupported_sentence_becomes_its_own_segment_with_its_score():
    segments = draft_segments(DRAFT, [{"text": "Refunds take 90 days to arrive.", "score": 0.08}])

    flagged = [s for s in segments if s.unsupported]
    assert ["".join(p.text for p in s.pieces) for s in flagged] == ["Refunds take 90 days to arrive."]
    assert flagged[0].score == 0.08
    assert "".join(p.text for s in segments for p in s.pieces) == DRAFT


def test_citation_markers_are_pieces_that_name_their_source_number():
    (segment,) = draft_segments(DRAFT, [])

    assert [p.marker for p in segment.pieces if p.marker is not None] == [1]


def test_an_unsupported_claim_not_found_in_the_draft_marks_nothing():
    segments = draft_segments(DRAFT, [{"text": "Something the draft never said.", "score": 0.1}])

    assert not any(s.unsupported for s in segments)


def test_the_cited_span_is_the_source_sentence_the_citing_sentence_relies_on():
    (passage,) = source_passages(DRAFT, SOURCES, [])

    assert passage.cited == "Items can be returned within 30 days of delivery."
    assert passage.before + passage.cited + passage.after == SOURCES[0]["text"]
    assert passage.citing == ["Items can be returned within 30 days."]


def test_a_span_given_by_the_verifier_wins_over_the_word_overlap_guess():
    (passage,) = source_passages(DRAFT, SOURCES, [{"marker": "[1]", "span": "Fees stay."}])

    assert passage.cited == "Fees stay."


def test_a_source_kept_as_a_bare_id_still_gets_a_numbered_passage():
    (passage,) = source_passages(DRAFT, ["refunds.md#c1"], [])

    assert (passage.number, passage.id, passage.cited) == (1, "refunds.md#c1", "")
