"""What a person's verdict on an answer says about it, as a label: one definition for calibration and eval export.

People judge answers in two places: reviewers decide review items, users send feedback (a rating and,
often, the text they really sent). Both become the same two labels the detection suites and the
verifier's calibration use, ``faithful`` and ``hallucinated``, or no label when the verdict does not
say which (a style edit, a thumbs-down on a correct but unhelpful answer is still read as a label:
see ``feedback_label``).

- approved, unedited: faithful.
- rejected: hallucinated.
- edited: by how much the words changed (normalised Levenshtein distance of the case- and
  punctuation-folded text, ``guard.editing``). Up to ``FAITHFUL_EDIT`` (0.1: a word or two in a
  paragraph) the draft was right and polished: faithful. From ``HALLUCINATED_EDIT`` (0.3) on, the
  person rewrote what it said: hallucinated. In between it may be either, so no label.
"""

from __future__ import annotations

from typing import Literal

from guard.editing import edit_distance, is_edited, words

Label = Literal["faithful", "hallucinated"]

FAITHFUL_EDIT = 0.1
HALLUCINATED_EDIT = 0.3


def edit_label(draft: str, final_text: str) -> Label | None:
    """The label of a draft a person changed into ``final_text`` before it was used."""
    if not is_edited(draft, final_text):
        return "faithful"
    distance = edit_distance(" ".join(words(draft)), " ".join(words(final_text)))
    if distance <= FAITHFUL_EDIT:
        return "faithful"
    if distance >= HALLUCINATED_EDIT:
        return "hallucinated"
    return None


def review_label(decision: str | None, draft: str, final_text: str | None = None) -> Label | None:
    """The label of a decided review item (``approved``, ``edited``, ``rejected``); None while undecided or expired."""
    if decision == "approved":
        return "faithful"
    if decision == "rejected":
        return "hallucinated"
    if decision == "edited" and final_text is not None:
        return edit_label(draft, final_text)
    return None


def feedback_label(answer: str, rating: int | None = None, final_text: str | None = None) -> Label | None:
    """The label of a user's feedback: the text they sent says most; a rating alone is weaker but still a label.

    A sent text decides by ``edit_label``. Without one, thumbs up is faithful; thumbs down is read as
    hallucinated, which over-counts (a right but unhelpful answer also gets one): calibration weighs
    reviews first and documents this.
    """
    if final_text is not None:
        return edit_label(answer, final_text)
    if rating is not None and rating > 0:
        return "faithful"
    if rating is not None and rating < 0:
        return "hallucinated"
    return None
