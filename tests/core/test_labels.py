"""A person's verdict becomes a label the same way for calibration and for eval export."""

from guard.labels import edit_label, feedback_label, review_label

DRAFT = "Lumen lamps can be returned within 30 days of delivery for a full refund."


def test_an_approved_answer_is_faithful():
    assert review_label("approved", DRAFT) == "faithful"


def test_a_rejected_answer_is_hallucinated():
    assert review_label("rejected", DRAFT) == "hallucinated"


def test_an_undecided_or_expired_item_has_no_label():
    assert review_label(None, DRAFT) is None
    assert review_label("expired", DRAFT) is None


def test_an_edit_of_punctuation_and_case_only_is_faithful():
    assert review_label("edited", DRAFT, DRAFT.upper().replace(".", "!")) == "faithful"


def test_a_small_polish_is_faithful():
    assert edit_label(DRAFT, DRAFT.replace("lamps", "lamp")) == "faithful"


def test_a_rewrite_of_what_it_said_is_hallucinated():
    assert review_label("edited", DRAFT, "Returns are not accepted; contact support about repairs.") == "hallucinated"


def test_a_middling_edit_says_neither():
    final = "Lumen lamps can be returned within 14 days of delivery for store credit."
    assert edit_label(DRAFT, final) is None


def test_feedback_text_decides_before_the_rating():
    assert feedback_label(DRAFT, rating=-1, final_text=DRAFT) == "faithful"


def test_a_rating_alone_is_a_label():
    assert feedback_label(DRAFT, rating=1) == "faithful"
    assert feedback_label(DRAFT, rating=-1) == "hallucinated"
    assert feedback_label(DRAFT) is None
